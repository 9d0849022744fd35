import Evaluation
import Linalg
import TestSupport
import XCTest

final class RankingMetricsTests: XCTestCase {
    func matrix(_ rows: [[Int32]], columns: Int) -> SparseMatrix {
        var r = [Int32](), c = [Int32]()
        for (u, items) in rows.enumerated() { for i in items { r.append(Int32(u)); c.append(i) } }
        return try! SparseMatrix(rows: rows.count, columns: columns, rowIndices: r, columnIndices: c, values: c.map { _ in 1 })
    }

    /// One user, six items: item 0 in training, items 2 and 4 held out, K = 3.
    /// Ranking after excluding item 0: 1 (0.9), 2 (0.8), 3 (0.7) | 4 (0.6), 5 (0.5).
    func testHandComputedExample_textbookAndImplicit() {
        let scores: [Float] = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5]
        let m = RankingMetrics.evaluate(k: 3, train: matrix([[0]], columns: 6), test: matrix([[2, 4]], columns: 6)) { _, s in s = scores }
        XCTAssertEqual(m.users, 1)
        let ln3 = 1 / log2(3.0)
        XCTAssertEqual(m.textbook.precision, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.textbook.recall, 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.textbook.ndcg, ln3 / (1 + ln3), accuracy: 1e-12)
        XCTAssertEqual(m.textbook.map, (1.0 / 2) / 2, accuracy: 1e-12)
        XCTAssertEqual(m.textbook.hitRate, 1)
        // Candidates 1…5; positives 2, 4; negatives 1, 3, 5: 2 is beaten by 1; 4 by 1 and 3.
        XCTAssertEqual(m.textbook.auc, 1 - 3.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(m.coverage, 3.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(m.implicit.precision, 1.0 / 2, accuracy: 1e-12)  // hits / min(K, |test|)
        XCTAssertEqual(m.implicit.map, 0.25, accuracy: 1e-12)
        // implicit's limited AUC: miss, hit, miss → 0 + 1, then (1 + 2)/2 · (4 − 2) = 3 → 4/(2·4).
        XCTAssertEqual(m.implicit.auc, 0.5, accuracy: 1e-12)
    }

    func testCoverage_poolsOnlyMatricesWithATestUser() {
        // A workspace with no test user adds nothing to coverage: its 50 items were never
        // ranked for anyone. Pooled with the hand-computed example, coverage stays 3 / 6.
        let scores: [Float] = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5]
        var pooled = RankingMetrics.Accumulator(k: 3)
        pooled.add(train: matrix([[0, 1]], columns: 50), test: matrix([[]], columns: 50)) { _, s in s = [Float](repeating: 0, count: 50) }
        pooled.add(train: matrix([[0]], columns: 6), test: matrix([[2, 4]], columns: 6)) { _, s in s = scores }
        XCTAssertEqual(pooled.result.users, 1)
        XCTAssertEqual(pooled.result.coverage, 3.0 / 6, accuracy: 1e-12)
    }

    func testTiesRankTheLowerIndexFirst_andCountHalfInAUC() {
        // Items 1, 2, 3 tie; the tie breaks towards the lower index, so K = 1 picks item 1.
        let scores: [Float] = [0, 0.5, 0.5, 0.5]
        let m = RankingMetrics.evaluate(k: 1, train: matrix([[0]], columns: 4), test: matrix([[2]], columns: 4)) { _, s in s = scores }
        XCTAssertEqual(m.textbook.precision, 0)
        XCTAssertEqual(m.textbook.auc, 0.5, accuracy: 1e-12)  // tied with both negatives
        let n = RankingMetrics.evaluate(k: 1, train: matrix([[0]], columns: 4), test: matrix([[1]], columns: 4)) { _, s in s = scores }
        XCTAssertEqual(n.textbook.precision, 1)
    }

    func testUsersWithFewerTestItemsThanK_noHits_orNoTestItems() {
        let train = matrix([[0], [1], [2]], columns: 8)
        let test = matrix([[7], [], [3, 4]], columns: 8)
        // Scores descend with the index: user 0's only test item (7) ranks last.
        let m = RankingMetrics.evaluate(k: 5, train: train, test: test) { _, s in
            for i in s.indices { s[i] = Float(8 - i) }
        }
        XCTAssertEqual(m.users, 2, "user 1 has no test items and is not counted")
        // User 0: no hit. User 2 (train 2): ranking 0, 1, 3, 4, 5 → hits at ranks 3 and 4.
        let dcg = 1 / log2(4.0) + 1 / log2(5.0), idcg = 1 + 1 / log2(3.0)
        XCTAssertEqual(m.textbook.ndcg, (0 + dcg / idcg) / 2, accuracy: 1e-12)
        XCTAssertEqual(m.textbook.precision, (0 + 2.0 / 5) / 2, accuracy: 1e-12)
        XCTAssertEqual(m.textbook.recall, (0 + 1) / 2, accuracy: 1e-12)
        XCTAssertEqual(m.textbook.hitRate, 0.5)
        XCTAssertEqual(m.textbook.map, (0 + (1.0 / 3 + 2.0 / 4) / 2) / 2, accuracy: 1e-12)
        XCTAssertEqual(m.implicit.precision, 2.0 / (1 + 2), accuracy: 1e-12)
    }

    func testPooling_equalsEvaluatingTheConcatenation() {
        let a = RandomInputs.sparse(rows: 30, columns: 12, density: 0.3, seed: 1)
        let b = RandomInputs.sparse(rows: 30, columns: 12, density: 0.2, seed: 2)
        let scorer = FactorScorer(userFactors: RandomInputs.matrix(rows: 30, columns: 4, seed: 3), itemFactors: RandomInputs.matrix(rows: 12, columns: 4, seed: 4))
        var pooled = RankingMetrics.Accumulator(k: 5)
        var first = RankingMetrics.Accumulator(k: 5), second = RankingMetrics.Accumulator(k: 5)
        first.add(train: a, test: b, scores: scorer.scores)
        second.add(train: b, test: a, scores: scorer.scores)
        pooled.merge(first)
        pooled.merge(second)
        XCTAssertEqual(pooled.result.users, first.result.users + second.result.users)
        let expected = (first.result.textbook.ndcg * Double(first.result.users) + second.result.textbook.ndcg * Double(second.result.users))
            / Double(pooled.result.users)
        XCTAssertEqual(pooled.result.textbook.ndcg, expected, accuracy: 1e-12)
    }
}
