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
    public struct Accumulator: Sendable, Codable {
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

        /// These sums without the per-user figures: what is sent between ranks.
        public var withoutUsers: Accumulator {
            var copy = self
            copy.userNDCG = []
            return copy
        }

        public mutating func merge(_ other: Accumulator) {
            users += other.users
            precision += other.precision; recall += other.recall; ndcg += other.ndcg; map += other.map
            hits += other.hits; auc += other.auc; relevant += other.relevant
            precisionDivisor += other.precisionDivisor; implicitAUC += other.implicitAUC
            covered += other.covered; catalogue += other.catalogue
            userNDCG += other.userNDCG
        }

        /// - Parameter rows: runs of rows whose sums are added run by run, in order — a global
        ///   matrix's person segments, as `RankerTrial.Parts` adds them (on a fresh accumulator,
        ///   the same bits); nil: user by user.
        public mutating func add(train: SparseMatrix, test: SparseMatrix, rows: [Range<Int>]? = nil, scores fill: (Int, inout [Float]) -> Void) {
            var pass = MatrixPass(items: test.columns, usersBefore: users)
            var scores = [Float](repeating: 0, count: test.columns)
            for range in rows ?? [0..<test.rows] {
                var part = rows == nil ? self : Accumulator(k: k)
                for user in range where test.count(ofRow: user) > 0 {
                    fill(user, &scores)
                    part.add(user: &scores, trainItems: train.row(user).columns, testItems: test.row(user).columns, pass: &pass)
                }
                if rows == nil { self = part } else { merge(part) }
            }
            finish(pass)
        }

        /// One matrix's scratch: which items are the current user's test items, and which
        /// appeared in any top-K list.
        public struct MatrixPass: Sendable {
            var inTest: [Bool]
            var covered: [Bool]
            let usersBefore: Int

            /// The items in any top-K list of the pass so far.
            public var coveredItems: [Bool] { covered }

            public init(items: Int, usersBefore: Int) {
                inTest = [Bool](repeating: false, count: items)
                covered = inTest
                self.usersBefore = usersBefore
            }

            init(inTest: [Bool], covered: [Bool], usersBefore: Int) {
                self.inTest = inTest
                self.covered = covered
                self.usersBefore = usersBefore
            }
        }

        /// Begins a matrix: pass the result to `add(user:…)` for each of its users, then to `finish`.
        public func begin(items: Int) -> MatrixPass { MatrixPass(items: items, usersBefore: users) }

        /// One user's ranking: `scores` (one per item; training items are set to −∞ here) against
        /// the user's held-out items.
        public mutating func add(user scores: inout [Float], trainItems: ArraySlice<Int32>, testItems allTest: ArraySlice<Int32>, pass: inout MatrixPass) {
            let items = scores.count
            for i in trainItems { scores[Int(i)] = -.infinity }
            let testItems = allTest.filter { scores[Int($0)] > -.infinity }
            guard !testItems.isEmpty else { return }
            for i in testItems { pass.inTest[Int(i)] = true }
            defer { for i in testItems { pass.inTest[Int(i)] = false } }
            let top = scores.withUnsafeBufferPointer { TopK.select($0, k: k) }
            for item in top { pass.covered[item.index] = true }

            let positives = Double(testItems.count)
            let ideal = Double(min(k, testItems.count))
            var h = 0.0, dcg = 0.0, ap = 0.0, misses = 0.0, limitedAUC = 0.0
            for (rank, item) in top.enumerated() {
                if pass.inTest[item.index] {
                    h += 1
                    dcg += Self.discount[rank]
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
            let idcg = (0..<Int(ideal)).reduce(0.0) { $0 + Self.discount[$1] }
            let negativesImplicit = Double(items) - positives
            limitedAUC += (h + positives) / 2 * (negativesImplicit - misses)

            // Full AUC over the user's candidates (items not in training).
            let negatives = Double(items - trainItems.count) - positives
            let wrong = negatives > 0 ? Self.misordered(scores, testItems: testItems, inTest: pass.inTest) : 0
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

        /// Ends a matrix. Coverage pools only matrices with a test user: a catalogue nobody was
        /// ranked against would dilute it.
        public mutating func finish(_ pass: MatrixPass) {
            guard users > pass.usersBefore else { return }
            covered += pass.covered.filter { $0 }.count
            catalogue += pass.covered.count
        }

        /// Ends a matrix ranked in parts (`RankerTrial.Parts`), begun on an empty accumulator:
        /// `items` are the items any part's lists held.
        public mutating func finish(covered items: [Bool]) {
            finish(MatrixPass(inTest: [], covered: items, usersBefore: 0))
        }

        /// 1/log₂(rank + 2) for ranks 0…maxK−1.
        static let discount = (0..<RankingMetrics.maxK).map { 1 / log2(Double($0 + 2)) }

        /// (test item, candidate) pairs ranked wrongly: a candidate that is not a test item and
        /// scores above a test item counts 1, level with it ½. O(items · log |test|): each
        /// candidate is placed among the sorted test scores by two binary searches.
        static func misordered(_ scores: [Float], testItems: [Int32], inTest: [Bool]) -> Double {
            let sorted = testItems.map { scores[Int($0)] }.sorted()
            var wrong = 0.0
            for (i, other) in scores.enumerated() where !inTest[i] && other > -.infinity {
                var below = 0, through = sorted.count
                while below < through {
                    let mid = (below + through) / 2
                    if sorted[mid] < other { below = mid + 1 } else { through = mid }
                }
                var level = below, end = sorted.count
                while level < end {
                    let mid = (level + end) / 2
                    if sorted[mid] <= other { level = mid + 1 } else { end = mid }
                }
                wrong += Double(below) + 0.5 * Double(level - below)
            }
            return wrong
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
