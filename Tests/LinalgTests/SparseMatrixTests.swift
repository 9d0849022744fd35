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

    func testCompactMapValues_dropsEntriesAndKeepsShape() {
        let m = RandomInputs.sparse(rows: 20, columns: 9, density: 0.5, seed: 15)
        let big = m.compactMapValues { $0 >= 3 ? $0 * 2 : nil }
        XCTAssertEqual(big.rows, 20)
        XCTAssertEqual(big.nonZeros, m.values.filter { $0 >= 3 }.count)
        XCTAssertTrue(big.values.allSatisfy { $0 >= 6 })
    }
}
