import Evaluation
import Factorization
import Ingest
import Interactions
import Linalg
import Logging
import Synchronization

/// One recommender evaluated on held-out data: a model trained on the training part of each
/// matrix, scored with its popularity baseline on the held-out part.
///
/// Works on any part of the data: a workspace shard's events give that shard's matrices and
/// the same metrics for each of them as the whole log does, and `merging` the shards' results
/// gives the whole run's result, pooled figures included.
public struct HeldOutEvaluation: Sendable {
    /// The model's and popularity's sums, per workspace pseudonym ("" for the global model).
    public let sums: [String: (model: RankingMetrics.Accumulator, popularity: RankingMetrics.Accumulator)]
    public let k: Int
    /// Per workspace pseudonym ("" for the global model): the model trained on the training
    /// part, with its rows' and columns' ids — where the full model starts (`WarmStart`).
    public let models: [String: HeldOutModel]

    /// Per workspace pseudonym ("" for the global model): the model's metrics and popularity's.
    public var byWorkspace: [String: (model: RankingMetrics, popularity: RankingMetrics)] {
        sums.mapValues { ($0.model.result, $0.popularity.result) }
    }

    /// Pooled over every evaluated matrix, merged in pseudonym order: the same sums whichever
    /// shards the matrices were evaluated in.
    public var pooled: (model: RankingMetrics, popularity: RankingMetrics) {
        var model = RankingMetrics.Accumulator(k: k), popularity = RankingMetrics.Accumulator(k: k)
        for key in sums.keys.sorted() {
            model.merge(sums[key]!.model)
            popularity.merge(sums[key]!.popularity)
        }
        return (model.result, popularity.result)
    }

    /// The shards' results as one; each matrix must have been evaluated in one shard only.
    public static func merging(_ shards: [HeldOutEvaluation], k: Int) -> HeldOutEvaluation {
        HeldOutEvaluation(
            sums: shards.reduce(into: [:]) { all, shard in
                all.merge(shard.sums) { _, _ in preconditionFailure("a matrix evaluated in two shards") }
            }, k: k,
            models: shards.reduce(into: [:]) { all, shard in all.merge(shard.models) { a, _ in a } })
    }

    /// - Parameter split: `rc.split` resolved on the whole log (`SplitStrategy.resolved(for:definition:)`),
    ///   so that a shard is split as it is inside the whole.
    public static func run(
        _ rc: NightlyConfig.Recommender, log: EventLog, split: SplitStrategy, threads: Int, logger: Logger,
        progress: @escaping (Int, Int) -> Void
    ) throws -> HeldOutEvaluation {
        let split = HeldOutSplit.make(log, definition: rc.definition, split: split, threads: threads).pairs
        let models = try TrainingScheduler.fit(split.map(\.train.matrix), configuration: rc.als, threads: threads, logger: logger) {
            progress($0, split.count)
        }
        // Per-matrix metrics in parallel; each matrix's sums do not depend on the others.
        let k = rc.k
        let perMatrix = Mutex([(RankingMetrics.Accumulator, RankingMetrics.Accumulator)?](repeating: nil, count: split.count))
        ParallelFor(threads: threads).forEach(chunks: split.count) { i in
            let (train, held) = split[i]
            var m = RankingMetrics.Accumulator(k: k), p = RankingMetrics.Accumulator(k: k)
            let scorer = FactorScorer(userFactors: models[i].userFactors, itemFactors: models[i].itemFactors)
            m.add(train: train.matrix, test: held.test, scores: scorer.scores)
            p.add(train: train.matrix, test: held.test, scores: PopularityBaseline(train: train.matrix).scores)
            perMatrix.withLock { $0[i] = (m, p) }
        }
        var sums: [String: (model: RankingMetrics.Accumulator, popularity: RankingMetrics.Accumulator)] = [:]
        var kept: [String: HeldOutModel] = [:]
        for (i, pair) in perMatrix.withLock({ $0 }).enumerated() {
            let key = split[i].train.workspace ?? ""
            sums[key] = (pair!.0, pair!.1)
            kept[key] = HeldOutModel(model: models[i], userIDs: split[i].train.userIDs, itemIDs: split[i].train.itemIDs)
        }
        return HeldOutEvaluation(sums: sums, k: k, models: kept)
    }
}
