import Foundation

/// A published run opened for reading: its directory and manifest.
public struct PublishedRun: Sendable {
    public let directory: String
    public let manifest: Manifest

    public init(directory: String, manifest: Manifest) {
        self.directory = directory
        self.manifest = manifest
    }

    /// Opens an output root (its `current` run), a run directory, or a run's manifest.
    /// - Throws: `ModelStoreError.notARun` when there is no manifest to read.
    public static func open(_ path: String) throws(ModelStoreError) -> PublishedRun {
        var directory = path
        if path.hasSuffix(Manifest.fileName) { directory = (path as NSString).deletingLastPathComponent }
        if !FileManager.default.fileExists(atPath: directory + "/" + Manifest.fileName),
            let current = OutputRoot(path: directory).currentRun
        {
            directory = current
        }
        let manifestPath = directory + "/" + Manifest.fileName
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw .notARun(path: path, reason: "no manifest.json here, and no current run")
        }
        return PublishedRun(directory: directory, manifest: try Manifest.decode(data, path: manifestPath))
    }

    /// Reads one model of the run after checking its checksum against the manifest.
    public func model(_ entry: Manifest.Model) throws(ModelStoreError) -> ModelFile {
        let path = directory + "/" + entry.path
        guard let data = FileManager.default.contents(atPath: path) else { throw .missingFile(path: path) }
        let actual = Hex.sha256(data)
        guard actual == entry.sha256 else { throw .checksumMismatch(path: path, expected: entry.sha256, actual: actual) }
        return try ModelFile.decode(data, path: path)
    }

    /// Checks every model: present, the checksum the manifest records, a valid model file.
    /// - Returns: one problem per bad model (empty when the run is sound).
    public func verify() -> [ModelStoreError] {
        var problems: [ModelStoreError] = []
        for entry in manifest.models {
            do throws(ModelStoreError) { _ = try model(entry) } catch { problems.append(error) }
        }
        return problems
    }
}
