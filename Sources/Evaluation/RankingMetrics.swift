import Foundation
import Linalg

/// Ranking metrics at K, all computed from one ranking per user, with the user's training
/// items excluded from it. Never sampled: every candidate item is scored.
///
/// **Textbook** definitions (binary relevance; a user's relevant items are their test items):
/// - precision@K = hits in the top K / K, averaged over users
/// - recall@K = hits / |test|
/// - NDCG@K = DCG/IDCG, DCG = Σ_{hit at rank j} 1/log₂(j + 1), IDCG = DCG of min(K, |test|) hits
/// - MAP@K = mean of AP@K = Σ_{hit at rank j} precision@j / min(K, |test|)
/// - hit rate@K = share of users with at least one hit
/// - AUC = share of (test item, non-test candidate) pairs ranked correctly over the *full*
///   ranking of the user's candidates (ties count half)
/// - coverage@K = distinct items in any top-K list / items in the catalogue
///
/// **implicit-compatible** (`implicit.evaluation.ranking_metrics_at_k`, 0.7): precision =
/// Σ hits / Σ min(K, |test|) over all users (micro-averaged); MAP and NDCG as above; AUC is
/// implicit's "limited AUC" computed from the top K only, with every catalogue item that is
/// not a test item counted as a negative.
public struct RankingMetrics: Sendable, Equatable, Codable {
    /// The largest cut-off K accepted: a ranking is never longer than this.
    public static let maxK = 10_000

    public struct Textbook: Sendable, Equatable, Codable {
        public var precision = 0.0, recall = 0.0, ndcg = 0.0, map = 0.0, hitRate = 0.0, auc = 0.0
    }

    public struct ImplicitCompatible: Sendable, Equatable, Codable {
        public var precision = 0.0, map = 0.0, ndcg = 0.0, auc = 0.0
    }

    public let k: Int
    /// Users with at least one test item (the denominator of every mean).
    public let users: Int
    public let textbook: Textbook
    public let implicit: ImplicitCompatible
    public let coverage: Double

    /// Evaluates a scorer on every user with test items.
    /// - Parameters:
    ///   - train: what the scorer may know; its items are excluded from each ranking.
    ///   - test: the held-out entries, same shape as `train`.
    ///   - scores: fills the score of every item for a user (length = columns).
    public static func evaluate(
        k: Int, train: SparseMatrix, test: SparseMatrix, scores: (_ user: Int, _ into: inout [Float]) -> Void
    ) -> RankingMetrics {
        var accumulator = Accumulator(k: k)
        accumulator.add(train: train, test: test, scores: scores)
        return accumulator.result
    }

    /// Sums that can be pooled across matrices (one per workspace) before taking means.
    public struct Accumulator: Sendable {
        public let k: Int
        var users = 0
        var precision = 0.0, recall = 0.0, ndcg = 0.0, map = 0.0, hits = 0.0, auc = 0.0
        var relevant = 0.0, precisionDivisor = 0.0, implicitAUC = 0.0
        var covered = 0, catalogue = 0
        /// Per-user NDCG, kept for distributions.
        public private(set) var userNDCG: [Double] = []

        public init(k: Int) {
            precondition(k > 0, "K must be positive")
            self.k = k
        }

        public mutating func merge(_ other: Accumulator) {
            users += other.users
            precision += other.precision; recall += other.recall; ndcg += other.ndcg; map += other.map
            hits += other.hits; auc += other.auc; relevant += other.relevant
            precisionDivisor += other.precisionDivisor; implicitAUC += other.implicitAUC
            covered += other.covered; catalogue += other.catalogue
            userNDCG += other.userNDCG
        }

        public mutating func add(train: SparseMatrix, test: SparseMatrix, scores fill: (Int, inout [Float]) -> Void) {
            let items = test.columns
            let discount = (0..<k).map { 1 / log2(Double($0 + 2)) }
            var scores = [Float](repeating: 0, count: items)
            var inTest = [Bool](repeating: false, count: items)
            var coveredItems = [Bool](repeating: false, count: items)
            let usersBefore = users
            for user in 0..<test.rows where test.count(ofRow: user) > 0 {
                fill(user, &scores)
                let trainItems = train.row(user).columns
                for i in trainItems { scores[Int(i)] = -.infinity }
                let testItems = test.row(user).columns.filter { scores[Int($0)] > -.infinity }
                guard !testItems.isEmpty else { continue }
                for i in testItems { inTest[Int(i)] = true }
                defer { for i in testItems { inTest[Int(i)] = false } }
                let top = scores.withUnsafeBufferPointer { TopK.select($0, k: k) }
                for item in top { coveredItems[item.index] = true }

                let positives = Double(testItems.count)
                let ideal = Double(min(k, testItems.count))
                var h = 0.0, dcg = 0.0, ap = 0.0, misses = 0.0, limitedAUC = 0.0
                for (rank, item) in top.enumerated() {
                    if inTest[item.index] {
                        h += 1
                        dcg += discount[rank]
                        ap += h / Double(rank + 1)
                    } else {
                        misses += 1
                        limitedAUC += h
                    }
                }
                // implicit pads a short list with misses (ids of -1).
                let shortfall = Double(k - top.count)
                misses += shortfall
                limitedAUC += h * shortfall
                let idcg = (0..<Int(ideal)).reduce(0.0) { $0 + discount[$1] }
                let negativesImplicit = Double(items) - positives
                limitedAUC += (h + positives) / 2 * (negativesImplicit - misses)

                // Full AUC over the user's candidates (items not in training).
                let candidates = items - trainItems.count
                let negatives = Double(candidates) - positives
                var wrong = 0.0
                if negatives > 0 {
                    for p in testItems {
                        let s = scores[Int(p)]
                        for (i, other) in scores.enumerated() where !inTest[i] && other >= s && other > -.infinity {
                            wrong += other > s ? 1 : 0.5
                        }
                    }
                }
                users += 1
                precision += h / Double(k)
                recall += h / positives
                ndcg += dcg / idcg
                userNDCG.append(dcg / idcg)
                map += ap / ideal
                hits += h > 0 ? 1 : 0
                auc += negatives > 0 ? 1 - wrong / (positives * negatives) : 1
                relevant += h
                precisionDivisor += ideal
                implicitAUC += negativesImplicit > 0 ? limitedAUC / (positives * negativesImplicit) : 1
            }
            // Coverage pools only matrices with a test user: a catalogue nobody was ranked
            // against would dilute it.
            guard users > usersBefore else { return }
            covered += coveredItems.filter { $0 }.count
            catalogue += items
        }

        public var result: RankingMetrics {
            let n = Double(max(users, 1))
            var t = Textbook()
            t.precision = precision / n; t.recall = recall / n; t.ndcg = ndcg / n; t.map = map / n
            t.hitRate = hits / n; t.auc = auc / n
            var i = ImplicitCompatible()
            i.precision = precisionDivisor > 0 ? relevant / precisionDivisor : 0
            i.map = map / n; i.ndcg = ndcg / n; i.auc = implicitAUC / n
            return RankingMetrics(k: k, users: users, textbook: t, implicit: i, coverage: catalogue > 0 ? Double(covered) / Double(catalogue) : 0)
        }
    }
}
