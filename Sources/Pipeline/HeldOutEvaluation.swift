import Cluster
import Evaluation
import Factorization
import Ingest
import Interactions
import Linalg
import Logging
import Synchronization

/// One recommender evaluated on held-out data: a model trained on the training part of each
/// matrix, every ranker its `RankerPolicy` allows scored on the held-out part, and the ranker
/// each model will publish chosen from its own results.
///
/// Works on any part of the data: a workspace shard's events give that shard's matrices and
/// the same results for each of them as the whole log does, and `merging` the shards' results
/// gives the whole run's result, pooled figures included — except for a recommender tuned per
/// size bucket, whose tuning pools the bucket's workspaces across shards.
public struct HeldOutEvaluation: Sendable {
    /// One matrix's held-out sums: ALS's, popularity's and the chosen ranker's.
    public struct MatrixResult: Sendable {
        public let als: RankingMetrics.Accumulator
        public let popularity: RankingMetrics.Accumulator
        public let published: RankingMetrics.Accumulator
        /// What the model publishes.
        public let ranker: Ranker
        /// False when the model had too few test users to choose by (`RankerPolicy.unjudged`).
        public let judged: Bool
    }

    /// Pooled metrics of one recommender: ALS, popularity, and each model's published ranker.
    public struct Pooled: Sendable, Equatable {
        public let als: RankingMetrics
        public let popularity: RankingMetrics
        public let published: RankingMetrics
    }

    /// Per workspace pseudonym ("" for the global model).
    public let results: [String: MatrixResult]
    public let k: Int
    /// Per workspace pseudonym ("" for the global model): the model trained on the training
    /// part, with its rows' and columns' ids — where the full model starts (`WarmStart`).
    public let models: [String: HeldOutModel]
    /// What tuning chose, by bucket, when the recommender is tuned (`[recommenders.X.tune]`).
    public var tuning: [Int: ALSTuning.Choice] = [:]
    /// Per workspace pseudonym ("" for the global model) of a tuned recommender: its bucket.
    public var buckets: [String: Int] = [:]

    /// The hyper-parameters of a matrix's models: its bucket's tuned ones, or the configured.
    public func configuration(for workspace: String?, configured: ALSConfiguration) -> ALSConfiguration {
        buckets[workspace ?? ""].flatMap { tuning[$0]?.configuration } ?? configured
    }

    /// The workspaces whose validation events chose a matrix's hyper-parameters (nil: not tuned).
    public func tunedOn(_ workspace: String?) -> [String]? {
        buckets[workspace ?? ""].flatMap { tuning[$0] }.flatMap { $0.validationScore == nil ? nil : $0.workspaces }
    }

    /// Pooled over every evaluated matrix, merged in pseudonym order: the same sums whichever
    /// shards the matrices were evaluated in.
    public var pooled: Pooled {
        var als = RankingMetrics.Accumulator(k: k), popularity = als, published = als
        for key in results.keys.sorted() {
            als.merge(results[key]!.als)
            popularity.merge(results[key]!.popularity)
            published.merge(results[key]!.published)
        }
        return Pooled(als: als.result, popularity: popularity.result, published: published.result)
    }

    /// The shards' results as one; each matrix must have been evaluated in one shard only.
    public static func merging(_ shards: [HeldOutEvaluation], k: Int) -> HeldOutEvaluation {
        var merged = HeldOutEvaluation(
            results: shards.reduce(into: [:]) { all, shard in
                all.merge(shard.results) { _, _ in preconditionFailure("a matrix evaluated in two shards") }
            }, k: k,
            models: shards.reduce(into: [:]) { all, shard in all.merge(shard.models) { a, _ in a } })
        merged.buckets = shards.reduce(into: [:]) { all, shard in all.merge(shard.buckets) { a, _ in a } }
        // Tuning per bucket pools workspaces: shards of a tuned recommender must share one tuning.
        let tunings = shards.map(\.tuning).filter { !$0.isEmpty }
        precondition(tunings.allSatisfy { $0 == tunings[0] }, "shards tuned apart cannot be merged")
        merged.tuning = tunings.first ?? [:]
        return merged
    }

    /// - Parameter split: `rc.split` resolved on the whole log (`SplitStrategy.resolved(for:definition:)`),
    ///   so that a shard is split as it is inside the whole. With `rc.tune`, the hyper-parameters
    ///   are first tuned on a validation split carved from the training part (per size bucket
    ///   for a per-workspace recommender, which pools the bucket's workspaces: such a run is not
    ///   the union of its shards).
    public static func run(
        _ rc: NightlyConfig.Recommender, log: EventLog, split: SplitStrategy, threads: Int, logger: Logger,
        collective: any Collective = SingleRank(), progress: @escaping (Int, Int) -> Void
    ) throws -> HeldOutEvaluation {
        let split = HeldOutSplit.make(log, definition: rc.definition, split: split, threads: threads, collective: collective).pairs
        var tuning: [Int: ALSTuning.Choice] = [:], buckets: [String: Int] = [:]
        if let plan = rc.tune {
            for (train, _) in split {
                buckets[train.workspace ?? ""] = rc.definition.scope == .global ? 0 : ALSTuning.bucket(users: train.matrix.rows)
            }
            var base = rc.als
            base.threads = threads
            // The configured split, not the resolved one: a global `temporal:F` resolved on the
            // whole log is a cutoff time, which says nothing about the training part's last F.
            let validation = ALSTuning.validation(log, definition: rc.definition, split: rc.split, preSplit: false, threads: threads, collective: collective)
            var tuner = ALSTuning(definition: rc.definition, base: base, plan: plan, metric: rc.gate.metric, k: rc.k)
            tuner.collective = collective
            tuning = try tuner.tune(validation: validation, bucketOf: { [buckets] in buckets[$0] ?? 0 }, logger: logger)
        }
        let jobs = split.map { pair in
            TrainingScheduler.Job(pair.train, configuration: buckets[pair.train.workspace ?? ""].flatMap { tuning[$0]?.configuration } ?? rc.als,
                                  collective: collective)
        }
        let models = try TrainingScheduler.fit(jobs, threads: threads, logger: logger) { progress($0, split.count) }
        // Per-matrix trials in parallel; each matrix's result depends on that matrix alone. A
        // global matrix's rows spread over ranks are scored on this thread, with the others.
        let spread = collective.size > 1 && rc.definition.scope == .global
        let perMatrix = Mutex([MatrixResult?](repeating: nil, count: split.count))
        ParallelFor(threads: threads).forEach(chunks: spread ? 0 : split.count) { i in
            let result = trial(rc, split[i], models[i], collective: SingleRank())
            perMatrix.withLock { $0[i] = result }
        }
        if spread {
            for i in split.indices {
                let result = trial(rc, split[i], models[i], collective: collective)
                perMatrix.withLock { $0[i] = result }
            }
        }
        var results: [String: MatrixResult] = [:]
        var kept: [String: HeldOutModel] = [:]
        for (i, result) in perMatrix.withLock({ $0 }).enumerated() {
            let key = split[i].train.workspace ?? ""
            results[key] = result!
            kept[key] = HeldOutModel(model: models[i], userIDs: split[i].train.userIDs, itemIDs: split[i].train.itemIDs)
        }
        var evaluation = HeldOutEvaluation(results: results, k: rc.k, models: kept)
        evaluation.tuning = tuning
        evaluation.buckets = buckets
        return evaluation
    }

    /// Every ranker the recommender's policy scores, on one matrix, and the one it publishes.
    /// A global matrix's users are scored segment by segment and the sums added in segment
    /// order (`RankerTrial.Parts`), as its rows are spread over the ranks of a distributed run.
    static func trial(
        _ rc: NightlyConfig.Recommender, _ pair: (train: InteractionMatrix, held: HeldOut), _ model: ALSModel, collective: any Collective
    ) -> MatrixResult {
        let rankers = rc.ranker.scored, train = pair.train
        let popularity = PopularityBaseline(counts: train.columnUsers.map(Float.init))
        let parts = RankerTrial.parts(rankers, k: rc.k, train: train.matrix, test: pair.held.test,
                                      factors: FactorScorer(userFactors: model.userFactors, itemFactors: model.itemFactors), popularity: popularity,
                                      rows: train.persons?.rows ?? [0..<train.matrix.rows])
        let sums = RankerTrial.Parts.combined(collective.size > 1 ? collective.gathered(parts.withoutUsers) : [parts], k: rc.k)
        let byRanker = Dictionary(uniqueKeysWithValues: zip(rankers, sums))
        let (ranker, judged) = rc.ranker.choice(byRanker.mapValues(\.result), metric: rc.gate.metric, minTestUsers: rc.gate.minTestUsers)
        return MatrixResult(als: byRanker[.als]!, popularity: byRanker[.popularity]!, published: byRanker[ranker]!, ranker: ranker, judged: judged)
    }
}
