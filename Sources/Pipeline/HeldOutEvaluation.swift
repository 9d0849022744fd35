import Evaluation
import Factorization
import Ingest
import Interactions
import Linalg
import Logging
import Synchronization

/// One recommender evaluated on held-out data: a model trained on the training part of each
/// matrix, scored with its popularity baseline on the held-out part. Works on any part of the
/// data — a workspace shard's events give that shard's matrices and metrics, and the metrics
/// of a matrix do not depend on which other matrices were evaluated with it.
struct HeldOutEvaluation: Sendable {
    /// Per workspace pseudonym ("" for the global model): the model's metrics and popularity's.
    let byWorkspace: [String: (model: RankingMetrics, popularity: RankingMetrics)]
    /// Pooled over every evaluated matrix, merged in matrix order.
    let pooledModel: RankingMetrics
    let pooledPopularity: RankingMetrics

    static func run(
        _ rc: NightlyConfig.Recommender, log: EventLog, threads: Int, logger: Logger, progress: @escaping (Int, Int) -> Void
    ) throws -> HeldOutEvaluation {
        let split = HeldOutSplit.make(log, definition: rc.definition, split: rc.split).pairs
        let models = try TrainingScheduler.fit(split.map(\.train.matrix), configuration: rc.als, threads: threads, logger: logger) {
            progress($0, split.count)
        }
        // Per-matrix metrics in parallel, merged in matrix order (the same sums every time).
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
        var pooledModel = RankingMetrics.Accumulator(k: k), pooledPopularity = RankingMetrics.Accumulator(k: k)
        var byWorkspace: [String: (RankingMetrics, RankingMetrics)] = [:]
        for (i, pair) in perMatrix.withLock({ $0 }).enumerated() {
            let (m, p) = pair!
            pooledModel.merge(m)
            pooledPopularity.merge(p)
            byWorkspace[split[i].train.workspace ?? ""] = (m.result, p.result)
        }
        return HeldOutEvaluation(byWorkspace: byWorkspace, pooledModel: pooledModel.result, pooledPopularity: pooledPopularity.result)
    }
}
