import Foundation
import Platform

/// What a purge found and did. Run ids and pseudonyms only.
public struct PurgeOutcome: Sendable, Codable, Equatable {
    public struct Withdrawn: Sendable, Codable, Equatable {
        public let runID: String
        /// The audit's findings (or why the run could not be audited).
        public let reasons: [String]
    }

    /// Complete runs that passed the audit and stay.
    public var kept: [String] = []
    /// Runs removed because they failed the audit.
    public var withdrawn: [Withdrawn] = []
    /// The current run before and after the purge (run ids).
    public var currentBefore: String?
    public var currentAfter: String?

    public init() {}

    /// `currentBefore` when `current` was not a link to a run under `runs/`.
    public static let foreignCurrent = "(current pointed outside runs/)"

    /// True when a run was published before and nothing is now: every run failed the audit.
    public var withdrewEverything: Bool { currentBefore != nil && currentAfter == nil }
    /// True when no run is current after the purge: withdrawn now, by an earlier purge, or
    /// never published.
    public var nothingPublished: Bool { currentAfter == nil }
    public var movedCurrent: Bool { currentBefore != currentAfter }

    /// One line for logs and reports.
    public var summary: String {
        guard !withdrawn.isEmpty || movedCurrent else {
            return "consent purge: every run passed the audit (\(kept.count) kept)"
                + (nothingPublished ? "; NOTHING IS PUBLISHED (no run is current)" : "")
        }
        var text = "consent purge: withdrew \(withdrawn.count) run\(withdrawn.count == 1 ? "" : "s") that failed the audit ("
            + withdrawn.map(\.runID).joined(separator: ", ") + ")"
        if movedCurrent {
            text += currentAfter.map { "; current now points to \($0)" } ?? "; NOTHING IS PUBLISHED now (current removed)"
        }
        return text
    }
}

extension OutputRoot {
    /// Audits every complete run under `runs/` — the current one and every one kept for
    /// rollback — and withdraws each that fails, so that nothing trained on an excluded
    /// workspace stays on disk. The caller holds the root's lock.
    ///
    /// Crash-safe order: `current` first moves to the newest passing run no newer than itself
    /// (never forward past an operator's rollback), or is removed ("nothing published"), so it
    /// never points at a failing run; every failing run is then renamed to a hidden `.purged-`
    /// name (invisible at once), and only then deleted. Leftover `.partial-` runs of killed
    /// processes are deleted too. A purge killed at any point leaves failing runs that are not
    /// current, which the next purge finishes.
    /// - Parameter findings: the audit of one run; a run that cannot be opened fails.
    public func purge(findings: (PublishedRun) -> [RunAudit.Finding]) throws -> PurgeOutcome {
        try purge(faults: FaultInjection(), findings: findings)
    }

    /// `purge(findings:)` that fails at a chosen step (crash-safety tests only).
    @_spi(Testing)
    public func purge(faults: FaultInjection, findings: (PublishedRun) -> [RunAudit.Finding]) throws -> PurgeOutcome {
        var steps = 0
        func step() throws {
            if let fail = faults.failAtStep, steps >= fail { throw InjectedFault(step: steps) }
            steps += 1
        }
        try makeDirectories()
        // Leftovers of killed runs and purges may hold models of any workspace: the caller holds
        // the lock, so none is in progress, and each must go (an error stops the purge).
        try removeLeftovers()
        let outcome = verdicts(findings: findings)
        if outcome.movedCurrent {
            try step()
            if let target = outcome.currentAfter { try pointCurrent(at: target) } else { try withdrawCurrent() }
            try RunWriter.fsyncDirectory(path)
        }
        // Every failing run out of sight first (one rename each, one sync), then deleted.
        for run in outcome.withdrawn {
            try step()
            do throws(Errno) { try POSIX.rename(runsPath + "/" + run.runID, to: runsPath + "/.purged-" + run.runID) } catch {
                throw PublishingError.ioFailure(path: runsPath + "/" + run.runID, reason: "cannot withdraw the run: \(error)")
            }
        }
        if !outcome.withdrawn.isEmpty { try RunWriter.fsyncDirectory(runsPath) }
        for run in outcome.withdrawn {
            try step()
            try FileManager.default.removeItem(atPath: runsPath + "/.purged-" + run.runID)
        }
        return outcome
    }

    /// What the purge will do: each complete run kept or withdrawn (with its reasons), and
    /// where `current` points afterwards. Reads only.
    func verdicts(findings: (PublishedRun) -> [RunAudit.Finding]) -> PurgeOutcome {
        var outcome = PurgeOutcome()
        // A `current` that is not a link to a run under runs/ was not written by ConsentRec: it
        // is withdrawn (fail closed) and the run after the purge publishes afresh.
        outcome.currentBefore = currentIsForeign ? PurgeOutcome.foreignCurrent : currentRunName
        for name in runs() {
            var reasons: [String]
            do throws(PublishingError) {
                let run = try PublishedRun.open(runsPath + "/" + name)
                reasons = findings(run).map(\.description)
                if run.manifest.runID != name { reasons.append("the directory name is not the run id its manifest records") }
            } catch {
                reasons = ["cannot be audited: \(error)"]
            }
            if reasons.isEmpty { outcome.kept.append(name) } else { outcome.withdrawn.append(.init(runID: name, reasons: reasons)) }
        }
        // Never forward past a rollback: the newest passing run no newer than the current one.
        outcome.currentAfter = outcome.currentBefore.flatMap { current in
            guard current != PurgeOutcome.foreignCurrent else { return nil }
            return outcome.kept.contains(current) ? current : outcome.kept.last { $0 < current }
        }
        return outcome
    }

    /// Names under `runs/` with a hidden prefix (`.partial-`, `.purged-`).
    func hiddenEntries(prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: runsPath)) ?? []).filter { $0.hasPrefix(prefix) }
    }

    /// Points `current` at `runs/NAME` atomically: a new symlink under a temporary name,
    /// renamed over `current`. The caller syncs the root directory.
    func pointCurrent(at name: String) throws {
        let temporary = path + "/.current-" + name
        try? POSIX.unlink(temporary)
        do throws(Errno) { try POSIX.symlink("runs/" + name, at: temporary) } catch {
            throw PublishingError.ioFailure(path: temporary, reason: "cannot create the symlink: \(error)")
        }
        do throws(Errno) { try POSIX.rename(temporary, to: currentPath) } catch {
            try? POSIX.unlink(temporary)
            throw PublishingError.ioFailure(path: currentPath, reason: "cannot swap the current run: \(error)")
        }
    }

    /// Removes `current`: the explicit "nothing published" state.
    func withdrawCurrent() throws {
        // A foreign `current` may be a real directory, not a link: removed all the same.
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: currentPath)) == nil, FileManager.default.fileExists(atPath: currentPath) {
            try FileManager.default.removeItem(atPath: currentPath)
            return
        }
        do throws(Errno) { try POSIX.unlink(currentPath) } catch {
            throw PublishingError.ioFailure(path: currentPath, reason: "cannot withdraw the current run: \(error)")
        }
    }
}
