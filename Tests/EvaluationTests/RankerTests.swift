import Foundation
@testable import Evaluation
import Linalg
import TestSupport
import XCTest

final class RankerTests: XCTestCase {
    /// Random data: 40 users, 25 items, a training and a disjoint test part.
    func data(seed: UInt64) -> (train: SparseMatrix, test: SparseMatrix, x: Matrix, y: Matrix) {
        let all = RandomInputs.sparse(rows: 40, columns: 25, density: 0.3, seed: seed)
        var trainRows: [Int32] = [], trainCols: [Int32] = [], testRows: [Int32] = [], testCols: [Int32] = []
        var rng = SeededGenerator(seed: seed + 100)
        for u in 0..<all.rows {
            for c in all.row(u).columns {
                if rng.nextUnit() < 0.3 { testRows.append(Int32(u)); testCols.append(c) } else { trainRows.append(Int32(u)); trainCols.append(c) }
            }
        }
        let train = try! SparseMatrix(rows: 40, columns: 25, rowIndices: trainRows, columnIndices: trainCols, values: trainCols.map { _ in 1 })
        let test = try! SparseMatrix(rows: 40, columns: 25, rowIndices: testRows, columnIndices: testCols, values: testCols.map { _ in 1 })
        return (train, test, RandomInputs.matrix(rows: 40, columns: 4, seed: seed + 1), RandomInputs.matrix(rows: 25, columns: 4, seed: seed + 2))
    }

    /// NDCG@k and recall@k computed naively in Double: every score x·y + β·n/max n in Double, a
    /// full sort (ties: lower index), training items removed.
    func reference(_ d: (train: SparseMatrix, test: SparseMatrix, x: Matrix, y: Matrix), ranker: Ranker, k: Int) -> (ndcg: Double, recall: Double, users: Int) {
        var counts = [Double](repeating: 0, count: 25)
        for c in d.train.columnIndices { counts[Int(c)] += 1 }
        let top = counts.max()!
        var ndcg = 0.0, recall = 0.0, users = 0
        for u in 0..<40 {
            let train = Set(d.train.row(u).columns.map(Int.init)), test = Set(d.test.row(u).columns.map(Int.init)).subtracting(train)
            guard !test.isEmpty else { continue }
            let score: (Int) -> Double = { i in
                let als = (0..<4).reduce(0.0) { $0 + Double(d.x[u, $1]) * Double(d.y[i, $1]) }
                switch ranker {
                case .als: return als
                case .popularity: return counts[i]
                case .blend(let beta): return als + Double(beta) * counts[i] / top
                }
            }
            let ranked = (0..<25).filter { !train.contains($0) }.sorted { score($0) != score($1) ? score($0) > score($1) : $0 < $1 }.prefix(k)
            var dcg = 0.0, hits = 0.0
            for (rank, item) in ranked.enumerated() where test.contains(item) { dcg += 1 / log2(Double(rank + 2)); hits += 1 }
            let idcg = (0..<min(k, test.count)).reduce(0.0) { $0 + 1 / log2(Double($1 + 2)) }
            ndcg += dcg / idcg
            recall += hits / Double(test.count)
            users += 1
        }
        return (ndcg / Double(users), recall / Double(users), users)
    }

    func testEveryRanker_matchesANaiveDoubleReference() {
        for seed: UInt64 in [1, 2, 3] {
            let d = data(seed: seed)
            let rankers: [Ranker] = [.als, .popularity, .blend(beta: 0.1), .blend(beta: 1), .blend(beta: 10)]
            let sums = RankerTrial.run(rankers, k: 5, train: d.train, test: d.test,
                                       factors: FactorScorer(userFactors: d.x, itemFactors: d.y), popularity: PopularityBaseline(train: d.train))
            for (ranker, sum) in zip(rankers, sums) {
                let m = sum.result, r = reference(d, ranker: ranker, k: 5)
                XCTAssertEqual(m.users, r.users, "\(ranker)")
                XCTAssertEqual(m.textbook.ndcg, r.ndcg, accuracy: 1e-5, "\(ranker), seed \(seed)")
                XCTAssertEqual(m.textbook.recall, r.recall, accuracy: 1e-5, "\(ranker), seed \(seed)")
            }
            // A trial's ALS and popularity equal the single-scorer evaluation exactly.
            let als = RankingMetrics.evaluate(k: 5, train: d.train, test: d.test, scores: FactorScorer(userFactors: d.x, itemFactors: d.y).scores)
            XCTAssertEqual(sums[0].result, als)
            XCTAssertEqual(sums[1].result, RankingMetrics.evaluate(k: 5, train: d.train, test: d.test, scores: PopularityBaseline(train: d.train).scores))
        }
    }

    func testATrialInParts_isTheSameWhicheverHoldersScoreThem_andMatchesOnePass() {
        let d = data(seed: 4)
        let rankers: [Ranker] = [.als, .popularity, .blend(beta: 1)]
        let factors = FactorScorer(userFactors: d.x, itemFactors: d.y), popularity = PopularityBaseline(train: d.train)
        func parts(_ rows: [Range<Int>]) -> RankerTrial.Parts {
            RankerTrial.parts(rankers, k: 5, train: d.train, test: d.test, factors: factors, popularity: popularity, rows: rows)
        }
        let segments = [0..<7, 7..<7, 7..<20, 20..<33, 33..<40]
        let oneHolder = RankerTrial.Parts.combined([parts(segments)], k: 5)
        // Three holders of consecutive segments, as three ranks hold them.
        let threeHolders = RankerTrial.Parts.combined([parts(Array(segments[0..<2])), parts([segments[2]]), parts(Array(segments[3...]))], k: 5)
        let onePass = RankerTrial.run(rankers, k: 5, train: d.train, test: d.test, factors: factors, popularity: popularity)
        for i in rankers.indices {
            XCTAssertEqual(oneHolder[i].result, threeHolders[i].result, "\(rankers[i]): the same bits")
            XCTAssertEqual(oneHolder[i].userNDCG, threeHolders[i].userNDCG)
            let a = oneHolder[i].result, b = onePass[i].result
            XCTAssertEqual(a.users, b.users)
            XCTAssertEqual(a.coverage, b.coverage, "\(rankers[i]): an item is covered once, whichever part's list held it")
            XCTAssertEqual(a.textbook.ndcg, b.textbook.ndcg, accuracy: 1e-12)
            XCTAssertEqual(a.textbook.recall, b.textbook.recall, accuracy: 1e-12)
            XCTAssertEqual(oneHolder[i].userNDCG, onePass[i].userNDCG, "users in row order")
        }
        XCTAssertGreaterThan(onePass[0].result.coverage, 0)
        // One scorer's sums added run by run (evaluate, tuning) are the trial's ALS bits.
        var viaAdd = RankingMetrics.Accumulator(k: 5)
        viaAdd.add(train: d.train, test: d.test, rows: segments, scores: factors.scores)
        XCTAssertEqual(viaAdd.result, oneHolder[0].result)
        XCTAssertEqual(viaAdd.userNDCG, oneHolder[0].userNDCG)
    }

    func testBlendScores_areALSPlusBetaTimesTheScaledPrior() {
        let popularity = PopularityBaseline(counts: [4, 0, 2, 8])
        XCTAssertEqual(popularity.prior, [0.5, 0, 0.25, 1])
        var scores = [Float](repeating: 0, count: 4)
        Ranker.blend(beta: 2).scores(als: [0.1, 0.2, 0.3, -0.4], popularity: popularity, into: &scores)
        XCTAssertEqual(scores, [1.1, 0.2, 0.8, 1.6])
        Ranker.popularity.scores(als: [0.1, 0.2, 0.3, -0.4], popularity: popularity, into: &scores)
        XCTAssertEqual(scores, [4, 0, 2, 8])
        XCTAssertEqual(PopularityBaseline(counts: [0, 0]).prior, [0, 0], "no division by a zero maximum")
    }

    func testRankerSpellings_roundTrip_andBadOnesAreRefused() {
        for r: Ranker in [.als, .popularity, .blend(beta: 0.3), .blend(beta: 0), .blend(beta: 1_000_000)] {
            XCTAssertEqual(Ranker(parsing: r.description), r)
        }
        XCTAssertEqual(Ranker(parsing: "blend:1e-2"), .blend(beta: 0.01))
        let json = try! JSONEncoder().encode([Ranker.blend(beta: 0.3), .als])
        XCTAssertEqual(String(decoding: json, as: UTF8.self), #"["blend:0.3","als"]"#)
        XCTAssertEqual(try? JSONDecoder().decode([Ranker].self, from: json), [.blend(beta: 0.3), .als])
        XCTAssertNil(try? JSONDecoder().decode([Ranker].self, from: Data(#"["blend:0x1"]"#.utf8)))
        XCTAssertEqual(Ranker(parsing: "blend:0"), .blend(beta: 0))
        for bad in ["ALS", "blend", "blend:", "blend:-0.1", "blend:nan", "blend:inf", "blend:1e7", " als", "blend: 1", "pop",
                    "blend:0x10", "blend:0x1p3", "blend:+1", "blend:.5", "blend:1e-50", "blend:3\u{0}junk", "blend:1_0"] {
            XCTAssertNil(Ranker(parsing: bad), bad)
        }
    }

    func testFullAUC_equalsTheQuadraticPairCount_withTies() {
        // Scores drawn from a few levels so that test items tie with candidates.
        var rng = SeededGenerator(seed: 9)
        for _ in 0..<50 {
            let items = 30
            let scores = (0..<items).map { _ in Float(rng.nextIndex(below: 5)) }
            let test = Set((0..<6).map { _ in rng.nextIndex(below: items) })
            let m = RankingMetrics.evaluate(k: 3, train: matrix([[]], columns: items), test: matrix([test.sorted().map(Int32.init)], columns: items)) { _, s in s = scores }
            var wrong = 0.0
            for p in test { for i in 0..<items where !test.contains(i) { wrong += scores[i] > scores[p] ? 1 : scores[i] == scores[p] ? 0.5 : 0 } }
            XCTAssertEqual(m.textbook.auc, 1 - wrong / Double(test.count * (items - test.count)), accuracy: 1e-12)
        }
    }

    func matrix(_ rows: [[Int32]], columns: Int) -> SparseMatrix {
        var r = [Int32](), c = [Int32]()
        for (u, items) in rows.enumerated() { for i in items { r.append(Int32(u)); c.append(i) } }
        return try! SparseMatrix(rows: rows.count, columns: columns, rowIndices: r, columnIndices: c, values: c.map { _ in 1 })
    }
}

final class RankerPolicyTests: XCTestCase {
    func metrics(users: Int, ndcg: Double) -> RankingMetrics {
        var t = RankingMetrics.Textbook()
        t.ndcg = ndcg
        return RankingMetrics(k: 10, users: users, textbook: t, implicit: .init(), coverage: 0)
    }

    func testBest_choosesTheHighestMetric_earlierOnATie_andUnjudgedWithFewTestUsers() {
        let policy = RankerPolicy(betas: [0.1, 1])
        XCTAssertEqual(policy.scored, [.als, .popularity, .blend(beta: 0.1), .blend(beta: 1)])
        var m: [Ranker: RankingMetrics] = [.als: metrics(users: 9, ndcg: 0.4), .popularity: metrics(users: 9, ndcg: 0.5),
                                           .blend(beta: 0.1): metrics(users: 9, ndcg: 0.55), .blend(beta: 1): metrics(users: 9, ndcg: 0.55)]
        XCTAssertEqual(policy.choice(m, metric: .ndcg, minTestUsers: 5).ranker, .blend(beta: 0.1))
        m[.als] = metrics(users: 9, ndcg: 0.55)
        XCTAssertEqual(policy.choice(m, metric: .ndcg, minTestUsers: 5).ranker, .als, "a tie goes to the simpler ranker")
        let few = policy.choice(m, metric: .ndcg, minTestUsers: 10)
        XCTAssertEqual(few.ranker, .als)
        XCTAssertFalse(few.judged)
        let none = RankerPolicy(unjudged: .blend(beta: 1)).choice(m.mapValues { _ in metrics(users: 0, ndcg: 0) }, metric: .ndcg, minTestUsers: 0)
        XCTAssertEqual(none.ranker, .blend(beta: 1), "no test user at all: never judged")
    }

    func testForcedChoices_andTheirDefaultsAndProblems() {
        XCTAssertEqual(RankerPolicy(choose: .als).candidates, [.als])
        XCTAssertEqual(RankerPolicy(choose: .popularity).unjudged, .popularity)
        XCTAssertEqual(RankerPolicy(choose: .blend, betas: [0.1, 1, 10]).unjudged, .blend(beta: 1))
        XCTAssertEqual(RankerPolicy(choose: .als, betas: [1]).scored, [.als, .popularity])
        XCTAssertNil(RankerPolicy().problem)
        XCTAssertNotNil(RankerPolicy(betas: []).problem)
        XCTAssertNotNil(RankerPolicy(betas: [1, 0.5]).problem)
        XCTAssertNotNil(RankerPolicy(betas: [-1]).problem)
        XCTAssertNotNil(RankerPolicy(choose: .als, unjudged: .popularity).problem)
        XCTAssertNil(RankerPolicy(choose: .best, unjudged: .popularity).problem)
    }
}
