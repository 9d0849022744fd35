import Linalg
import TestSupport
import XCTest

final class MatrixTests: XCTestCase {
    func testGram_matchesNaiveProduct_acrossSeveralBlocks() {
        // 9000 rows span three Gram blocks, so the block sum is exercised.
        let m = RandomInputs.matrix(rows: 9000, columns: 5, seed: 11)
        let g = m.gram(ridge: 0.25, parallel: ParallelFor(threads: 2))
        for i in 0..<5 {
            for j in 0..<5 {
                var expected = (0..<m.rows).reduce(0.0) { $0 + Double(m[$1, i]) * Double(m[$1, j]) }
                if i == j { expected += 0.25 }
                // Float32 sums of 9000 terms: allow rounding relative to the sum of magnitudes.
                let magnitude = (0..<m.rows).reduce(0.0) { $0 + abs(Double(m[$1, i]) * Double(m[$1, j])) }
                XCTAssertEqual(Double(g[i * 5 + j]), expected, accuracy: 1e-6 * magnitude)
                XCTAssertEqual(g[i * 5 + j], g[j * 5 + i], "Gram must be stored symmetric")
            }
        }
    }

    func testGram_isBitIdentical_forAnyThreadCount() {
        let m = RandomInputs.matrix(rows: 20_000, columns: 16, seed: 12)
        let one = m.gram(parallel: ParallelFor(threads: 1))
        XCTAssertEqual(one, m.gram(parallel: ParallelFor(threads: 2)))
        XCTAssertEqual(one, m.gram(parallel: ParallelFor(threads: 5)))
    }

    /// Summed per segment (a global model's person segments): each segment's product is its
    /// own rows' (checked in Double), and the sum is the same bits however its segments'
    /// products are computed — the whole matrix's, or each segment's rows alone, as the rank
    /// holding them computes it.
    func testGramOverSegments_sumsEachSegmentsRows_inOrder_asItsOwnerWould() {
        let m = RandomInputs.matrix(rows: 9000, columns: 4, seed: 13)
        let segments = [0..<0, 0..<5000, 5000..<5001, 5001..<9000]
        let partials = m.gramPartials(segments: segments, parallel: ParallelFor(threads: 2))
        XCTAssertEqual(partials.count, 4)
        for (s, range) in segments.enumerated() {
            for j in 0..<4 {
                for i in j..<4 {
                    let expected = range.reduce(0.0) { $0 + Double(m[$1, i]) * Double(m[$1, j]) }
                    let magnitude = range.reduce(0.0) { $0 + abs(Double(m[$1, i]) * Double(m[$1, j])) }
                    XCTAssertEqual(Double(partials[s][j * 4 + i]), expected, accuracy: 1e-6 * magnitude + 1e-12, "segment \(s) (\(i), \(j))")
                }
            }
        }
        let whole = m.gram(segments: segments, ridge: 0.5, parallel: ParallelFor(threads: 2))
        let byOwners = segments.map { range in
            Matrix(rows: range.count, columns: 4, storage: Array(m.storage[range.lowerBound * 4..<range.upperBound * 4]))
                .gramPartials(segments: [0..<range.count], parallel: ParallelFor(threads: 1))[0]
        }
        XCTAssertEqual(Matrix.gram(summing: byOwners, order: 4, ridge: 0.5).map(\.bitPattern), whole.map(\.bitPattern))
        XCTAssertEqual(m.gram(segments: [0..<9000], ridge: 0.5, parallel: ParallelFor(threads: 2)), m.gram(ridge: 0.5, parallel: ParallelFor(threads: 1)))
    }

    func testIsFinite_detectsNaNAndInfinity_andNamesTheRow() {
        var m = Matrix(rows: 4, columns: 3, repeating: 1)
        XCTAssertTrue(m.isFinite)
        XCTAssertNil(m.firstNonFiniteRow())
        m[2, 1] = .nan
        XCTAssertFalse(m.isFinite)
        XCTAssertEqual(m.firstNonFiniteRow(), 2)
        m[2, 1] = 0
        m[3, 0] = -.infinity
        XCTAssertFalse(m.isFinite)
        XCTAssertEqual(m.firstNonFiniteRow(), 3)
    }

    func testRandom_isReproducibleFromSeed_andWithinScale() {
        var a = SeededGenerator(seed: 3), b = SeededGenerator(seed: 3), c = SeededGenerator(seed: 4)
        let x = Matrix.random(rows: 10, columns: 8, scale: 0.01, using: &a)
        XCTAssertEqual(x, Matrix.random(rows: 10, columns: 8, scale: 0.01, using: &b))
        XCTAssertNotEqual(x, Matrix.random(rows: 10, columns: 8, scale: 0.01, using: &c))
        XCTAssertTrue(x.storage.allSatisfy { $0 >= 0 && $0 < 0.01 })
    }

    func testSeededGenerator_nextIndex_staysInBounds_andCoversThem() {
        var rng = SeededGenerator(seed: 99)
        var seen = Set<Int>()
        for _ in 0..<2000 {
            let i = rng.nextIndex(below: 7)
            XCTAssertTrue((0..<7).contains(i))
            seen.insert(i)
        }
        XCTAssertEqual(seen.count, 7)
    }
}
