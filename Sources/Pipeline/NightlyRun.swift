import Cluster
import Consent
import Evaluation
import Factorization
import Foundation
import Ingest
import Interactions
import Linalg
import Logging
import Platform
import Privacy
@_spi(Testing) import Publishing
import Synchronization

/// Why a nightly run did not publish. Each maps to its own exit status (see `ExitStatus`).
public enum NightlyError: Error, CustomStringConvertible {
    case config(ConfigError)
    case consent(any Error)
    case input(any Error)
    case locked(PublishingError)
    case gate(NightlyReport)
    /// Nothing passed its gate, and no run is current: the consent purge withdrew every
    /// published run (tonight or earlier), or none was ever published. Nothing is published.
    case withdrawn(NightlyReport)
    case audit(NightlyReport)
    case training(TrainingError)
    case io(any Error)
    /// Another rank of a distributed run failed with `status`; rank 0 reports it.
    case otherRank(rank: Int, status: Int32, message: String)

    public var description: String {
        switch self {
        case .config(let e): "\(e)"
        case .consent(let e): "\(e)"
        case .input(let e): "\(e)"
        case .locked(let e): "\(e)"
        case .gate(let r): "no model passed its quality gate; nothing was published and the last run stays current\n" + r.text
        case .withdrawn(let r):
            "no model passed its quality gate, and "
                + (r.purge.withdrewEverything ? "the consent purge withdrew every published run" : "no earlier run is published")
                + ": NOTHING IS PUBLISHED now\n" + r.text
        case .audit(let r): "the privacy audit of the new run failed; nothing was published\n" + r.text
        case .training(let e): "\(e); nothing was published"
        case .io(let e): "\(e)"
        case .otherRank(let rank, _, let message): "rank \(rank): \(message)"
        }
    }
}

/// The nightly job: read and filter once, build every matrix, evaluate each model on held-out
/// data against its quality gate, retrain on all data what passes, audit, publish atomically.
public struct NightlyRun: Sendable {
    public let config: NightlyConfig
    /// The ranks a per-workspace recommender's tuning pools over and a global model's fits
    /// spread over (`ClusterNightlyRun`).
    var collective: any Collective = SingleRank()
    /// Tests only (`@testable import Pipeline`): fail at a chosen write step.
    var faults = FaultInjection()
    /// Tests only: workspace pseudonyms added to the manifest before the audit, to prove the
    /// privacy gate stops a run.
    var injectedWorkspaces: [String] = []
    /// Tests only: fail the consent purge at a chosen step.
    var purgeFaults = FaultInjection()

    public init(config: NightlyConfig) { self.config = config }

    public func execute(logger: Logger, progress: @escaping (RunProgress) -> Void = { _ in }) throws(NightlyError) -> NightlyReport {
        let now = Int64(Date().timeIntervalSince1970)
        let runID = TrainingRun.makeRunID()
        let clock = ContinuousClock()
        let started = clock.now
        do {
            return try execute(runID: runID, now: now, logger: logger, progress: progress)
        } catch {
            reportFailure(error, runID: runID, now: now, after: started.duration(to: clock.now), logger: logger)
            throw error
        }
    }

    /// Whatever the outcome, a report: what failed, and that nothing was published. Gate,
    /// withdrawn and audit failures wrote their full report already.
    func reportFailure(_ error: NightlyError, runID: String, now: Int64, after d: Duration, logger: Logger) {
        switch error {
        case .gate, .withdrawn, .audit: return
        default: break
        }
        let report = NightlyReport.failure(
            runID: runID, asOf: config.asOf ?? now, startedAt: now, policy: config.policy,
            seconds: Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18, error: error)
        Self.writeReport(report, root: OutputRoot(path: config.outputRoot), metricsFile: config.metricsFile, logger: logger)
        logger.info("run finished", metadata: [LogKey.run: "\(runID)", LogKey.status: "\(report.status.rawValue)"])
    }

    /// The nightly job as a sequence of stages; each hands the next a value.
    private func execute(runID: String, now: Int64, logger: Logger, progress: @escaping (RunProgress) -> Void) throws(NightlyError) -> NightlyReport {
        var timer = StageTimer(logger: logger)
        MachineLog.announce(logger)
        let asOf = config.asOf ?? now
        let consent: RunConsent
        do {
            consent = try RunConsent.load(path: config.consentPath, policy: config.policy, keyFile: config.keyFile, asOf: asOf)
        } catch { throw .consent(error) }
        let root = OutputRoot(path: config.outputRoot)
        let lock = try lock(root)
        defer { withExtendedLifetime(lock) {} }
        DurableFile.removeLeftovers(in: root.path + "/reports", olderThan: 600)
        let purge: PurgeOutcome
        do {
            purge = try ConsentErasure(registry: consent.today, pseudonymiser: consent.pseudonymiser, policy: config.policy)
                .purge(root, faults: purgeFaults, logger: logger)
        } catch { throw .io(error) }
        let previous = PreviousRun.read(root, seal: ManifestSeal(pseudonymiser: consent.pseudonymiser))
        // One BLAS thread for the whole run: the scheduler runs its own threads.
        let blasThreads = BLASThreads.current
        BLASThreads.set(1)
        defer { BLASThreads.set(blasThreads) }

        let log = try read(consent, asOf: asOf, logger: logger, progress: progress)
        timer.end("read")
        let judged = try judgeAll(log, consent: consent, previous: previous, timer: &timer, logger: logger, progress: progress)
        var report = NightlyReport(
            runID: runID, status: .published, asOf: Timestamp.format(asOf), startedAt: Timestamp.format(now), seconds: 0,
            stageSeconds: [:], usage: judged.usage, recommenders: judged.summaries, published: [], carriedForward: [],
            dropped: judged.outcome.dropped, purge: purge, auditFindings: [], runDirectory: nil)
        report.machine = BLASCore.summary
        let finish = { (report: inout NightlyReport, status: NightlyReport.Status) in self.finish(&report, status, timer: timer, root: root, logger: logger) }
        guard !judged.outcome.toTrain.isEmpty else {
            // Exit 5 promises that the last run stays current; with no current run (withdrawn
            // tonight, by an earlier purge, or never published) the run says nothing is published.
            finish(&report, purge.nothingPublished ? .withdrawn : .gateFailed)
            throw purge.nothingPublished ? .withdrawn(report) : .gate(report)
        }
        do {
            try publish(judged, log: log, consent: consent, previous: previous, root: root, runID: runID, now: now,
                        report: &report, timer: &timer, logger: logger, progress: progress)
        } catch {
            if case .audit = error { finish(&report, .auditFailed); throw .audit(report) }
            throw error
        }
        finish(&report, .published)
        return report
    }

    /// Takes the output root's lock, or fails at once naming its holder.
    func lock(_ root: OutputRoot) throws(NightlyError) -> RunLock {
        do { return try root.lock() } catch {
            if case .locked = error { throw .locked(error) }
            throw .io(error)
        }
    }

    /// Ingest: every input through consent, validation and retention.
    private func read(_ consent: RunConsent, asOf: Int64, logger: Logger, progress: @escaping (RunProgress) -> Void) throws(NightlyError) -> EventLog {
        do {
            return try EventLogReader(options: config.ingestOptions(asOf: asOf), registry: consent.registry, pseudonymiser: consent.pseudonymiser)
                .read(config.events, logger: logger) { progress(RunProgress(stage: .read, done: $0.rowsRead, total: nil)) }
        } catch { throw .input(error) }
    }

    /// Every recommender's matrices, held-out evaluation and gate decisions.
    struct Judged {
        var usage: RunUsage
        var summaries: [NightlyReport.Recommender] = []
        var outcome = GateOutcome()

        mutating func add(_ j: Judgement) {
            usage.matrices += j.usage
            outcome.toTrain += j.outcome.toTrain
            outcome.toCarry += j.outcome.toCarry
            outcome.dropped += j.outcome.dropped
            summaries.append(j.summary)
        }
    }

    /// One recommender judged: its matrices' usage, the gates' outcome, the report's summary,
    /// and each matrix's held-out sums (what another rank needs to pool the figures).
    struct Judgement {
        var usage: [MatrixUsage]
        var outcome: GateOutcome
        var summary: NightlyReport.Recommender
        var results: [String: HeldOutEvaluation.MatrixResult]
    }

    private func judgeAll(
        _ log: EventLog, consent: RunConsent, previous: PreviousRun, timer: inout StageTimer, logger: Logger,
        progress: @escaping (RunProgress) -> Void
    ) throws(NightlyError) -> Judged {
        var judged = Judged(usage: RunUsage(read: log.usage))
        for rc in config.recommenders {
            let j = try judge(rc, log, consent: consent, previous: previous, timer: &timer, logger: logger, progress: progress)
            judged.add(j)
        }
        return judged
    }

    /// One recommender built, evaluated and gated on `log` (all of it, or a rank's workspaces).
    func judge(
        _ rc: NightlyConfig.Recommender, _ log: EventLog, consent: RunConsent, previous: PreviousRun, timer: inout StageTimer, logger: Logger,
        progress: @escaping (RunProgress) -> Void
    ) throws(NightlyError) -> Judgement {
        let carryRule = carryRule(consent)
        if let parameters = rc.privacy {
            let j = try judgePrivate(rc, parameters, log, consent: consent, previous: previous, carryRule: carryRule, logger: logger)
            timer.end("evaluate")
            return j
        }
        let (matrices, matrixUsage) = InteractionMatrixBuilder(definition: rc.definition, threads: config.threads, collective: collective).build(log)
        timer.end("build")
        let evaluation: HeldOutEvaluation
        do {
            evaluation = try HeldOutEvaluation.run(rc, log: log, split: rc.split.resolved(for: log, definition: rc.definition, collective: collective),
                                                   threads: config.threads,
                                                   logger: logger, collective: collective) {
                progress(RunProgress(stage: .train, done: $0, total: $1))
            }
        } catch { throw Self.classify(error) }
        timer.end("evaluate")
        var stage = GateStage(recommender: rc, previous: previous, carryRule: carryRule)
        stage.collective = collective
        let outcome = stage.decide(matrices, evaluation: evaluation)
        if collective.isLeader || rc.definition.scope == .workspace { logOutcome(outcome, of: rc, logger: logger) }
        let summary = Self.summary(rc, pooled: evaluation.pooled, gates: outcome.gates, previous: previous,
                                   tuning: evaluation.tuning.isEmpty ? nil : evaluation.tuning.sorted { $0.key < $1.key }.map(\.value))
        return Judgement(usage: matrixUsage, outcome: outcome, summary: summary, results: evaluation.results)
    }

    /// What the report says of a recommender evaluated on held-out data.
    static func summary(
        _ rc: NightlyConfig.Recommender, pooled: HeldOutEvaluation.Pooled, gates: [NightlyReport.ModelGate], previous: PreviousRun,
        tuning: [ALSTuning.Choice]?
    ) -> NightlyReport.Recommender {
        let metricKey = "\(rc.gate.metric.rawValue)@\(rc.k)"
        return .init(
            recommender: rc.definition.target, scope: rc.definition.scope, split: rc.split.description, k: rc.k, metric: rc.gate.metric.rawValue,
            model: pooled.published, als: pooled.als, popularity: pooled.popularity,
            lastRun: previous.pooledMetric(metricKey, recommender: rc.definition.target.rawValue), models: gates, tuning: tuning)
    }

    /// Which models of the last run tonight's consent and retention allow to carry forward.
    func carryRule(_ consent: RunConsent) -> CarryForwardRule {
        CarryForwardRule(
            rules: ConsentRules(registry: consent.registry, pseudonymiser: consent.pseudonymiser, policy: config.policy),
            oldestAllowed: config.retentionDays.map { IngestOptions.oldest(asOf: consent.asOf, retentionDays: $0) }, newestAllowed: consent.asOf)
    }

    /// The private global model (`PrivateGlobalModel`): fitted once on its training group,
    /// judged by the noisy release of its held-out group. The report's pooled figures are the
    /// exact held-out ones (the operator's record); the gate and the manifest use the noisy ones.
    private func judgePrivate(
        _ rc: NightlyConfig.Recommender, _ parameters: PrivacyParameters, _ log: EventLog, consent: RunConsent, previous: PreviousRun,
        carryRule: CarryForwardRule, logger: Logger
    ) throws(NightlyError) -> Judgement {
        let stage = PrivateGlobalModel(recommender: rc, parameters: parameters,
                                       secret: consent.pseudonymiser.derivedKey(purpose: PrivateGlobalModel.keyPurpose), threads: config.threads)
        let result: PrivateGlobalModel.Outcome
        do {
            result = try stage.run(log, window: PrivateGlobalModel.window(asOf: consent.asOf, retentionDays: config.retentionDays),
                                   context: PrivateGlobalModel.noiseContext(log, ingest: config.ingestOptions(asOf: consent.asOf),
                                                                             registrySHA256: consent.registry.sha256, recommender: rc, parameters: parameters),
                                   logger: logger)
        } catch { throw Self.classify(error) }
        let gate = GateStage(recommender: rc, previous: previous, carryRule: carryRule)
        let outcome = gate.decide(private: result)
        logOutcome(outcome, of: rc, logger: logger)
        let none = RankingMetrics.Accumulator(k: rc.k).result
        let ranker = outcome.gates.first?.ranker ?? rc.ranker.unjudged
        var summary = NightlyReport.Recommender(
            recommender: rc.definition.target, scope: rc.definition.scope, split: rc.split.description, k: rc.k, metric: rc.gate.metric.rawValue,
            model: result.exact[ranker]?.result ?? none, als: result.exact[.als]?.result ?? none, popularity: result.exact[.popularity]?.result ?? none,
            lastRun: previous.pooledMetric(gate.metricKey, recommender: rc.definition.target.rawValue), models: outcome.gates)
        summary.privacy = NightlyReport.Privacy(plan: result.plan, counts: result.counts)
        return Judgement(usage: [result.usage], outcome: outcome, summary: summary, results: [:])
    }

    /// One line per recommender, counted as the report's summary counts: passed, published
    /// ungated, failed.
    func logOutcome(_ outcome: GateOutcome, of rc: NightlyConfig.Recommender, logger: Logger) {
        let (passed, ungated, failed) = NightlyReport.verdictCounts(outcome.gates)
        logger.info("recommender evaluated", metadata: [
            LogKey.recommender: "\(rc.definition.target.rawValue)", LogKey.models: "\(outcome.gates.count)",
            LogKey.passed: "\(passed)", LogKey.ungated: "\(ungated)", LogKey.failed: "\(failed)",
        ])
    }

    /// Publishing: retrains what passed on all its data, carries what may be carried, stages
    /// the run, audits it against the registry read again now, and publishes it.
    private func publish(
        _ judged: Judged, log: EventLog, consent: RunConsent, previous: PreviousRun, root: OutputRoot, runID: String, now: Int64,
        report: inout NightlyReport, timer: inout StageTimer, logger: Logger, progress: @escaping (RunProgress) -> Void
    ) throws(NightlyError) {
        do {
            let assembly = try RunAssembly(root: root, runID: runID, pseudonymiser: consent.pseudonymiser, faults: faults)
            let toTrain = Self.resolveLastRunStarts(judged.outcome.toTrain, previous: previous)
            report.addTrainingLoss(try train(toTrain, into: assembly, logger: logger, progress: progress))
            Self.reportWarmStarts(toTrain, into: &report)
            try seal(assembly, judged: judged, workspacesRead: RunRecord.workspacesRead(log), consent: consent, previous: previous, now: now,
                     report: &report, timer: &timer)
        } catch { throw Self.classify(error) }
    }

    /// The run completed around its trained models: the last run's models carried, the
    /// manifest staged, the privacy gate, the publish, the pruning of old runs.
    func seal(
        _ assembly: RunAssembly, judged: Judged, workspacesRead: Set<String>, consent: RunConsent, previous: PreviousRun, now: Int64,
        report: inout NightlyReport, timer: inout StageTimer
    ) throws {
        report.published = assembly.entries.map(\.path)
        for entry in judged.outcome.toCarry {
            guard let run = previous.run else { continue }
            report.carriedForward.append(.init(try assembly.carry(entry, from: run), now: now))
        }
        timer.end("train")
        var manifest = try RunRecord(runID: assembly.runID, asOf: consent.asOf, configuration: RunConfiguration(config), consentPath: config.consentPath,
                                     registry: consent.registry, workspacesRead: workspacesRead, usage: judged.usage).manifest(models: assembly.entries)
        manifest.workspacesUsed = (manifest.workspacesUsed + injectedWorkspaces).sorted()
        for summary in judged.summaries {
            guard let tuning = summary.tuning, let i = manifest.recommenders.firstIndex(where: { $0.definition.target == summary.recommender }) else { continue }
            manifest.recommenders[i].tuning = tuning.map {
                Manifest.Tuning(bucket: $0.bucket, hyperparameters: .init($0.configuration), metric: $0.metric, validationScore: $0.validationScore,
                                validationUsers: $0.validationUsers, trials: $0.trials, workspaces: $0.workspaces)
            }
        }
        try privacyGate(try assembly.stage(manifest), assembly: assembly, consent: consent, report: &report)
        report.runDirectory = try assembly.publish()
        _ = assembly.writerRoot.prune(keep: config.keepRuns)
        timer.end("publish")
    }

    /// Each recommender's passed models, trained with its own hyper-parameters, written in the
    /// order the gates decided.
    /// - Returns: the training loss per iteration of each model fitted alone in this process.
    @discardableResult
    func train(_ toTrain: [ModelToTrain], into assembly: RunAssembly, logger: Logger,
               progress: @escaping (RunProgress) -> Void) throws -> [(model: ModelToTrain, loss: [Double])] {
        // Loss curves are recorded by one process only: the report is rank 0's.
        var curves: [(index: Int, loss: [Double])] = []
        let record: ((Int, [Double]) -> Void)? = collective.size == 1 ? { curves.append(($0, $1)) } : nil
        let fitted = try TrainingStage.fit(toTrain, threads: config.threads, collective: collective, logger: logger, loss: record) {
            progress(RunProgress(stage: .train, done: $0, total: $1))
        }
        for (m, model) in zip(toTrain, fitted) {
            // A global model spread over the ranks is written once, by rank 0.
            if !collective.isLeader && m.matrix.persons != nil { continue }
            let warm = m.warmStart != nil, last = m.lastRunStart
            var hyperparameters = ModelFile.Hyperparameters(
                m.als, warmStartIterations: warm ? m.warmStartIterations : nil,
                warmStartSplit: warm && last == nil ? m.recommender.split.description : nil)
            hyperparameters.warmStartModel = last?.sha256
            // A model started from the last run's is shaped by whatever shaped that one.
            let tunedOn = last.map { Array(Set((m.tunedOn ?? []) + ($0.model.tunedOn ?? []))).sorted() }.flatMap { $0.isEmpty ? nil : $0 } ?? m.tunedOn
            try assembly.add(model, of: m.matrix, definition: m.recommender.definition, hyperparameters: hyperparameters,
                             ranker: m.ranker, metrics: m.metrics.isEmpty ? nil : m.metrics, tunedOn: tunedOn,
                             provenance: last.map { m.matrix.provenance.union($0.model.provenance) }, warmStartedFrom: last?.runID,
                             privacy: m.privacy)
        }
        return curves.map { (toTrain[$0.index], $0.loss) }
    }

    /// With `als.warm_start = "last_run"`: each model whose last-run model tonight's rules
    /// allow starts from that model's item factors, matched by id (new items keep their seeded
    /// random start, vanished ones are dropped), when it has the same factor count and knows at
    /// least half of tonight's items; otherwise it keeps its held-out start.
    static func resolveLastRunStarts(_ toTrain: [ModelToTrain], previous: PreviousRun) -> [ModelToTrain] {
        toTrain.map { m in
            guard let entry = m.lastRunModel, let run = previous.run, let file = try? run.checkedModel(entry).file,
                file.itemFactors.columns == m.als.factors
            else { return m }
            let index = Dictionary(file.itemIDs.enumerated().map { ($1, Int32($0)) }) { a, _ in a }
            let itemRows = m.matrix.itemIDs.map { index[$0] ?? -1 }
            guard itemRows.count(where: { $0 >= 0 }) * 2 >= m.matrix.matrix.columns else { return m }
            var started = m
            started.warmStart = WarmStart(itemFactors: file.itemFactors, itemRows: itemRows, users: m.matrix.matrix.rows, configuration: m.als)
            started.lastRunStart = .init(runID: run.manifest.runID, sha256: entry.sha256, model: entry)
            return started
        }
    }

    /// Per recommender: how many models started from the last run, the held-out model, or random factors.
    static func reportWarmStarts(_ toTrain: [ModelToTrain], into report: inout NightlyReport) {
        reportWarmStarts(warmStartTallies(toTrain), into: &report)
    }

    /// How a rank's models started, by recommender (what `reportWarmStarts` adds up).
    struct WarmStartTally: Codable {
        var lastRun = 0, heldOut = 0, random = 0
        var refusals: [String] = []

        mutating func add(_ other: WarmStartTally) {
            lastRun += other.lastRun; heldOut += other.heldOut; random += other.random
            refusals += other.refusals
        }
    }

    static func warmStartTallies(_ toTrain: [ModelToTrain]) -> [String: WarmStartTally] {
        var tallies: [String: WarmStartTally] = [:]
        for m in toTrain {
            var t = tallies[m.recommender.definition.target.rawValue] ?? WarmStartTally()
            if m.lastRunStart != nil { t.lastRun += 1 } else if m.warmStart != nil { t.heldOut += 1 } else { t.random += 1 }
            if let refusal = m.lastRunRefusal { t.refusals.append(refusal) }
            tallies[m.recommender.definition.target.rawValue] = t
        }
        return tallies
    }

    static func reportWarmStarts(_ tallies: [String: WarmStartTally], into report: inout NightlyReport) {
        for i in report.recommenders.indices {
            guard let t = tallies[report.recommenders[i].recommender.rawValue] else { continue }
            report.recommenders[i].warmStarts = ["last run": t.lastRun, "held-out model": t.heldOut, "random factors": t.random]
            if !t.refusals.isEmpty {
                report.recommenders[i].lastRunRefusals = "\(t.refusals.count) could not start from the last run's model: \(t.refusals[0])"
            }
        }
    }

    /// The privacy gate: the staged run audited against the registry as it is now. It fails
    /// closed: a registry that cannot be read again stops the run.
    func privacyGate(_ staged: PublishedRun, assembly: RunAssembly, consent: RunConsent, report: inout NightlyReport) throws(NightlyError) {
        let current: ConsentRegistry
        do { current = try consent.reread() } catch {
            assembly.abandon()
            throw .consent(error)
        }
        let findings = RunAudit(registry: current, pseudonymiser: consent.pseudonymiser, policy: config.policy).check(staged)
        guard findings.isEmpty else {
            assembly.abandon()
            report.auditFindings = findings.map(\.description)
            report.published = []
            report.carriedForward = []
            throw .audit(report)
        }
    }

    /// Ends the run: status, times, the report written beside the runs, a log line.
    func finish(_ report: inout NightlyReport, _ status: NightlyReport.Status, timer: StageTimer, root: OutputRoot, logger: Logger) {
        report.status = status
        report.stageSeconds = timer.seconds
        report.seconds = timer.total
        Self.writeReport(report, root: root, metricsFile: config.metricsFile, logger: logger)
        logger.info("run finished", metadata: [LogKey.run: "\(report.runID)", LogKey.status: "\(status.rawValue)"])
    }

    /// An error of a stage as the run's error (and exit status).
    static func classify(_ error: any Error) -> NightlyError {
        switch error {
        case let e as NightlyError: e
        case let e as TrainingError: .training(e)
        default: .io(error)
        }
    }

    /// Writes the report beside the runs, atomically, whatever the outcome.
    /// Each file is written durably (temporary name, fsync, rename): a kill leaves the whole
    /// report or none, and the next run removes the temporary file.
    /// The job's metrics file (`JobMetrics`) is replaced the same way; a file that cannot be
    /// written is logged (the run's outcome stands: the report and the exit status say it).
    static func writeReport(_ report: NightlyReport, root: OutputRoot, metricsFile: String?, logger: Logger) {
        let metrics = metricsFile ?? JobMetrics.defaultPath(root: root.path)
        do { try JobMetrics.write(report, to: metrics, root: root) } catch {
            logger.error("metrics file not written", metadata: [LogKey.file: "\(metrics)", LogKey.reason: "\(error)"])
        }
        let folder = root.path + "/reports"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if let json = try? encoder.encode(report) { try? DurableFile.write(json, to: "\(folder)/\(report.runID).json") }
        try? DurableFile.write(Data((report.text + "\n").utf8), to: "\(folder)/\(report.runID).txt")
        let page = RunPage(report: report, history: RunPage.history(reportsFolder: folder, before: report))
        try? DurableFile.write(Data(page.render().utf8), to: "\(folder)/\(report.runID).html")
    }
}
