import Consent
import Factorization
import Foundation
import Ingest
import Interactions
import Linalg
import Logging
import Platform
import Publishing

/// Everything a training run needs to know.
public struct TrainingRequest: Sendable {
    public var events: [String]
    public var consentPath: String
    public var keyFile: String?
    public var ingest: IngestOptions
    public var recommenders: [RecommenderDefinition]
    public var als: ALSConfiguration
    public var outputRoot: String
    /// Complete runs kept after publishing (the current one is never removed).
    public var keepRuns: Int
    /// Publish user factors too (off by default: published models hold item factors only).
    public var includeUserFactors: Bool
    /// Tests only: fail at a chosen write step.
    public var faults: FaultInjection

    public init(
        events: [String], consentPath: String, keyFile: String?, ingest: IngestOptions, recommenders: [RecommenderDefinition],
        als: ALSConfiguration, outputRoot: String, keepRuns: Int = 5, includeUserFactors: Bool = false,
        faults: FaultInjection = FaultInjection()
    ) {
        self.events = events
        self.consentPath = consentPath
        self.keyFile = keyFile
        self.ingest = ingest
        self.recommenders = recommenders
        self.als = als
        self.outputRoot = outputRoot
        self.keepRuns = keepRuns
        self.includeUserFactors = includeUserFactors
        self.faults = faults
    }
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
        // 1. Consent registry, then the key: either missing stops everything.
        let registry = try ConsentRegistry.load(path: r.consentPath, asOf: r.ingest.asOf)
        let today = try ConsentErasure.todaysRegistry(path: r.consentPath, asOf: r.ingest.asOf)
        let key = try PseudonymKey.load(file: r.keyFile)
        try r.als.validate()
        let pseudonymiser = Pseudonymiser(key: key)
        // 2. One run per output root at a time; then erasure across the runs it keeps.
        let root = OutputRoot(path: r.outputRoot)
        let lock = try root.lock()
        defer { withExtendedLifetime(lock) {} }
        let purge = try ConsentErasure(registry: today, pseudonymiser: pseudonymiser, policy: r.ingest.policy).purge(root, logger: logger)

        // 3. Read and index.
        let reader = EventLogReader(options: r.ingest, registry: registry, pseudonymiser: pseudonymiser)
        let log = try reader.read(r.events, logger: logger) { p in
            progress(RunProgress(stage: .read, done: p.rowsRead, total: nil))
        }
        var usage = RunUsage(read: log.usage)
        var built: [(RecommenderDefinition, InteractionMatrix)] = []
        for definition in r.recommenders {
            let (matrices, matrixUsage) = InteractionMatrixBuilder(definition: definition).build(log)
            usage.matrices += matrixUsage
            built += matrices.map { (definition, $0) }
            progress(RunProgress(stage: .build, done: built.count, total: nil))
        }

        // 4. Train and write into a fresh run directory.
        let runID = Self.makeRunID()
        let trainedAt = Timestamp.format(Int64(Date().timeIntervalSince1970))
        let writer = try root.beginRun(id: runID, seal: ManifestSeal(pseudonymiser: pseudonymiser), faults: r.faults)
        var models: [Manifest.Model] = []
        for (index, (definition, interactions)) in built.enumerated() {
            let model = try ImplicitALS(configuration: r.als).fit(interactions.matrix, logger: logger)
            models.append(try writer.writeModel(
                interactions, definition: definition, model: model, hyperparameters: ModelFile.Hyperparameters(r.als),
                includeUserFactors: r.includeUserFactors, trainedAt: trainedAt))
            progress(RunProgress(stage: .train, done: index + 1, total: built.count))
        }

        // 5. The manifest, then publish.
        let record = RunRecord(runID: runID, asOf: r.ingest.asOf, configuration: RunConfiguration(r), consentPath: r.consentPath,
                               registry: registry, log: log, usage: usage)
        let manifest = try record.manifest(models: models)
        progress(RunProgress(stage: .publish, done: 0, total: 1))
        let directory = try writer.publish(manifest: manifest)
        let pruned = root.prune(keep: r.keepRuns)
        progress(RunProgress(stage: .publish, done: 1, total: 1))
        logger.info("run published", metadata: [LogKey.run: "\(runID)", LogKey.models: "\(models.count)", LogKey.pruned: "\(pruned.count)"])
        return TrainingResult(runDirectory: directory, manifest: manifest, pruned: pruned, purge: purge)
    }

    /// A run id that sorts by time, to the millisecond: `20261122T120102.345Z-3fa9`.
    static func makeRunID() -> String {
        let now = Date().timeIntervalSince1970
        let compact = Timestamp.format(Int64(now)).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        let millis = String(format: ".%03dZ", Int((now * 1000).truncatingRemainder(dividingBy: 1000)))
        return compact.replacingOccurrences(of: "Z", with: millis) + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }
}
