import Crypto
import Evaluation
import Factorization
import Foundation
import Ingest
import Interactions
import Linalg
import Logging
import Platform
import Privacy
import Publishing

/// The global emoji model with (ε, δ) user-level differential privacy
/// (`[recommenders.emoji.privacy]`, docs/privacy.md).
///
/// People are split by a keyed hash into a training and a held-out group (`PrivacyPlan`). The
/// model is fitted **once**, on the training group (`PrivateMatrixBuilder`, `PrivateALS`): that
/// fit is the model published — there is no second fit on all the data. It is judged on the
/// held-out group: each held-out person is folded in from part of their own emoji and ranked
/// against the rest, every ranker of the recommender's policy is scored, and the sums of the
/// gate metric (one per ranker) and the count of people are released once with Gaussian noise.
/// The ranker and the gate's verdict are decided from those noisy means alone, and they are
/// what the manifest records, so every value that decides what is published is covered by ε.
struct PrivateGlobalModel {
    let recommender: NightlyConfig.Recommender
    let parameters: PrivacyParameters
    /// The operator's noise secret (`PrivateGlobalModel.secret(of:)`).
    let secret: SymmetricKey
    let threads: Int

    /// The noisy release that judges the model: each scored ranker's mean of the gate metric
    /// and the number of test people, all from noisy sums.
    struct Judging: Sendable {
        let means: [Ranker: Double]
        let testUsers: Int
    }

    struct Outcome: Sendable {
        let plan: PrivacyPlan
        /// The training group's matrix over the private vocabulary (noisy support counts), and
        /// the model fitted on it; nil when no emoji was admitted.
        let matrix: InteractionMatrix?
        let model: ALSModel?
        let judging: Judging?
        /// The exact held-out sums per ranker: the operator's report only, never published.
        let exact: [Ranker: RankingMetrics.Accumulator]
        let usage: MatrixUsage
        let counts: PrivateMatrixBuilder.PrivacyUsage
    }

    /// The purpose the noise secret is derived for from the operator's key.
    static let keyPurpose = "consentrec differential privacy"

    var plan: PrivacyPlan {
        PrivacyPlan(parameters: parameters, iterations: recommender.als.iterations, alpha: Double(recommender.als.alpha),
                    unobservedWeight: Double(recommender.als.unobservedWeight), judgingSums: recommender.ranker.scored.count)
    }

    /// - Parameters:
    ///   - window: what the run may read (retention window start to `as_of`); the model's provenance.
    ///   - context: what the noise is keyed by beyond the secret and seed (`noiseContext`).
    func run(_ log: EventLog, window: ClosedRange<Int64>, context: String, logger: Logger) throws -> Outcome {
        let fit = try self.fit(log, window: window, context: context, logger: logger)
        let built = fit.built
        guard let matrix = built.training, let model = fit.model else {
            return Outcome(plan: plan, matrix: nil, model: nil, judging: nil, exact: [:], usage: built.usage, counts: built.report)
        }
        let (_, foldIn, test) = fit.builder.heldOutMatrices(log, foldIn: built.heldOutFoldIn, test: built.heldOutTest, vocabulary: matrix.itemIDs)
        let exact = try score(model, foldIn: foldIn, test: test, popularity: built.noisyUsers)
        let judging = NoiseSource(secret: secret, seed: recommender.als.seed, dataDigest: context, release: judgingRelease)
        return Outcome(plan: plan, matrix: matrix, model: model, judging: release(exact, noise: judging), exact: exact,
                       usage: built.usage, counts: built.report)
    }

    /// The private model of the training group, with what built its matrices.
    struct Fit {
        let builder: PrivateMatrixBuilder
        let built: PrivateMatrixBuilder.Result
        /// Nil when no emoji was admitted.
        let model: ALSModel?
    }

    /// The matrices and the model: the part of `run` that `evaluate` shares (the groups depend
    /// on the key and seed alone, so every ε holds out the same people).
    func fit(_ log: EventLog, window: ClosedRange<Int64>, context: String, logger: Logger) throws -> Fit {
        let plan = self.plan, seed = recommender.als.seed
        let groups = NoiseSource(secret: secret, seed: seed, dataDigest: "", release: "groups")
        let noise = NoiseSource(secret: secret, seed: seed, dataDigest: context, release: recommender.definition.target.rawValue)
        let builder = PrivateMatrixBuilder(definition: recommender.definition, plan: plan, groups: groups, noise: noise, split: recommender.split)
        let built = builder.build(log, window: window)
        guard let matrix = built.training else { return Fit(builder: builder, built: built, model: nil) }
        var als = recommender.als
        als.threads = threads
        return Fit(builder: builder, built: built, model: try PrivateALS(configuration: als, plan: plan).fit(matrix.matrix, noise: noise, logger: logger))
    }

    /// Every scored ranker on the held-out people, each folded in from their fold-in part.
    func score(_ model: ALSModel, foldIn: SparseMatrix, test: SparseMatrix, popularity: [Double]) throws -> [Ranker: RankingMetrics.Accumulator] {
        let recommender = Factorization.Recommender(model: model)
        var users = Matrix(rows: foldIn.rows, columns: model.itemFactors.columns)
        for u in 0..<foldIn.rows {
            let row = foldIn.row(u)
            let x = try recommender.userVector(items: row.columns.map(Int.init), weights: Array(row.values))
            for j in x.indices { users[u, j] = x[j] }
        }
        let rankers = self.recommender.ranker.scored
        let sums = RankerTrial.run(rankers, k: self.recommender.k, train: foldIn, test: test,
                                   factors: FactorScorer(userFactors: users, itemFactors: model.itemFactors),
                                   popularity: PopularityBaseline(counts: popularity.map(Float.init)))
        return Dictionary(uniqueKeysWithValues: zip(rankers, sums))
    }

    /// The one noisy release of the held-out group (`judging_sums`): each ranker's sum of the
    /// gate metric (each person adds at most 1 to each) and the count of people, with
    /// `N(0, σ²)` on each; means are clamped to the metric's range [0, 1].
    func release(_ exact: [Ranker: RankingMetrics.Accumulator], noise: NoiseSource) -> Judging {
        let sigma = plan.heldOut.mechanism("judging_sums").noiseScale
        var stream = noise.stream("judging sums")
        let metric = recommender.gate.metric
        let people = Double(exact[.als]?.result.users ?? 0)
        let count = people + sigma * stream.gaussian()
        var means: [Ranker: Double] = [:]
        for ranker in recommender.ranker.scored {
            let result = exact[ranker]!.result
            let sum = metric.value(result) * Double(result.users) + sigma * stream.gaussian()
            // Rounded to 10⁻⁴: the figures decide and are recorded, never their last bits.
            means[ranker] = (min(max(sum / max(count, 1), 0), 1) * 10_000).rounded() / 10_000
        }
        return Judging(means: means, testUsers: max(0, Int(count.rounded())))
    }

    /// What a run at `asOf` may read: from the retention window's start (the epoch without
    /// one) to `asOf`. A private model's provenance gives this span.
    static func window(asOf: Int64, retentionDays: Int?) -> ClosedRange<Int64> {
        max(retentionDays.map { IngestOptions.oldest(asOf: asOf, retentionDays: $0) } ?? 0, Timestamp.range.lowerBound)...asOf
    }

    /// The judging release's own noise: its sums depend on the split, the metric, K and the
    /// rankers scored as well, so each of those gets noise of its own.
    var judgingRelease: String {
        "\(recommender.definition.target.rawValue) judging \(recommender.split.description) \(recommender.gate.metric.rawValue)@\(recommender.k) "
            + recommender.ranker.scored.map(\.description).joined(separator: ",")
    }

    /// What the noise is keyed by beyond the secret and seed: the inputs' checksums (taken
    /// while reading), `as_of`, the registry's checksum, the data options and this model's
    /// definition, hyper-parameters and privacy parameters. The same inputs and configuration
    /// give the same noise (a rerun releases nothing new); any change to what the model is made
    /// from, or how — another file, an opt-out, another ε — gives unrelated noise, so two
    /// releases never share draws that their difference would cancel.
    static func noiseContext(_ log: EventLog, ingest: IngestOptions, registrySHA256: String, recommender: NightlyConfig.Recommender,
                             parameters: PrivacyParameters) -> String {
        let configuration = RunConfiguration(ingest: ingest, includeUserFactors: false, recommenders: [
            .init(definition: recommender.definition, hyperparameters: ModelFile.Hyperparameters(recommender.als), evaluation: nil, ranker: nil,
                  privacy: parameters)
        ])
        let parts = log.usage.files.map(\.sha256) + [String(ingest.asOf), registrySHA256, configuration.digest]
        return Digest.sha256(Data(parts.joined(separator: "\n").utf8))
    }
}
