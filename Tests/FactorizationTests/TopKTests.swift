import Factorization
import Linalg
import XCTest

final class TopKTests: XCTestCase {
    /// The reference: a full sort by (score desc, index asc).
    func fullSort(_ scores: [Float], k: Int) -> [ScoredItem] {
        var items: [ScoredItem] = []
        for (index, score) in scores.enumerated() where score > -Float.infinity {
            items.append(ScoredItem(index: index, score: score))
        }
        items.sort { (a: ScoredItem, b: ScoredItem) -> Bool in
            a.score > b.score || (a.score == b.score && a.index < b.index)
        }
        return Array(items.prefix(k))
    }

    func testSelect_equalsFullSort_withManyTies() {
        var rng = SeededGenerator(seed: 61)
        for trial in 0..<50 {
            let n = 1 + rng.nextIndex(below: 300)
            // Few distinct values, so ties are everywhere.
            let scores = (0..<n).map { _ in Float(rng.nextIndex(below: 7)) - 3 }
            for k in [1, 5, 10, n, n + 3] {
                let got = scores.withUnsafeBufferPointer { TopK.select($0, k: k) }
                XCTAssertEqual(got, fullSort(scores, k: k), "trial \(trial), n \(n), k \(k)")
            }
        }
    }

    func testSelect_skipsExcludedAndNaN() {
        let scores: [Float] = [0.5, -.infinity, .nan, 2, 1, -.infinity]
        let got = scores.withUnsafeBufferPointer { TopK.select($0, k: 10) }
        XCTAssertEqual(got.map(\.index), [3, 4, 0])
        XCTAssertEqual(scores.withUnsafeBufferPointer { TopK.select($0, k: 0) }, [])
    }
}
