import Foundation
import Linalg

/// Ranking quality at a cut-off K, averaged over the users that have test items.
///
/// Definitions (binary relevance: an item is relevant iff it is in the user's test set):
/// - precision@K = hits in the top K / K
/// - NDCG@K = DCG / IDCG, DCG = Σ_{hit at rank j} 1 / log₂(j + 1) (ranks from 1), IDCG the DCG
///   of min(K, |test|) hits at the top.
public struct RankingMetrics: Sendable, Equatable {
    public let k: Int
    /// Users with at least one test item: the denominator of every mean.
    public let users: Int
    public let precision: Double
    public let ndcg: Double

    /// Evaluates `rank` on every user with test items.
    ///
    /// - Parameters:
    ///   - train: what the ranker may know; its items are excluded from each ranking.
    ///   - test: the held-out entries.
    ///   - rank: the top `k` item indices for a user, given the items to exclude.
    public static func evaluate(
        k: Int, train: SparseMatrix, test: SparseMatrix,
        rank: (_ user: Int, _ k: Int, _ exclude: ArraySlice<Int32>) -> [Int]
    ) -> RankingMetrics {
        precondition(k > 0, "K must be positive")
        var users = 0
        var precision = 0.0, ndcg = 0.0
        for user in 0..<test.rows where test.count(ofRow: user) > 0 {
            let relevant = Set(test.row(user).columns.map(Int.init))
            let ranked = rank(user, k, train.row(user).columns).prefix(k)
            var hits = 0, dcg = 0.0
            for (position, item) in ranked.enumerated() where relevant.contains(item) {
                hits += 1
                dcg += 1 / log2(Double(position + 2))
            }
            let ideal = (0..<min(k, relevant.count)).reduce(0.0) { $0 + 1 / log2(Double($1 + 2)) }
            users += 1
            precision += Double(hits) / Double(k)
            ndcg += dcg / ideal
        }
        let n = Double(max(users, 1))
        return RankingMetrics(k: k, users: users, precision: precision / n, ndcg: ndcg / n)
    }
}
