import Linalg

/// Every candidate ranker of one matrix scored on its held-out part, in one pass over its test
/// users: each user's ALS scores are computed once and every candidate is derived from them.
public enum RankerTrial {
    /// - Parameters:
    ///   - rankers: the candidates; each must appear once.
    ///   - train: what the rankers may know; its items are excluded from each ranking.
    ///   - test: the held-out entries, same shape as `train`.
    ///   - factors: the model fitted on `train` (nil when no candidate uses factors).
    ///   - popularity: built from `train`.
    /// - Returns: one accumulator per ranker, in `rankers` order.
    public static func run(
        _ rankers: [Ranker], k: Int, train: SparseMatrix, test: SparseMatrix, factors: FactorScorer?, popularity: PopularityBaseline
    ) -> [RankingMetrics.Accumulator] {
        precondition(Set(rankers).count == rankers.count, "a ranker listed twice")
        precondition(factors != nil || !rankers.contains { $0.usesFactors }, "a ranker needs factors")
        var sums = rankers.map { _ in RankingMetrics.Accumulator(k: k) }
        var passes = sums.map { $0.begin(items: test.columns) }
        var als = [Float](repeating: 0, count: test.columns), scores = als
        for user in 0..<test.rows where test.count(ofRow: user) > 0 {
            factors?.scores(user: user, into: &als)
            for (i, ranker) in rankers.enumerated() {
                ranker.scores(als: als, popularity: popularity, into: &scores)
                sums[i].add(user: &scores, trainItems: train.row(user).columns, testItems: test.row(user).columns, pass: &passes[i])
            }
        }
        for i in sums.indices { sums[i].finish(passes[i]) }
        return sums
    }
}
