import Linalg
import TestSupport
import XCTest

final class SparseMatrixTests: XCTestCase {
    func testTriplets_sumDuplicates_andSortColumns() throws {
        let m = try SparseMatrix(
            rows: 3, columns: 4, rowIndices: [2, 0, 2, 0, 2], columnIndices: [3, 1, 0, 1, 3],
            values: [1, 2, 3, 4, 5])
        XCTAssertEqual(m.rowPointers, [0, 1, 1, 3])
        XCTAssertEqual(m.columnIndices, [1, 0, 3])
        XCTAssertEqual(m.values, [6, 3, 6])
    }

    func testDuplicates_sumToTheSameBits_inAnyOrder() throws {
        // Float addition is order-dependent: the sum must not be.
        let values: [Float] = [0.1, 0.1, 2, 0.1, -0.7, 1e-8, 0.1, 3]
        var sums = Set<UInt32>()
        var direct = Set<UInt32>()
        var rng = SeededGenerator(seed: 5)
        for _ in 0..<50 {
            var order = Array(values.indices)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.nextIndex(below: i + 1)) }
            let m = try SparseMatrix(rows: 1, columns: 2, rowIndices: [Int32](repeating: 0, count: values.count),
                                     columnIndices: [Int32](repeating: 1, count: values.count), values: order.map { values[$0] })
            sums.insert(m.values[0].bitPattern)
            direct.insert(order.reduce(Float(0)) { $0 + values[$1] }.bitPattern)
        }
        XCTAssertEqual(sums.count, 1)
        XCTAssertGreaterThan(direct.count, 1, "the values must be ones whose plain sum depends on the order")
        XCTAssertEqual(Double(Float(bitPattern: sums.first!)), values.map(Double.init).reduce(0, +), accuracy: 1e-6)
    }

    func testTranspose_matchesDenseTranspose_andTwiceIsIdentity() {
        let m = RandomInputs.sparse(rows: 17, columns: 11, density: 0.3, seed: 13)
        let t = m.transposed()
        XCTAssertEqual(t.rows, 11)
        XCTAssertEqual(t.columns, 17)
        let d = RandomInputs.dense(m), dt = RandomInputs.dense(t)
        for i in 0..<17 { for j in 0..<11 { XCTAssertEqual(d[i][j], dt[j][i]) } }
        XCTAssertEqual(t.transposed(), m)
        for r in 0..<t.rows {  // rows of the transpose come out sorted
            let cols = Array(t.row(r).columns)
            XCTAssertEqual(cols, cols.sorted())
        }
    }

    func testValidation_rejectsUnsortedOutOfRangeAndNonFinite() {
        XCTAssertThrowsError(try SparseMatrix(rows: 1, columns: 3, rowPointers: [0, 2], columnIndices: [2, 1], values: [1, 1]))
        XCTAssertThrowsError(try SparseMatrix(rows: 1, columns: 3, rowPointers: [0, 1], columnIndices: [3], values: [1]))
        XCTAssertThrowsError(try SparseMatrix(rows: 1, columns: 3, rowPointers: [0, 1], columnIndices: [0], values: [.nan]))
        XCTAssertThrowsError(try SparseMatrix(rows: 2, columns: 3, rowPointers: [0, 1], columnIndices: [0], values: [1]))
        XCTAssertThrowsError(try SparseMatrix(rows: 1, columns: 3, rowIndices: [0], columnIndices: [5], values: [1]))
        XCTAssertNoThrow(try SparseMatrix(rows: 1, columns: 3, rowPointers: [0, 2], columnIndices: [0, 2], values: [1, 1]))
    }

    func testRowChunks_coverEveryRowOnce_inOrder() {
        let m = RandomInputs.sparse(rows: 300, columns: 40, density: 0.2, seed: 14)
        let chunks = m.rowChunks(targetWork: 50, rowCost: 2)
        XCTAssertGreaterThan(chunks.count, 10)
        XCTAssertEqual(chunks.first?.lowerBound, 0)
        XCTAssertEqual(chunks.last?.upperBound, 300)
        for (a, b) in zip(chunks, chunks.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
    }

    func testRows_keepsTheRangesRowsAndEveryColumn() throws {
        let m = try SparseMatrix(rows: 4, columns: 3, rowPointers: [0, 1, 1, 3, 4], columnIndices: [2, 0, 1, 2], values: [1, 2, 3, 4])
        let middle = m.rows(1..<3)
        XCTAssertEqual(middle, try SparseMatrix(rows: 2, columns: 3, rowPointers: [0, 0, 2], columnIndices: [0, 1], values: [2, 3]))
        XCTAssertEqual(m.rows(0..<4), m)
        XCTAssertEqual(m.rows(4..<4).rows, 0)
    }

    func testCompactMapValues_dropsEntriesAndKeepsShape() {
        let m = RandomInputs.sparse(rows: 20, columns: 9, density: 0.5, seed: 15)
        let big = m.compactMapValues { $0 >= 3 ? $0 * 2 : nil }
        XCTAssertEqual(big.rows, 20)
        XCTAssertEqual(big.nonZeros, m.values.filter { $0 >= 3 }.count)
        XCTAssertTrue(big.values.allSatisfy { $0 >= 6 })
    }
}
