import Evaluation
import XCTest

final class HyperparameterSearchTests: XCTestCase {
    let space: [HyperparameterSearch.Dimension] = [.range("x", 0.01, 100, log: true), .choice("n", [1, 2, 4]), .range("y", -1, 1, log: false)]

    func testCandidates_areSeeded_inRange_andStartWithTheInitialOnes() {
        var search = HyperparameterSearch(dimensions: space, trials: 50, seed: 7)
        XCTAssertEqual(search.candidates(), search.candidates())
        XCTAssertNotEqual(search.candidates(), HyperparameterSearch(dimensions: space, trials: 50, seed: 8).candidates())
        for c in search.candidates() {
            XCTAssertTrue((0.01...100).contains(c["x"]!) && [1, 2, 4].contains(c["n"]!) && (-1...1).contains(c["y"]!), "\(c)")
        }
        // Log scale: about as many samples below 1 as above.
        let below = search.candidates().filter { $0["x"]! < 1 }.count
        XCTAssertTrue((15...35).contains(below), "\(below)")
        search.initial = [["x": 3, "n": 2, "y": 0]]
        XCTAssertEqual(search.candidates().first, ["x": 3, "n": 2, "y": 0])
        XCTAssertEqual(search.candidates().count, 50)
    }

    func testRandomSearch_picksTheBestScoredCandidate_earlierOnATie() {
        let search = HyperparameterSearch(dimensions: space, trials: 30, seed: 1)
        let score = { (v: [String: Double], _: Double) in -abs(log(v["x"]!) - log(3)) }
        let outcome = search.run(score)
        XCTAssertEqual(outcome.trials.count, 30)
        let expected = search.candidates().max { score($0, 1) < score($1, 1) }!
        XCTAssertEqual(outcome.best, expected)
        // Every candidate scoring the same: the first wins.
        XCTAssertEqual(search.run { _, _ in 1 }.best, search.candidates()[0])
        // A failed fit (NaN) never wins.
        XCTAssertEqual(search.run { v, _ in v == search.candidates()[0] ? .nan : 0 }.best, search.candidates()[1])
    }

    func testHalving_runsRungsOfGrowingFidelity_promotingTheBestThird() {
        let search = HyperparameterSearch(dimensions: space, strategy: .halving, trials: 9, seed: 2)
        XCTAssertEqual(search.rungs, [1.0 / 9, 1.0 / 3, 1])
        var seen: [(Double, [String: Double])] = []
        let outcome = search.run { v, fidelity in
            seen.append((fidelity, v))
            return v["y"]! * fidelity  // the ranking by y holds at every fidelity
        }
        XCTAssertEqual(seen.map(\.0), Array(repeating: 1.0 / 9, count: 9) + Array(repeating: 1.0 / 3, count: 3) + [1])
        let byY = search.candidates().sorted { $0["y"]! > $1["y"]! }
        XCTAssertEqual(Set(seen[9..<12].map { $0.1["y"]! }), Set(byY.prefix(3).map { $0["y"]! }))
        XCTAssertEqual(outcome.best, byY[0])
        XCTAssertEqual(outcome.trials.count, 13)
        XCTAssertEqual(outcome.candidates, 9)
        XCTAssertEqual(HyperparameterSearch(dimensions: space, strategy: .halving, trials: 1).rungs, [1])
    }

    func testTimeBudget_stopsStartingTrials_andSaysSo() {
        let search = HyperparameterSearch(dimensions: space, trials: 100, seconds: 0.05, seed: 3)
        let outcome = search.run { _, _ in
            Thread.sleep(forTimeInterval: 0.02)
            return 0
        }
        XCTAssertTrue(outcome.stoppedByTime)
        XCTAssertLessThan(outcome.trials.count, 100)
        XCTAssertGreaterThanOrEqual(outcome.trials.count, 1)
    }

    /// Halving keeps the `initial` candidates to the last rung, so it never ends below them.
    func testHalving_scoresTheInitialCandidateInFull_andNeverEndsBelowIt() {
        var search = HyperparameterSearch(dimensions: space, strategy: .halving, trials: 9, seed: 2)
        search.initial = [["x": 1, "n": 1, "y": 0]]
        // At low fidelity the initial candidate looks worst; in full it is best.
        let outcome = search.run { v, fidelity in v == search.initial[0] ? (fidelity == 1 ? 10 : -10) : v["y"]! }
        XCTAssertEqual(outcome.best, search.initial[0])
        XCTAssertTrue(outcome.trials.contains { $0.values == search.initial[0] && $0.fidelity == 1 })
    }
}
