import Consent
import Evaluation
import Factorization
import Foundation
import Ingest
import Interactions
import Linalg
import Logging
import Platform
import Publishing
import Synchronization

/// Why a nightly run did not publish. Each maps to its own exit status (see `ExitStatus`).
public enum NightlyError: Error, CustomStringConvertible {
    case config(ConfigError)
    case consent(any Error)
    case input(any Error)
    case locked(PublishingError)
    case gate(NightlyReport)
    /// Nothing passed its gate, and the consent purge had withdrawn every published run:
    /// nothing is published now.
    case withdrawn(NightlyReport)
    case audit(NightlyReport)
    case training(TrainingError)
    case io(any Error)

    public var description: String {
        switch self {
        case .config(let e): "\(e)"
        case .consent(let e): "\(e)"
        case .input(let e): "\(e)"
        case .locked(let e): "\(e)"
        case .gate(let r): "no model passed its quality gate; nothing was published and the last run stays current\n" + r.text
        case .withdrawn(let r):
            "no model passed its quality gate, and the consent purge withdrew every published run: NOTHING IS PUBLISHED now\n" + r.text
        case .audit(let r): "the privacy audit of the new run failed; nothing was published\n" + r.text
        case .training(let e): "\(e); nothing was published"
        case .io(let e): "\(e)"
        }
    }
}

/// The nightly job: read and filter once, build every matrix, evaluate each model on held-out
/// data against its quality gate, retrain on all data what passes, audit, publish atomically.
public struct NightlyRun: Sendable {
    public let config: NightlyConfig
    /// Tests only: fail at a chosen write step.
    public var faults = FaultInjection()
    /// Tests only: workspace pseudonyms added to the manifest before the audit, to prove the
    /// privacy gate stops a run.
    public var injectedWorkspaces: [String] = []
    /// Tests only: fail the consent purge at a chosen step.
    public var purgeFaults = FaultInjection()

    public init(config: NightlyConfig) { self.config = config }

    public func execute(logger: Logger, progress: @escaping (RunProgress) -> Void = { _ in }) throws(NightlyError) -> NightlyReport {
        let now = Int64(Date().timeIntervalSince1970)
        let runID = TrainingRun.makeRunID()
        let clock = ContinuousClock()
        let started = clock.now
        do {
            return try execute(runID: runID, now: now, logger: logger, progress: progress)
        } catch {
            switch error {
            case .gate, .withdrawn, .audit:
                break  // these wrote their full report
            default:
                // Whatever the outcome, a report: what failed, and that nothing was published.
                let d = started.duration(to: clock.now)
                let report = NightlyReport.failure(
                    runID: runID, asOf: config.asOf ?? now, startedAt: now, policy: config.policy,
                    seconds: Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18, error: error)
                Self.writeReport(report, root: OutputRoot(path: config.outputRoot))
                logger.info("run finished", metadata: [LogKey.run: "\(runID)", LogKey.status: "\(report.status.rawValue)"])
            }
            throw error
        }
    }

    private func execute(runID: String, now: Int64, logger: Logger, progress: @escaping (RunProgress) -> Void) throws(NightlyError) -> NightlyReport {
        let clock = ContinuousClock()
        let started = clock.now
        var stageSeconds: [String: Double] = [:]
        var stageStart = clock.now
        func endStage(_ name: String) {
            let d = stageStart.duration(to: clock.now)
            stageSeconds[name, default: 0] += Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
            logger.info("stage finished", metadata: [LogKey.stage: "\(name)", LogKey.seconds: "\(stageSeconds[name]!)"])
            stageStart = clock.now
        }
        let asOf = config.asOf ?? now

        // Consent first: the registry, then the key. Either missing stops the run.
        let registry: ConsentRegistry, today: ConsentRegistry, key: PseudonymKey
        do {
            registry = try ConsentRegistry.load(path: config.consentPath, asOf: asOf)
            today = try ConsentErasure.todaysRegistry(path: config.consentPath, asOf: asOf)
            key = try PseudonymKey.load(file: config.keyFile)
        } catch { throw .consent(error) }
        let pseudonymiser = Pseudonymiser(key: key)
        let root = OutputRoot(path: config.outputRoot)
        let lock: RunLock
        do {
            lock = try root.lock()
        } catch {
            if case .locked = error { throw .locked(error) }
            throw .io(error)
        }
        defer { withExtendedLifetime(lock) {} }
        DurableFile.removeLeftovers(in: root.path + "/reports", olderThan: 600)
        // Erasure across runs, before anything is read: what stays is what today's registry allows.
        let purge: PurgeOutcome
        do {
            purge = try ConsentErasure(registry: today, pseudonymiser: pseudonymiser, policy: config.policy).purge(root, faults: purgeFaults, logger: logger)
        } catch { throw .io(error) }
        // The last run, through `current` under runs/ only, and only if its seal holds: its
        // metrics feed the gate and its models may be carried forward.
        let last = root.currentRun.flatMap { try? PublishedRun.open($0, seal: ManifestSeal(pseudonymiser: pseudonymiser)) }
        let carryRule = CarryForwardRule(rules: ConsentRules(registry: registry, pseudonymiser: pseudonymiser, policy: config.policy),
                                         oldestAllowed: config.retentionDays.map { IngestOptions.oldest(asOf: asOf, retentionDays: $0) })
        // One BLAS thread for the whole run: the scheduler runs its own threads.
        let blasThreads = BLASThreads.current
        BLASThreads.set(1)
        defer { BLASThreads.set(blasThreads) }

        let options = config.ingestOptions(asOf: asOf)
        let log: EventLog
        do {
            log = try EventLogReader(options: options, registry: registry, pseudonymiser: pseudonymiser).read(config.events, logger: logger) {
                progress(RunProgress(stage: .read, done: $0.rowsRead, total: nil))
            }
        } catch { throw .input(error) }
        endStage("read")

        var usage = RunUsage(read: log.usage)
        var summaries: [NightlyReport.Recommender] = []
        var toTrain: [(NightlyConfig.Recommender, InteractionMatrix, [String: Double])] = []
        var toCarry: [Manifest.Model] = []
        var dropped: [NightlyReport.DroppedModel] = []
        do {
            for rc in config.recommenders {
                let d = rc.definition
                let (full, fullUsage) = InteractionMatrixBuilder(definition: d).build(log)
                usage.matrices += fullUsage
                endStage("build")
                // Held-out evaluation.
                let split = HeldOutSplit.make(log, definition: d, split: rc.split).pairs
                let trainMatrices = split.map(\.train)
                let models = try TrainingScheduler.fit(trainMatrices.map(\.matrix), configuration: rc.als, threads: config.threads, logger: logger) {
                    progress(RunProgress(stage: .train, done: $0, total: trainMatrices.count))
                }
                // Per-matrix metrics in parallel, merged in matrix order (the same sums every time).
                let k = rc.k
                let perMatrix = Mutex([(RankingMetrics.Accumulator, RankingMetrics.Accumulator)?](repeating: nil, count: trainMatrices.count))
                ParallelFor(threads: config.threads).forEach(chunks: trainMatrices.count) { i in
                    let (train, held) = split[i]
                    var m = RankingMetrics.Accumulator(k: k), p = RankingMetrics.Accumulator(k: k)
                    let scorer = FactorScorer(userFactors: models[i].userFactors, itemFactors: models[i].itemFactors)
                    m.add(train: train.matrix, test: held.test, scores: scorer.scores)
                    p.add(train: train.matrix, test: held.test, scores: PopularityBaseline(train: train.matrix).scores)
                    perMatrix.withLock { $0[i] = (m, p) }
                }
                var pooledModel = RankingMetrics.Accumulator(k: rc.k), pooledPopularity = RankingMetrics.Accumulator(k: rc.k)
                var evaluated: [String: (RankingMetrics, RankingMetrics)] = [:]
                for (i, pair) in perMatrix.withLock({ $0 }).enumerated() {
                    let (m, p) = pair!
                    pooledModel.merge(m); pooledPopularity.merge(p)
                    evaluated[trainMatrices[i].workspace ?? ""] = (m.result, p.result)
                }
                endStage("evaluate")

                let metricKey = "\(rc.gate.metric.rawValue)@\(rc.k)"
                var gates: [NightlyReport.ModelGate] = []
                for matrix in full {
                    let ws = matrix.workspace
                    let previous = last?.manifest.models.first { $0.recommender == d.target.rawValue && $0.workspace == ws }
                    let lastValue = previous?.metrics?[metricKey]
                    let verdict: QualityGate.Verdict
                    var metrics: [String: Double] = [:]
                    if let (m, p) = evaluated[ws ?? ""] {
                        verdict = rc.gate.judge(model: m, popularity: p, lastRun: lastValue)
                        metrics = [metricKey: rc.gate.metric.value(m), "popularity_" + metricKey: rc.gate.metric.value(p), "test_users": Double(m.users)]
                    } else {
                        let reason = "no held-out data for this model"
                        verdict = rc.gate.publishUngated ? .ungated(reason: reason) : .failed(reason: reason + ", and publish_ungated is false")
                    }
                    var carried = false
                    if verdict.publishes {
                        toTrain.append((rc, matrix, metrics))
                    } else if let previous {
                        if let reason = carryRule.refusal(previous) {
                            dropped.append(.init(path: previous.path, reason: reason))
                        } else {
                            toCarry.append(previous)
                            carried = true
                        }
                    }
                    gates.append(.init(workspace: ws, verdict: verdict, testUsers: Int(metrics["test_users"] ?? 0), model: metrics[metricKey],
                                       popularity: metrics["popularity_" + metricKey], lastRun: lastValue, published: verdict.publishes, carriedForward: carried))
                }
                logger.info("recommender evaluated", metadata: [
                    LogKey.recommender: "\(d.target.rawValue)", LogKey.models: "\(gates.count)",
                    LogKey.passed: "\(gates.filter(\.published).count)", LogKey.failed: "\(gates.filter { !$0.published }.count)",
                ])
                let lastPooled = last?.manifest.models.filter { $0.recommender == d.target.rawValue }.compactMap { $0.metrics?[metricKey] }
                summaries.append(.init(recommender: d.target, scope: d.scope, split: rc.split.description, k: rc.k, metric: rc.gate.metric.rawValue,
                                       model: pooledModel.result, popularity: pooledPopularity.result,
                                       lastRun: lastPooled.flatMap { $0.isEmpty ? nil : $0.reduce(0, +) / Double($0.count) }, models: gates))
            }
        } catch let error as TrainingError {
            throw .training(error)
        } catch { throw .io(error) }

        var report = NightlyReport(
            runID: runID, status: .published, asOf: Timestamp.format(asOf), startedAt: Timestamp.format(now), seconds: 0,
            stageSeconds: stageSeconds, usage: usage, recommenders: summaries, published: [], carriedForward: [], dropped: dropped,
            purge: purge, auditFindings: [], runDirectory: nil)
        func finish(_ status: NightlyReport.Status) -> NightlyReport {
            report.status = status
            report.stageSeconds = stageSeconds
            let d = started.duration(to: clock.now)
            report.seconds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
            Self.writeReport(report, root: root)
            logger.info("run finished", metadata: [LogKey.run: "\(runID)", LogKey.status: "\(status.rawValue)"])
            return report
        }
        guard !toTrain.isEmpty else {
            throw purge.withdrewEverything ? .withdrawn(finish(.withdrawn)) : .gate(finish(.gateFailed))
        }

        // Retrain what passed on all the data, and write the run.
        do {
            let writer = try root.beginRun(id: runID, seal: ManifestSeal(pseudonymiser: pseudonymiser), faults: faults)
            var entries: [Manifest.Model] = []
            // Each recommender's models with its own hyper-parameters.
            var fitted = [ALSModel?](repeating: nil, count: toTrain.count)
            for rc in config.recommenders {
                let indices = toTrain.indices.filter { toTrain[$0].0.definition.target == rc.definition.target }
                let models = try TrainingScheduler.fit(indices.map { toTrain[$0].1.matrix }, configuration: rc.als, threads: config.threads, logger: logger) {
                    progress(RunProgress(stage: .train, done: $0, total: indices.count))
                }
                for (j, i) in indices.enumerated() { fitted[i] = models[j] }
            }
            let trainedAt = Timestamp.format(Int64(Date().timeIntervalSince1970))
            for (i, (rc, matrix, metrics)) in toTrain.enumerated() {
                entries.append(try writer.writeModel(
                    matrix, definition: rc.definition, model: fitted[i]!, hyperparameters: .init(rc.als),
                    metrics: metrics.isEmpty ? nil : metrics, trainedAt: trainedAt))
                report.published.append(entries.last!.path)
            }
            for previous in toCarry {
                guard let last else { continue }
                let entry = try writer.carry(previous, from: last)
                entries.append(entry)
                report.carriedForward.append(.init(entry, now: now))
            }
            endStage("train")
            var manifest = try RunRecord(runID: runID, asOf: asOf, configuration: RunConfiguration(config), consentPath: config.consentPath,
                                         registry: registry, log: log, usage: usage).manifest(models: entries)
            manifest.workspacesUsed = (manifest.workspacesUsed + injectedWorkspaces).sorted()
            // The privacy gate: audit the staged run against the registry as it is now.
            // It fails closed: a registry that cannot be read again stops the run.
            let staged = try writer.stage(manifest: manifest)
            let current: ConsentRegistry
            do {
                current = try ConsentErasure.todaysRegistry(path: config.consentPath, asOf: asOf)
            } catch {
                writer.abandon()
                throw NightlyError.consent(error)
            }
            let findings = RunAudit(registry: current, pseudonymiser: pseudonymiser, policy: config.policy).check(staged)
            if !findings.isEmpty {
                writer.abandon()
                report.auditFindings = findings.map(\.description)
                report.published = []
                report.carriedForward = []
                throw NightlyError.audit(finish(.auditFailed))
            }
            let directory = try writer.publishStaged()
            _ = root.prune(keep: config.keepRuns)
            endStage("publish")
            report.runDirectory = directory
            // The report goes beside the runs, never into the sealed run directory: a file the
            // manifest does not list would fail the run's own audit.
            return finish(.published)
        } catch let error as NightlyError {
            throw error
        } catch let error as TrainingError {
            throw .training(error)
        } catch {
            throw .io(error)
        }
    }

    /// Writes the report beside the runs, atomically, whatever the outcome.
    /// Each file is written durably (temporary name, fsync, rename): a kill leaves the whole
    /// report or none, and the next run removes the temporary file.
    static func writeReport(_ report: NightlyReport, root: OutputRoot) {
        let folder = root.path + "/reports"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if let json = try? encoder.encode(report) { try? DurableFile.write(json, to: "\(folder)/\(report.runID).json") }
        try? DurableFile.write(Data((report.text + "\n").utf8), to: "\(folder)/\(report.runID).txt")
    }
}
