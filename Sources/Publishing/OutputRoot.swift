import Foundation
import Platform

/// The directory runs are published into:
///
/// ```
/// ROOT/
///   .lock                      advisory lock held by the run in progress
///   current -> runs/RUN_ID     the published run (a symlink, swapped atomically)
///   runs/RUN_ID/               complete runs: manifest.json and models/
///   runs/.partial-RUN_ID/      a run being written (removed if it fails)
///   runs/.purged-RUN_ID/       a run withdrawn by the consent purge, being deleted
///   runs/.pruned-RUN_ID/       an old run beyond keep_runs, being deleted
/// ```
///
/// A reader who resolves `current` sees the old complete run or the new complete run, never a
/// half-written one: a run is written and fsynced under a `.partial-` name, renamed into
/// place, and only then is `current` replaced, by renaming a new symlink over it.
public struct OutputRoot: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    var runsPath: String { path + "/runs" }
    var currentPath: String { path + "/current" }

    /// The published run's directory, if any: `current` must name a run directly under
    /// `runs/` (as `runs/NAME`, the way it is always written). A link anywhere else is not a
    /// published run of this root, and nothing is read through it.
    public var currentRun: String? { currentRunName.map { runsPath + "/" + $0 } }

    /// The name under `runs/` that `current` points at, or nil (no link, or a foreign one).
    public var currentRunName: String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: currentPath) else { return nil }
        let parts = target.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "runs", let name = parts.last, !name.isEmpty, !name.hasPrefix("."), name != ".." else { return nil }
        return String(name)
    }

    /// True when `current` exists but is not a link to a run under `runs/`.
    var currentIsForeign: Bool {
        POSIX.exists(currentPath) && currentRunName == nil
    }

    /// Complete runs, oldest first (run ids sort by time).
    public func runs() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runsPath)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Takes the root's advisory lock, or fails at once if another process holds it. The
    /// lock is released when the returned value is released or the process dies.
    /// - Throws: `PublishingError.locked` naming the holder.
    public func lock() throws(PublishingError) -> RunLock {
        try makeDirectories()
        let lockPath = path + "/.lock"
        let file: OpenFile
        do throws(Errno) { file = try .openLockFile(lockPath) } catch { throw .ioFailure(path: lockPath, reason: "cannot open the lock file: \(error)") }
        guard file.tryLockExclusive() else {
            let note = file.read(count: 63, at: 0)
            file.close()
            let holder = String(decoding: note, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw .locked(root: path, holder: holder.isEmpty ? "unknown process" : holder)
        }
        file.replaceContent(with: "pid \(POSIX.processID)\n")
        return RunLock(file: file)
    }

    func makeDirectories() throws(PublishingError) {
        do {
            try FileManager.default.createDirectory(atPath: runsPath, withIntermediateDirectories: true)
        } catch {
            throw .ioFailure(path: runsPath, reason: "cannot create the output directory: \(error.localizedDescription)")
        }
    }

    /// Starts writing a new run. Leftover `.partial-` directories of runs that died are
    /// removed first: they were never published.
    public func beginRun(id: String, seal: ManifestSeal) throws(PublishingError) -> RunWriter {
        try beginRun(id: id, seal: seal, faults: FaultInjection())
    }

    /// `beginRun(id:seal:)` that fails at a chosen write step (crash-safety tests only).
    @_spi(Testing)
    public func beginRun(id: String, seal: ManifestSeal, faults: FaultInjection) throws(PublishingError) -> RunWriter {
        try makeDirectories()
        do { try removeLeftovers() } catch { throw .ioFailure(path: runsPath, reason: "cannot remove the leftovers of a killed run: \(error)") }
        return try RunWriter(root: self, id: id, seal: seal, faults: faults)
    }

    /// Removes the oldest complete runs beyond `keep`, never the current one. Each is first
    /// renamed to a hidden `.pruned-` name, so a crash mid-delete never leaves a visible run
    /// without its manifest; leftovers are removed by the next run.
    @discardableResult
    public func prune(keep: Int) -> [String] {
        let current = currentRun.map { ($0 as NSString).lastPathComponent }
        let all = runs()
        guard all.count > keep else { return [] }
        var removed: [String] = []
        for name in all.prefix(all.count - keep) where name != current {
            guard (try? POSIX.rename(runsPath + "/" + name, to: runsPath + "/.pruned-" + name)) != nil else { continue }
            removed.append(name)
        }
        guard !removed.isEmpty else { return [] }
        try? RunWriter.fsyncDirectory(runsPath)
        for name in removed { try? FileManager.default.removeItem(atPath: runsPath + "/.pruned-" + name) }
        return removed
    }

    /// Hidden leftovers of killed runs: unpublished (`.partial-`), withdrawn (`.purged-`) or
    /// pruned (`.pruned-`) runs, none of them visible as a run. Call only under the lock.
    /// - Throws: when one cannot be removed: it may hold models of any workspace, so the
    ///   purge must not go on as if it were gone.
    func removeLeftovers() throws {
        for name in hiddenEntries(prefix: ".partial-") + hiddenEntries(prefix: ".purged-") + hiddenEntries(prefix: ".pruned-") {
            try FileManager.default.removeItem(atPath: runsPath + "/" + name)
        }
        // A symlink being swapped in for `current` when the process died.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] where name.hasPrefix(".current-") {
            try? POSIX.unlink(path + "/" + name)
        }
    }
}

/// The held lock of an output root.
public final class RunLock: @unchecked Sendable {
    private let file: OpenFile

    init(file: OpenFile) { self.file = file }

    deinit {
        // Cleared first, so a later holder that does not write its pid (another tool) is not
        // named by this run's stale one.
        file.replaceContent(with: "")
        file.unlock()
        file.close()
    }
}

/// Makes a run fail at a chosen write step, so tests can prove that a failure at any step
/// leaves the published run intact. Reached only through `@_spi(Testing) import Publishing`.
@_spi(Testing)
public struct FaultInjection: Sendable {
    /// Fail when this many steps have completed; nil never fails.
    public var failAtStep: Int?

    public init(failAtStep: Int? = nil) { self.failAtStep = failAtStep }
}

/// A simulated crash at a write step.
@_spi(Testing)
public struct InjectedFault: Error, Equatable {
    public let step: Int
}
