import Crypto
import Events
import Factorization
import Foundation
import Linalg
import Logging
import ModelStore

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
}

/// Reads, filters and indexes events, trains every matrix of every recommender, and
/// publishes the models as one run. Consent is checked before anything else; a failure at
/// any point leaves the published run as it was.
public struct TrainingRun: Sendable {
    public static let toolVersion = "0.1.0"

    public let request: TrainingRequest

    public init(request: TrainingRequest) { self.request = request }

    public func execute(logger: Logger, progress: @escaping (RunProgress) -> Void = { _ in }) throws -> TrainingResult {
        let r = request
        // 1. Consent registry, then the key: either missing stops everything.
        let registry = try ConsentRegistry.load(path: r.consentPath, asOf: r.ingest.asOf)
        let key = try PseudonymKey.load(file: r.keyFile)
        try r.als.validate()
        // 2. One run per output root at a time.
        let root = OutputRoot(path: r.outputRoot)
        let lock = try root.lock()
        defer { withExtendedLifetime(lock) {} }

        // 3. Read and index.
        let reader = EventLogReader(options: r.ingest, registry: registry, pseudonymiser: Pseudonymiser(key: key))
        let log = try reader.read(r.events, logger: logger) { p in
            progress(RunProgress(stage: .read, done: p.rowsRead, total: nil))
        }
        var usage = log.usage
        var built: [(RecommenderDefinition, InteractionMatrix)] = []
        for definition in r.recommenders {
            let (matrices, matrixUsage) = InteractionMatrixBuilder(definition: definition).build(log)
            usage.matrices += matrixUsage
            built += matrices.map { (definition, $0) }
            progress(RunProgress(stage: .build, done: built.count, total: nil))
        }

        // 4. Train and write into a fresh run directory.
        let runID = Self.makeRunID()
        let writer = try root.beginRun(id: runID, faults: r.faults)
        var models: [Manifest.Model] = []
        for (index, (definition, interactions)) in built.enumerated() {
            let model = try ImplicitALS(configuration: r.als).fit(interactions.matrix, logger: logger)
            let file = ModelFile(
                recommender: definition.target.rawValue, scope: definition.scope.rawValue, workspace: interactions.workspace,
                itemIDs: interactions.itemIDs, itemFactors: model.itemFactors,
                userIDs: r.includeUserFactors ? interactions.userIDs : nil, userFactors: r.includeUserFactors ? model.userFactors : nil,
                hyperparameters: ModelFile.Hyperparameters(r.als),
                support: interactions.itemWorkspaceCounts.map {
                    ModelFile.Support(itemWorkspaceCounts: $0, itemUserCounts: interactions.itemUserCounts ?? [],
                                      minWorkspaces: definition.minEmojiWorkspaces, minUsers: definition.minEmojiUsers)
                })
            let data = file.encode()
            let path = "models/\(definition.target.rawValue)/\(interactions.workspace ?? "global").safetensors"
            let sha = try writer.write(data, to: path)
            models.append(Manifest.Model(
                path: path, recommender: definition.target.rawValue, scope: definition.scope.rawValue,
                workspace: interactions.workspace, users: interactions.matrix.rows, items: interactions.matrix.columns,
                factors: r.als.factors, nonZeros: interactions.matrix.nonZeros, bytes: data.count, sha256: sha))
            progress(RunProgress(stage: .train, done: index + 1, total: built.count))
        }

        // 5. The manifest, then publish.
        var inputs: [Manifest.Input] = []
        for file in usage.files {
            inputs.append(Manifest.Input(
                path: file.path, sha256: try Checksum.sha256Hex(file: file.path), rows: file.rows,
                format: file.format.rawValue, gzip: file.gzip))
        }
        let manifest = Manifest(
            toolVersion: Self.toolVersion, runID: runID, createdAt: Timestamp.format(Int64(Date().timeIntervalSince1970)),
            asOf: Timestamp.format(r.ingest.asOf), retentionDays: r.ingest.retentionDays, configDigest: configDigest(),
            inputs: inputs,
            consent: Manifest.Consent(policy: r.ingest.policy, registryPath: r.consentPath, registrySHA256: registry.sha256),
            usage: usage, workspacesUsed: Array(Set(log.workspaces.map { log.vocabulary.workspaces[Int($0)] })).sorted(),
            recommenders: r.recommenders, hyperparameters: r.als, models: models)
        progress(RunProgress(stage: .publish, done: 0, total: 1))
        let directory = try writer.publish(manifest: manifest)
        let pruned = root.prune(keep: r.keepRuns)
        progress(RunProgress(stage: .publish, done: 1, total: 1))
        logger.info("run published", metadata: ["run": "\(runID)", "models": "\(models.count)", "pruned": "\(pruned.count)"])
        return TrainingResult(runDirectory: directory, manifest: manifest, pruned: pruned)
    }

    /// SHA-256 of the canonical JSON of everything configurable except the thread count.
    func configDigest() -> String {
        struct Config: Encodable {
            let recommenders: [RecommenderDefinition]
            let hyperparameters: ModelFile.Hyperparameters
            let policy: ConsentPolicy
            let retentionDays: Int?
            let ignoredColumns: [String]
        }
        let config = Config(
            recommenders: request.recommenders, hyperparameters: ModelFile.Hyperparameters(request.als),
            policy: request.ingest.policy, retentionDays: request.ingest.retentionDays,
            ignoredColumns: request.ingest.ignoredColumns.sorted())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try! encoder.encode(config)
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// A run id that sorts by time: `20261122T120102Z-3fa9`.
    static func makeRunID() -> String {
        let now = Timestamp.format(Int64(Date().timeIntervalSince1970))
        let compact = now.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        return compact + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }
}
