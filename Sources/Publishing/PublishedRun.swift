import Foundation
import Platform

/// A published run opened for reading: its directory and manifest.
public struct PublishedRun: Sendable {
    public let directory: String
    public let manifest: Manifest
    /// The manifest's exact bytes as read, which the seal covers (nil for a manifest built in
    /// memory).
    let manifestData: Data?

    public init(directory: String, manifest: Manifest) {
        self.init(directory: directory, manifest: manifest, manifestData: nil)
    }

    init(directory: String, manifest: Manifest, manifestData: Data?) {
        self.directory = directory
        self.manifest = manifest
        self.manifestData = manifestData
    }

    /// Opens an output root (its `current` run), a run directory, or a run's manifest.
    /// - Throws: `PublishingError.notARun` when there is no manifest to read.
    public static func open(_ path: String) throws(PublishingError) -> PublishedRun {
        var directory = path
        if path.hasSuffix(Manifest.fileName) { directory = (path as NSString).deletingLastPathComponent }
        if !FileManager.default.fileExists(atPath: directory + "/" + Manifest.fileName),
            let current = OutputRoot(path: directory).currentRun
        {
            directory = current
        }
        let manifestPath = directory + "/" + Manifest.fileName
        guard let data = DurableFile.read(manifestPath, maxBytes: Manifest.maxBytes) else {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/runs", isDirectory: &isFolder), isFolder.boolValue {
                throw .nothingPublished(root: path)
            }
            throw .notARun(path: path, reason: "no manifest.json here (or not a regular file of at most \(Manifest.maxBytes >> 20) MiB), and no current run")
        }
        return PublishedRun(directory: directory, manifest: try Manifest.decode(data, path: manifestPath), manifestData: data)
    }

    /// Opens a run as `open` does, then checks its seal under the operator's key.
    /// - Throws: `PublishingError.tampered` when the seal does not hold.
    public static func open(_ path: String, seal: ManifestSeal) throws(PublishingError) -> PublishedRun {
        let run = try open(path)
        if let problem = run.sealProblem(seal) { throw .tampered(path: run.directory, reason: problem) }
        return run
    }

    /// Why the run's seal does not hold under this key, or nil when it does.
    public func sealProblem(_ seal: ManifestSeal) -> String? {
        guard let manifestData else { return "the manifest was not read from the run" }
        return seal.problem(manifest: manifestData, seal: DurableFile.read(directory + "/" + ManifestSeal.fileName, maxBytes: 4096))
    }

    /// Reads one model of the run after checking its checksum against the manifest.
    public func model(_ entry: Manifest.Model) throws(PublishingError) -> ModelFile {
        try checkedModel(entry).file
    }

    /// One model's bytes, read once, checked against the manifest's checksum and decoded:
    /// what a carried-forward copy writes, so the bytes copied are the bytes checked.
    public func checkedModel(_ entry: Manifest.Model) throws(PublishingError) -> (file: ModelFile, bytes: Data) {
        let path = directory + "/" + entry.path
        guard let data = FileManager.default.contents(atPath: path) else { throw .missingFile(path: path) }
        let actual = Digest.sha256(data)
        guard actual == entry.sha256 else { throw .checksumMismatch(path: path, expected: entry.sha256, actual: actual) }
        let file = try ModelFile.decode(data, path: path)
        // What serves and what is audited must be one thing: the file's ranker and tuning
        // record are the manifest entry's.
        if let ranker = entry.ranker, ranker != file.ranker.description {
            throw .corruptModel(path: path, reason: "its ranker '\(file.ranker)' differs from the manifest's '\(ranker)'")
        }
        if entry.tunedOn != file.tunedOn { throw .corruptModel(path: path, reason: "its tuned_on differs from the manifest's") }
        return (file, data)
    }

    /// Checks the run: its seal (when the key is given), every model (present, with the
    /// checksum the manifest records, a valid model file) and that it holds no file the
    /// manifest does not list.
    /// - Returns: one problem each (empty when the run is sound).
    public func verify(seal: ManifestSeal?) -> [PublishingError] {
        var problems: [PublishingError] = []
        if let seal, let problem = sealProblem(seal) { problems.append(.tampered(path: directory, reason: problem)) }
        for entry in manifest.models {
            do throws(PublishingError) { _ = try model(entry) } catch { problems.append(error) }
        }
        problems += unlistedFiles().map { .unlistedFile(path: directory + "/" + $0) }
        return problems
    }

    /// The name of the link, in a run directory, to the run's HTML report.
    public static let reportLinkName = "report.html"

    /// Where a run's report link points: `ROOT/reports/RUN_ID.html`, from `ROOT/runs/RUN_ID/`.
    public static func reportLink(runID: String) -> String { "../../reports/\(runID).html" }

    /// Entries in the run directory that the manifest does not account for (relative paths):
    /// files, links, and directories that hold no listed model (a name can carry data too).
    /// The one link allowed is `report.html` pointing at this run's own report.
    public func unlistedFiles() -> [String] {
        var expected = Set(manifest.models.map(\.path))
        expected.insert(Manifest.fileName)
        expected.insert(ManifestSeal.fileName)
        var folders = Set<String>()
        for path in manifest.models.map(\.path) {
            var parts = path.split(separator: "/").dropLast()
            while !parts.isEmpty { folders.insert(parts.joined(separator: "/")); parts = parts.dropLast() }
        }
        let listing = FolderListing(directory)
        var unlisted = listing.unreadable.map { "\($0) (a folder that cannot be listed)" }
        for (name, kind) in listing.entries where !(kind == .folder ? folders.contains(name) : kind == .file && expected.contains(name)) {
            if kind == .link, name == Self.reportLinkName,
                (try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + name)) == Self.reportLink(runID: manifest.runID) {
                continue
            }
            unlisted.append(name)
        }
        return unlisted.sorted()
    }
}
