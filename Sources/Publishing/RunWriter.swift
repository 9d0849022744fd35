import Foundation
import Platform

/// Writes one run under `runs/.partial-ID/`, then publishes it (see `OutputRoot`).
public final class RunWriter {
    public let id: String
    let root: OutputRoot
    let partialPath: String
    public var finalPath: String { root.runsPath + "/" + id }
    private var faults: FaultInjection
    private let seal: ManifestSeal
    private var steps = 0
    private var published = false

    init(root: OutputRoot, id: String, seal: ManifestSeal, faults: FaultInjection) throws(PublishingError) {
        self.root = root
        self.id = id
        self.seal = seal
        self.faults = faults
        partialPath = root.runsPath + "/.partial-" + id
        do {
            try FileManager.default.createDirectory(atPath: partialPath + "/models", withIntermediateDirectories: true)
        } catch {
            throw .ioFailure(path: partialPath, reason: "cannot create the run directory: \(error.localizedDescription)")
        }
    }

    /// Removes the unpublished run directory if the run did not reach `publish`.
    deinit { abandon() }

    /// Removes the partial directory; a no-op once published.
    public func abandon() {
        if !published { try? FileManager.default.removeItem(atPath: partialPath) }
    }

    private func step() throws {
        if let fail = faults.failAtStep, steps >= fail { throw InjectedFault(step: steps) }
        steps += 1
    }

    /// Writes `data` at `relativePath` in the run, fsynced. Returns its SHA-256.
    @discardableResult
    public func write(_ data: Data, to relativePath: String) throws -> String {
        try step()
        let target = partialPath + "/" + relativePath
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Self.writeDurably(data, to: target)
        return Digest.sha256(data)
    }

    /// Writes the manifest, makes the run durable, renames it into place and swaps `current`.
    /// - Returns: the published run's directory.
    public func publish(manifest: Manifest) throws -> String {
        _ = try stage(manifest: manifest)
        return try publishStaged()
    }

    /// Writes the manifest and its seal into the unpublished run and returns it for checks
    /// (the audit) before `publishStaged` makes it visible.
    public func stage(manifest: Manifest) throws -> PublishedRun {
        try step()
        let data = manifest.encoded()
        try Self.writeDurably(data, to: partialPath + "/" + Manifest.fileName)
        try Self.writeDurably(seal.seal(data), to: partialPath + "/" + ManifestSeal.fileName)
        try linkReport()
        return PublishedRun(directory: partialPath, manifest: manifest, manifestData: data)
    }

    /// `report.html`, a link to the run's HTML report beside the runs (`PublishedRun.reportLink`):
    /// the report is written when the run ends, so the link dangles until then.
    private func linkReport() throws {
        let path = partialPath + "/" + PublishedRun.reportLinkName
        do throws(Errno) {
            try POSIX.unlink(path)
            try POSIX.symlink(PublishedRun.reportLink(runID: id), at: path)
        } catch {
            throw PublishingError.ioFailure(path: path, reason: "cannot link the run's report: \(error)")
        }
    }

    /// Makes the staged run durable, renames it into place and swaps `current`.
    public func publishStaged() throws -> String {
        try step()
        try Self.fsyncTree(partialPath)
        try step()
        do throws(Errno) { try POSIX.rename(partialPath, to: finalPath) } catch {
            throw PublishingError.ioFailure(path: finalPath, reason: "cannot move the run into place: \(error)")
        }
        // From here the run is complete under its final name but not yet current: a failure
        // removes it again, so a failed run leaves nothing behind.
        do {
            try Self.fsyncDirectory(root.runsPath)
            try step()
            try root.pointCurrent(at: id)
        } catch {
            try? FileManager.default.removeItem(atPath: finalPath)
            throw error
        }
        published = true
        try Self.fsyncDirectory(root.path)
        return finalPath
    }

    static func writeDurably(_ data: Data, to path: String) throws { try DurableFile.write(data, to: path) }

    /// Syncs every directory of a tree, deepest first (`models/channel/` and `models/emoji/`
    /// before `models/`, before the run), so each file's name is durable before its parent's.
    static func fsyncTree(_ path: String) throws {
        for directory in directoriesDeepestFirst(path) { try fsyncDirectory(directory) }
    }

    /// Every directory of a tree, the deepest first (the tree's root last).
    static func directoriesDeepestFirst(_ path: String) -> [String] {
        var directories = [path]
        if let walker = FileManager.default.enumerator(atPath: path) {
            for case let name as String in walker where (walker.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory {
                directories.append(path + "/" + name)
            }
        }
        let depth = { (p: String) in p.split(separator: "/").count }
        return directories.sorted { depth($0) != depth($1) ? depth($0) > depth($1) : $0 < $1 }
    }

    static func fsyncDirectory(_ path: String) throws(PublishingError) {
        do throws(Errno) { try POSIX.syncDirectory(path) } catch { throw .ioFailure(path: path, reason: "cannot sync the directory: \(error)") }
    }
}

/// Where a run's model files are written: the run's own `RunWriter`, or — on the other ranks
/// of a distributed run — the same unpublished directory joined by `OutputRoot.joinRun`.
public protocol RunFileWriting: AnyObject {
    /// Writes `data` at `relativePath` in the unpublished run, fsynced; returns its SHA-256.
    func write(_ data: Data, to relativePath: String) throws -> String
}

extension RunWriter: RunFileWriting {}

/// The unpublished directory of a run that another process began (rank 0 of a distributed
/// run): files are added to it durably; only its owner publishes or abandons it.
public final class JoinedRun: RunFileWriting {
    let partialPath: String

    init(partialPath: String) { self.partialPath = partialPath }

    public func write(_ data: Data, to relativePath: String) throws -> String {
        let target = partialPath + "/" + relativePath
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try RunWriter.writeDurably(data, to: target)
        return Digest.sha256(data)
    }
}

extension OutputRoot {
    /// Joins the unpublished run `id` that another process began with `beginRun`.
    /// - Throws: `PublishingError.ioFailure` when it does not exist (on this machine's view of
    ///   the output root: the root must be shared storage).
    public func joinRun(id: String) throws(PublishingError) -> JoinedRun {
        let partial = runsPath + "/.partial-" + id
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: partial + "/models", isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .ioFailure(path: partial, reason: "the run directory rank 0 began is not here: the output root must be storage every rank shares")
        }
        return JoinedRun(partialPath: partial)
    }
}
