import Consent
import Evaluation
import Foundation
import Ingest
import Interactions
import Platform
import Privacy
import Publishing

/// The whole effective configuration of a run — everything that can change what is read,
/// trained or published — in one canonical form. Its digest (SHA-256 of the sorted-key JSON)
/// is the manifest's `configDigest`, computed the same way by `train` and `run`: two runs with
/// the same digest were configured the same way. Left out on purpose: paths, the thread count
/// (it never changes a byte), `keep_runs` and `as_of` (recorded on their own).
public struct RunConfiguration: Sendable, Encodable {
    public struct Data: Sendable, Encodable {
        var format: EventFormat?
        var ignoredColumns: [String]
        var badRowLimit: BadRowLimit
        var slackWorkspaceID: String?
        var keepDeletedUsers: Bool
        var keepSkinTones: Bool
        var policy: ConsentPolicy
        var retentionDays: Int?
        var includeUserFactors: Bool
    }

    public struct Recommender: Sendable, Encodable {
        var definition: RecommenderDefinition
        var hyperparameters: ModelFile.Hyperparameters
        /// The nightly job's held-out evaluation and gate; nil for a hand retrain.
        var evaluation: Evaluation?
        /// A hand retrain's ranker (the nightly's is chosen per model by `evaluation.ranker`).
        var ranker: String?
        /// `[recommenders.emoji.privacy]`; nil (and absent from the digest's JSON) when off.
        var privacy: PrivacyParameters?
    }

    public struct Evaluation: Sendable, Encodable {
        var split: String
        var k: Int
        var gate: QualityGate
        var ranker: RankerPolicy
        var tune: ALSTuning.Plan?
        var warmStart: NightlyConfig.WarmStartSource
    }

    var data: Data
    var recommenders: [Recommender]

    /// SHA-256 of the canonical JSON, in hex.
    public var digest: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = try! encoder.encode(self)
        return Digest.sha256(json)
    }

    init(ingest: IngestOptions, includeUserFactors: Bool, recommenders: [Recommender]) {
        data = Data(
            format: ingest.format, ignoredColumns: ingest.ignoredColumns.sorted(), badRowLimit: ingest.badRowLimit,
            slackWorkspaceID: ingest.slack.workspaceID, keepDeletedUsers: ingest.slack.keepDeletedUsers,
            keepSkinTones: ingest.slack.keepSkinTones, policy: ingest.policy, retentionDays: ingest.retentionDays,
            includeUserFactors: includeUserFactors)
        self.recommenders = recommenders
    }

    /// The configuration of a hand retrain.
    public init(_ request: TrainingRequest) {
        self.init(ingest: request.ingest, includeUserFactors: request.includeUserFactors, recommenders: request.recommenders.map {
            Recommender(definition: $0.definition, hyperparameters: ModelFile.Hyperparameters($0.als), evaluation: nil, ranker: $0.ranker.description,
                        privacy: $0.privacy)
        })
    }

    /// The configuration of a nightly run.
    public init(_ config: NightlyConfig) {
        self.init(ingest: config.ingestOptions(asOf: 0), includeUserFactors: false, recommenders: config.recommenders.map {
            Recommender(definition: $0.definition,
                        hyperparameters: ModelFile.Hyperparameters($0.als, warmStartIterations: $0.warmStartIterations > 0 ? $0.warmStartIterations : nil),
                        evaluation: Evaluation(split: $0.split.description, k: $0.k, gate: $0.gate, ranker: $0.ranker, tune: $0.tune,
                                       warmStart: $0.warmStartFrom), privacy: $0.privacy)
        })
    }

    /// The recommenders as the manifest records them.
    var manifestRecommenders: [Manifest.Recommender] {
        recommenders.map { Manifest.Recommender(definition: $0.definition, hyperparameters: $0.hyperparameters) }
    }
}

extension NightlyConfig {
    /// The reading options of the nightly job at `asOf`.
    public func ingestOptions(asOf: Int64) -> IngestOptions {
        var options = IngestOptions(format: format, ignoredColumns: ignoredColumns, badRowLimit: badRowLimit, policy: policy,
                                    asOf: asOf, retentionDays: retentionDays)
        options.slack = slack
        options.threads = threads  // run.threads: the result does not depend on it
        return options
    }
}
