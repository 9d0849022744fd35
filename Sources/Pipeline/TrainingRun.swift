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

/// Everything a training run needs to know.
public struct TrainingRequest: Sendable {
    /// One recommender and how its models are trained.
    public struct Recommender: Sendable {
        public var definition: RecommenderDefinition
        public var als: ALSConfiguration
        /// What its models rank by. A hand retrain has no held-out data to choose by.
        public var ranker: Ranker
        /// The global emoji model's privacy (`[recommenders.emoji.privacy]`): fitted as the
        /// nightly fits it, on the same training people with the same noise.
        public var privacy: PrivacyParameters?

        public init(definition: RecommenderDefinition, als: ALSConfiguration, ranker: Ranker = .als, privacy: PrivacyParameters? = nil) {
            self.definition = definition
            self.als = als
            self.ranker = ranker
            self.privacy = privacy
        }
    }

    public var events: [String]
    public var consentPath: String
    public var keyFile: String?
    public var ingest: IngestOptions
    public var recommenders: [Recommender]
    public var outputRoot: String
    /// Complete runs kept after publishing (the current one is never removed).
    public var keepRuns: Int
    /// Publish user factors too (off by default: published models hold item factors only).
    public var includeUserFactors: Bool
    /// Tests only (`@testable import Pipeline`): fail at a chosen write step.
    var faults = FaultInjection()

    public init(
        events: [String], consentPath: String, keyFile: String?, ingest: IngestOptions, recommenders: [Recommender],
        outputRoot: String, keepRuns: Int = 5, includeUserFactors: Bool = false
    ) {
        self.events = events
        self.consentPath = consentPath
        self.keyFile = keyFile
        self.ingest = ingest
        self.recommenders = recommenders
        self.outputRoot = outputRoot
        self.keepRuns = keepRuns
        self.includeUserFactors = includeUserFactors
    }

    /// Every definition with the same hyper-parameters, ranked by ALS.
    public init(
        events: [String], consentPath: String, keyFile: String?, ingest: IngestOptions, recommenders: [RecommenderDefinition],
        als: ALSConfiguration, outputRoot: String, keepRuns: Int = 5, includeUserFactors: Bool = false
    ) {
        self.init(events: events, consentPath: consentPath, keyFile: keyFile, ingest: ingest,
                  recommenders: recommenders.map { Recommender(definition: $0, als: als) }, outputRoot: outputRoot, keepRuns: keepRuns,
                  includeUserFactors: includeUserFactors)
    }

    /// What `consentrec train --config` retrains when no other option is given: the nightly's
    /// inputs, consent, data options, recommenders (at `run.threads`, each ranked by its
    /// `ranker.unjudged`, private ones private) and output root — without the nightly's
    /// evaluation, gates and tuning.
    public init(nightly config: NightlyConfig, asOf: Int64, includeUserFactors: Bool = false) {
        self.init(events: config.events, consentPath: config.consentPath, keyFile: config.keyFile, ingest: config.ingestOptions(asOf: asOf),
                  recommenders: config.recommendersAtRunThreads.map {
                      Recommender(definition: $0.definition, als: $0.als, ranker: $0.ranker.unjudged, privacy: $0.privacy)
                  },
                  outputRoot: config.outputRoot, keepRuns: config.keepRuns, includeUserFactors: includeUserFactors)
    }

    /// The most threads any recommender trains with (matrices are built with as many).
    var threads: Int { recommenders.map(\.als.threads).max() ?? 1 }
}

/// A stage of a run, for progress display.
public enum RunStage: String, Sendable {
    case read, build, train, write, publish
}

/// Progress within a stage: `done` of `total` units (rows, models, files).
public struct RunProgress: Sendable {
    public let stage: RunStage
    public let done: Int
    public let total: Int?
}

/// The outcome of a published run.
public struct TrainingResult: Sendable {
    public let runDirectory: String
    public let manifest: Manifest
    public let pruned: [String]
    /// What the consent purge withdrew before the run read anything.
    public let purge: PurgeOutcome
}

/// Reads, filters and indexes events, trains every matrix of every recommender, and
/// publishes the models as one run. Consent is checked before anything else; a failure at
/// any point leaves the published run as it was.
public struct TrainingRun: Sendable {
    public static let toolVersion = "0.3.0"

    public let request: TrainingRequest

    public init(request: TrainingRequest) { self.request = request }

    public func execute(logger: Logger, progress: @escaping (RunProgress) -> Void = { _ in }) throws -> TrainingResult {
        let r = request
        MachineLog.announce(logger)
        // 1. Consent registry, then the key: either missing stops everything.
        let consent = try RunConsent.load(path: r.consentPath, policy: r.ingest.policy, keyFile: r.keyFile, asOf: r.ingest.asOf)
        try check()
        // 2. One run per output root at a time; then erasure across the runs it keeps.
        let root = OutputRoot(path: r.outputRoot)
        let lock = try root.lock()
        defer { withExtendedLifetime(lock) {} }
        let purge = try ConsentErasure(registry: consent.today, pseudonymiser: consent.pseudonymiser, policy: r.ingest.policy)
            .purge(root, logger: logger)
        // 3. Read and index.
        let (log, built, usage) = try read(consent, logger: logger, progress: progress)
        // 4. Train and write into a fresh run directory.
        let assembly = try RunAssembly(root: root, runID: Self.makeRunID(), pseudonymiser: consent.pseudonymiser, faults: r.faults)
        for (index, b) in built.enumerated() {
            try train(b, into: assembly, collective: SingleRank(), logger: logger)
            progress(RunProgress(stage: .train, done: index + 1, total: built.count))
        }
        // 5. The manifest, then publish.
        progress(RunProgress(stage: .publish, done: 0, total: 1))
        let result = try publish(assembly, consent: consent, usage: usage, workspacesRead: RunRecord.workspacesRead(log), purge: purge, logger: logger)
        progress(RunProgress(stage: .publish, done: 1, total: 1))
        return result
    }

    /// What is checked before anything is read: every recommender's hyper-parameters, and
    /// that no private model is asked to publish user factors.
    func check() throws {
        for rc in request.recommenders { try rc.als.validate() }
        if request.includeUserFactors, request.recommenders.contains(where: { $0.privacy != nil }) {
            throw TrainingError.invalidConfiguration(field: "user_factors", reason: "a private model never publishes user factors: they are people's own exact solves")
        }
    }

    /// The run's manifest staged and the run published; old runs pruned.
    func publish(
        _ assembly: RunAssembly, consent: RunConsent, usage: RunUsage, workspacesRead: Set<String>, purge: PurgeOutcome, logger: Logger
    ) throws -> TrainingResult {
        let record = RunRecord(runID: assembly.runID, asOf: request.ingest.asOf, configuration: RunConfiguration(request), consentPath: request.consentPath,
                               registry: consent.registry, workspacesRead: workspacesRead, usage: usage)
        let manifest = try record.manifest(models: assembly.entries)
        _ = try assembly.stage(manifest)
        let directory = try assembly.publish()
        let pruned = assembly.writerRoot.prune(keep: request.keepRuns)
        logger.info("run published", metadata: [LogKey.run: "\(assembly.runID)", LogKey.models: "\(manifest.models.count)", LogKey.pruned: "\(pruned.count)"])
        return TrainingResult(runDirectory: directory, manifest: manifest, pruned: pruned, purge: purge)
    }

    /// One matrix to publish a model of; a private model comes fitted, with its plan.
    struct Built {
        let recommender: TrainingRequest.Recommender
        let matrix: InteractionMatrix
        var fitted: ALSModel? = nil
        var privacy: PrivacyPlan? = nil
    }

    /// Reads the events through consent and builds every recommender's matrices (and fits a
    /// private recommender's model, which is made with its matrix).
    private func read(_ consent: RunConsent, logger: Logger, progress: @escaping (RunProgress) -> Void) throws -> (EventLog, [Built], RunUsage) {
        let reader = EventLogReader(options: request.ingest, registry: consent.registry, pseudonymiser: consent.pseudonymiser)
        let log = try reader.read(request.events, logger: logger) { p in
            progress(RunProgress(stage: .read, done: p.rowsRead, total: nil))
        }
        var usage = RunUsage(read: log.usage)
        var built: [Built] = []
        for rc in request.recommenders {
            let (matrices, matrixUsage) = try build(rc, log, consent: consent, logger: logger)
            usage.matrices += matrixUsage
            built += matrices
            progress(RunProgress(stage: .build, done: built.count, total: nil))
        }
        return (log, built, usage)
    }

    /// One recommender's matrices from `log` (all of it, or a rank's workspaces), and a
    /// private recommender's model, which is made with its matrix.
    func build(
        _ rc: TrainingRequest.Recommender, _ log: EventLog, consent: RunConsent, collective: any Collective = SingleRank(), logger: Logger
    ) throws -> ([Built], [MatrixUsage]) {
        var rc = rc
        guard let parameters = rc.privacy else {
            let (matrices, matrixUsage) = InteractionMatrixBuilder(definition: rc.definition, threads: request.threads, collective: collective).build(log)
            return (matrices.map { Built(recommender: rc, matrix: $0) }, matrixUsage)
        }
        rc.als.solver = .cholesky  // the private item solves are Cholesky's, whatever was asked
        var nightly = NightlyConfig.Recommender(definition: rc.definition, als: rc.als, warmStartIterations: 0, split: .random(fraction: 0.2, seed: 0))
        nightly.privacy = parameters
        let stage = PrivateGlobalModel(recommender: nightly, parameters: parameters,
                                       secret: consent.pseudonymiser.derivedKey(purpose: PrivateGlobalModel.keyPurpose), threads: rc.als.threads)
        let fit = try stage.fit(log, window: PrivateGlobalModel.window(asOf: consent.asOf, retentionDays: request.ingest.retentionDays),
                                context: PrivateGlobalModel.noiseContext(log, ingest: request.ingest, registrySHA256: consent.registry.sha256,
                                                                         recommender: nightly, parameters: parameters),
                                logger: logger)
        guard let matrix = fit.built.training, let model = fit.model else { return ([], [fit.built.usage]) }
        return ([Built(recommender: rc, matrix: matrix, fitted: model, privacy: stage.plan)], [fit.built.usage])
    }

    /// One matrix's model fitted (a global one with every rank of `collective`, each fitting
    /// its people's rows) and added to the run — a spread global model by rank 0.
    func train(_ b: Built, into assembly: RunAssembly, collective: any Collective, logger: Logger) throws {
        let model = try b.fitted ?? TrainingScheduler.Job(b.matrix, configuration: b.recommender.als, collective: collective)
            .fit(threads: b.recommender.als.threads, logger: logger)
        let users = request.includeUserFactors ? SpreadUsers.gathered(model, of: b.matrix, collective: collective) : nil
        guard collective.isLeader || b.matrix.persons == nil else { return }
        try assembly.add(model, of: b.matrix, definition: b.recommender.definition, hyperparameters: .init(b.recommender.als), ranker: b.recommender.ranker,
                         includeUserFactors: request.includeUserFactors, users: users, privacy: b.privacy)
    }

    /// A run id that sorts by time, to the millisecond: `20261122T120102.345Z-3fa9`.
    static func makeRunID() -> String {
        let now = Date().timeIntervalSince1970
        let compact = Timestamp.format(Int64(now)).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        let millis = String(format: ".%03dZ", Int((now * 1000).truncatingRemainder(dividingBy: 1000)))
        return compact.replacingOccurrences(of: "Z", with: millis) + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }
}
