import Cluster
import Consent
import Evaluation
import Foundation
import Ingest
import Interactions
import Linalg
import Logging
import Platform
@_spi(Testing) import Publishing

/// The nightly job across the ranks of a distributed run (`consentrec-mpi run`): the stages of
/// `NightlyRun`, each where its data is.
///
/// 1. Rank 0 takes the lock and runs the consent purge; every rank loads the registry and key.
/// 2. The read (`ClusterRead`): pieces read through consent at the reading rank, events moved
///    to the rank owning their workspace (`WorkspaceOwner`), the usage added up everywhere.
/// 3. Per-workspace recommenders are built, evaluated and gated at each owner; rank 0 pools
///    their figures. Tuning per size bucket runs the same search on every rank, pooling each
///    trial's sums (`ALSTuning.tuneAcrossRanks`). A global recommender is built, judged and
///    fitted by every rank in step, each on its own people's rows (`GlobalMatrixBuild`); a
///    private one at rank 0, from the reactions every rank sends it.
/// 4. Each rank trains what passed and writes its model files into the run rank 0 began (a
///    spread global model is fitted by all and written by rank 0);
///    rank 0 gathers their manifest entries in the order one process writes them, carries,
///    audits and publishes, holding the lock.
///
/// The ranks agree after every step that can fail (`Collective.agree`): one rank's failure
/// stops all of them with its exit status, rank 0 writes the report, and `current` is not
/// touched. The model files are the bytes `NightlyRun` writes on the same inputs.
public struct ClusterNightlyRun: Sendable {
    public let config: NightlyConfig
    public let collective: any Collective
    /// The config file's path, for errors that name a key.
    public let configPath: String
    /// Plain files above this size are read in stretches of about this many bytes, by
    /// different ranks (`InputPlan`); the models do not depend on it.
    public var stretchBytes = InputPlan.defaultStretchBytes
    private let single: NightlyRun

    public init(config: NightlyConfig, collective: any Collective, configPath: String) {
        self.config = config
        self.collective = collective
        self.configPath = configPath
        var single = NightlyRun(config: config)
        single.collective = collective
        self.single = single
    }

    /// Runs the job on this rank. - Returns: rank 0's report; nil on the other ranks.
    public func execute(logger: Logger) throws(NightlyError) -> NightlyReport? {
        var w = WireWriter()
        w.int64(Int64(Date().timeIntervalSince1970))
        w.string(TrainingRun.makeRunID())
        var r = WireReader(collective.broadcast(w.bytes))
        guard let now = try? r.int64(), let runID = try? r.string() else { throw .io(WireReader.Malformed(offset: 0, reason: "the run's id")) }
        let clock = ContinuousClock()
        let started = clock.now
        do {
            return try execute(runID: runID, now: now, logger: logger)
        } catch {
            // Rank 0 writes the report of a failed run.
            if collective.isLeader { single.reportFailure(error, runID: runID, now: now, after: started.duration(to: clock.now), logger: logger) }
            throw error
        }
    }

    private func execute(runID: String, now: Int64, logger: Logger) throws(NightlyError) -> NightlyReport? {
        var timer = StageTimer(logger: logger)
        if collective.isLeader { MachineLog.announce(logger) }
        let asOf = config.asOf ?? now
        let consent = try collective.agreed { () throws(NightlyError) in
            do { return try RunConsent.load(path: config.consentPath, policy: config.policy, keyFile: config.keyFile, asOf: asOf) } catch { throw .consent(error) }
        }
        let root = OutputRoot(path: config.outputRoot)
        let (lock, purge) = try collective.agreed { () throws(NightlyError) -> (RunLock?, PurgeOutcome) in
            guard collective.isLeader else { return (nil, PurgeOutcome()) }
            let lock = try single.lock(root)
            DurableFile.removeLeftovers(in: root.path + "/reports", olderThan: 600)
            do {
                return (lock, try ConsentErasure(registry: consent.today, pseudonymiser: consent.pseudonymiser, policy: config.policy).purge(root, logger: logger))
            } catch { throw .io(error) }
        }
        defer { withExtendedLifetime(lock) {} }
        let previous = PreviousRun.read(root, seal: ManifestSeal(pseudonymiser: consent.pseudonymiser))
        try agreeOnPreviousRun(previous, root: root)
        let blasThreads = BLASThreads.current
        BLASThreads.set(1)
        defer { BLASThreads.set(blasThreads) }

        let reader = EventLogReader(options: config.ingestOptions(asOf: asOf), registry: consent.registry, pseudonymiser: consent.pseudonymiser)
        let log = try ClusterRead(collective: collective, reader: reader, stretchBytes: stretchBytes).read(config.events, logger: logger)
        timer.end("read")
        let (judged, local) = try judgeAll(log, consent: consent, previous: previous, timer: &timer, logger: logger)
        var report = NightlyReport(
            runID: runID, status: .published, asOf: Timestamp.format(asOf), startedAt: Timestamp.format(now), seconds: 0,
            stageSeconds: [:], usage: judged.usage, recommenders: judged.summaries, published: [], carriedForward: [],
            dropped: judged.outcome.dropped, purge: purge, auditFindings: [], runDirectory: nil)
        report.machine = BLASCore.summary
        guard collective.sum([local.count])[0] > 0 else {
            var failure: NightlyError?
            if collective.isLeader {
                single.finish(&report, purge.nothingPublished ? .withdrawn : .gateFailed, timer: timer, root: root, logger: logger)
                failure = purge.nothingPublished ? .withdrawn(report) : .gate(report)
            }
            try collective.agree(failure)
            return nil
        }
        try publish(local, judged: judged, log: log, consent: consent, previous: previous, root: root, runID: runID, now: now,
                    report: &report, timer: &timer, logger: logger)
        return collective.isLeader ? report : nil
    }

    /// Every recommender judged where its data is; rank 0 holds the pooled report, each rank
    /// the models it will train.
    private func judgeAll(
        _ log: EventLog, consent: RunConsent, previous: PreviousRun, timer: inout StageTimer, logger: Logger
    ) throws(NightlyError) -> (NightlyRun.Judged, [ModelToTrain]) {
        var judged = NightlyRun.Judged(usage: RunUsage(read: log.usage))
        var local: [ModelToTrain] = []
        for rc in config.recommenders {
            if rc.definition.scope == .global && rc.privacy != nil {
                // The private global model is fitted where its events are gathered: rank 0.
                let events = collective.gatherAtLeader(log, target: rc.definition.target)
                var t = timer
                let judgement = try collective.agreed { () throws(NightlyError) -> NightlyRun.Judgement? in
                    guard let events else { return nil }
                    return try single.judge(rc, events, consent: consent, previous: previous, timer: &t, logger: logger) { _ in }
                }
                timer = t
                if let judgement {
                    judged.add(judgement)
                    local += judgement.outcome.toTrain
                }
            } else if rc.definition.scope == .global {
                // Every rank builds, fits and scores its people's rows, together.
                var t = timer
                let judgement = try collective.agreed { () throws(NightlyError) in
                    try single.judge(rc, log, consent: consent, previous: previous, timer: &t, logger: logger) { _ in }
                }
                timer = t
                if collective.isLeader { judged.add(judgement) }
                local += judgement.outcome.toTrain
            } else {
                var t = timer
                let judgement = try collective.agreed { () throws(NightlyError) in
                    try single.judge(rc, log, consent: consent, previous: previous, timer: &t, logger: logger) { _ in }
                }
                timer = t
                local += judgement.outcome.toTrain
                let shares = collective.gather(JudgementShare(judgement).wire)
                if collective.isLeader {
                    judged.add(try JudgementShare.merged(shares, rc, previous: previous, tuning: judgement.summary.tuning))
                }
            }
        }
        return (judged, local)
    }

    /// Every rank sees the run rank 0 sees as current, or the run stops before anything is
    /// judged: a global recommender's gate and warm start are decided on every rank from it,
    /// and an output root that is not shared would have the ranks decide apart.
    private func agreeOnPreviousRun(_ previous: PreviousRun, root: OutputRoot) throws(NightlyError) {
        let mine = previous.run?.manifest.runID ?? "none"
        let leader = String(decoding: collective.broadcast(Array(mine.utf8)), as: UTF8.self)
        let failure: NightlyError? = mine == leader ? nil : .io(PublishingError.ioFailure(
            path: root.path, reason: "rank 0 sees last run \(leader), this rank sees \(mine): the output root must be storage every rank shares"))
        try collective.agree(failure)
    }

    /// A spread global model starts the same way on every rank, or the run stops: a rank that
    /// could not read the last run's model (which the others read) would start elsewhere.
    private func agreeOnLastRunStarts(_ toTrain: [ModelToTrain]) throws(NightlyError) {
        // Per recommender: 0 no spread model, 1 one from the held-out model or random, 2 one from the last run.
        let mine = config.recommenders.map { rc in
            toTrain.first { $0.matrix.persons != nil && $0.fitted == nil && $0.recommender.definition.target == rc.definition.target }
                .map { $0.lastRunStart == nil ? 1 : 2 } ?? 0
        }
        let leader = collective.gathered(mine)[0]
        guard let bad = mine.indices.first(where: { mine[$0] != leader[$0] }) else { return try collective.agree(nil) }
        let path = toTrain.first { $0.matrix.persons != nil && $0.recommender.definition.target == config.recommenders[bad].definition.target }?
            .lastRunModel?.path ?? "the last run's \(config.recommenders[bad].definition.target.rawValue) model"
        try collective.agree(.io(PublishingError.ioFailure(path: path, reason: "rank 0 starts this model \(Self.start(leader[bad])), this rank "
            + "\(Self.start(mine[bad])): the ranks must read the same last run from shared storage")))
    }

    private static func start(_ code: Int) -> String {
        switch code {
        case 0: "not at all"
        case 1: "without the last run's model"
        default: "from the last run's model"
        }
    }

    /// Each rank trains its models into the run rank 0 began; rank 0 gathers the entries in
    /// the order one process would have written them, then seals and publishes the run.
    private func publish(
        _ local: [ModelToTrain], judged: NightlyRun.Judged, log: EventLog, consent: RunConsent, previous: PreviousRun, root: OutputRoot,
        runID: String, now: Int64, report: inout NightlyReport, timer: inout StageTimer, logger: Logger
    ) throws(NightlyError) {
        let begun = try collective.agreed { () throws(NightlyError) -> RunAssembly? in
            guard collective.isLeader else { return nil }
            do { return try RunAssembly(root: root, runID: runID, pseudonymiser: consent.pseudonymiser, faults: FaultInjection()) } catch { throw NightlyRun.classify(error) }
        }
        let toTrain = NightlyRun.resolveLastRunStarts(local, previous: previous)
        try agreeOnLastRunStarts(toTrain)
        // Every rank has joined the run before any trains: a rank that cannot join (an output
        // root that is not shared) stops every rank here, before rank 0 leads a global fit.
        let assembly = try collective.agreed { () throws(NightlyError) -> RunAssembly in
            do { return try begun ?? RunAssembly(joining: root, runID: runID) } catch { throw NightlyRun.classify(error) }
        }
        // The global models spread over the ranks first, every rank in step; then each rank's own.
        let spread = toTrain.filter { $0.matrix.persons != nil && $0.fitted == nil }
        for part in [spread, toTrain.filter { !($0.matrix.persons != nil && $0.fitted == nil) }] {
            try collective.agreed { () throws(NightlyError) in
                do { try single.train(part, into: assembly, logger: logger) { _ in } } catch { throw NightlyRun.classify(error) }
            }
        }
        // A spread model is counted once, at rank 0.
        let counted = collective.isLeader ? toTrain : toTrain.filter { $0.matrix.persons == nil || $0.fitted != nil }
        let shares = collective.gather(TrainedShare(entries: assembly.entries, tallies: NightlyRun.warmStartTallies(counted),
                                                    workspaces: RunRecord.workspacesRead(log)).wire)
        var failure: NightlyError?
        if collective.isLeader {
            do {
                let merged = try TrainedShare.merged(shares, order: config.recommenders.map(\.definition.target.rawValue))
                assembly.replaceEntries(merged.entries)
                NightlyRun.reportWarmStarts(merged.tallies, into: &report)
                try single.seal(assembly, judged: judged, workspacesRead: merged.workspaces, consent: consent, previous: previous, now: now,
                                report: &report, timer: &timer)
                single.finish(&report, .published, timer: timer, root: root, logger: logger)
            } catch {
                failure = NightlyRun.classify(error)
                if case .audit(let audited) = failure {
                    var r = audited
                    single.finish(&r, .auditFailed, timer: timer, root: root, logger: logger)
                    failure = .audit(r)
                }
            }
        }
        try collective.agree(failure)
    }
}
