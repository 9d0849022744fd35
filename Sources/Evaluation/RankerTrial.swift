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
        Parts.combined([parts(rankers, k: k, train: train, test: test, factors: factors, popularity: popularity, rows: [0..<test.rows])], k: k)
    }

    /// The trial of some runs of rows — a global matrix's person segments, those one rank
    /// holds — kept apart, so that every holder's parts add up in segment order
    /// (`Parts.combined`): the same sums on any number of ranks.
    public static func parts(
        _ rankers: [Ranker], k: Int, train: SparseMatrix, test: SparseMatrix, factors: FactorScorer?, popularity: PopularityBaseline,
        rows: [Range<Int>]
    ) -> Parts {
        precondition(Set(rankers).count == rankers.count, "a ranker listed twice")
        precondition(factors != nil || !rankers.contains { $0.usesFactors }, "a ranker needs factors")
        let blank = RankingMetrics.Accumulator(k: k)
        var passes = rankers.map { _ in blank.begin(items: test.columns) }
        var parts = Parts(sums: rankers.map { _ in [] }, covered: [])
        var als = [Float](repeating: 0, count: test.columns), scores = als
        for range in rows {
            var sums = rankers.map { _ in blank }
            for user in range where test.count(ofRow: user) > 0 {
                factors?.scores(user: user, into: &als)
                for (i, ranker) in rankers.enumerated() {
                    ranker.scores(als: als, popularity: popularity, into: &scores)
                    sums[i].add(user: &scores, trainItems: train.row(user).columns, testItems: test.row(user).columns, pass: &passes[i])
                }
            }
            for i in rankers.indices { parts.sums[i].append(sums[i]) }
        }
        parts.covered = passes.map(\.coveredItems)
        return parts
    }

    /// One holder's trial of its runs of rows: per ranker, each run's sums and the items any
    /// of its users' top-K lists held.
    public struct Parts: Sendable, Codable {
        public var sums: [[RankingMetrics.Accumulator]]
        public var covered: [[Bool]]

        /// The parts without per-user figures (`Accumulator.withoutUsers`): 8 B per test user
        /// less to send to every rank.
        public var withoutUsers: Parts { Parts(sums: sums.map { $0.map(\.withoutUsers) }, covered: covered) }

        /// Every holder's parts, in the order of their rows, as one accumulator per ranker:
        /// runs merged in order, and an item covered when any holder's lists held it.
        public static func combined(_ parts: [Parts], k: Int) -> [RankingMetrics.Accumulator] {
            guard let first = parts.first else { return [] }
            return first.sums.indices.map { i in
                var total = RankingMetrics.Accumulator(k: k)
                var covered = [Bool](repeating: false, count: first.covered[i].count)
                for part in parts {
                    for sums in part.sums[i] { total.merge(sums) }
                    for (item, hit) in part.covered[i].enumerated() where hit { covered[item] = true }
                }
                total.finish(covered: covered)
                return total
            }
        }
    }
}
