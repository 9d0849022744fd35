import Linalg
import TestSupport
import XCTest

final class BLASTests: XCTestCase {
    func testGemv_matchesNaiveProduct_inBothOrientations() {
        let a = RandomInputs.matrix(rows: 7, columns: 5, seed: 1)
        let x5 = RandomInputs.matrix(rows: 1, columns: 5, seed: 2).storage
        let x7 = RandomInputs.matrix(rows: 1, columns: 7, seed: 3).storage
        var y = [Float](repeating: 1, count: 7)
        BLAS.gemv(.none, rows: 7, columns: 5, alpha: 2, a: a.storage, lda: 5, x: x5, beta: 0.5, y: &y)
        for i in 0..<7 {
            let expected = 2 * (0..<5).reduce(0.0) { $0 + Double(a[i, $1]) * Double(x5[$1]) } + 0.5
            XCTAssertEqual(Double(y[i]), expected, accuracy: 1e-5)
        }
        var z = [Float](repeating: 0, count: 5)
        BLAS.gemv(.transposed, rows: 7, columns: 5, alpha: 1, a: a.storage, lda: 5, x: x7, beta: 0, y: &z)
        for j in 0..<5 {
            let expected = (0..<7).reduce(0.0) { $0 + Double(a[$1, j]) * Double(x7[$1]) }
            XCTAssertEqual(Double(z[j]), expected, accuracy: 1e-5)
        }
    }

    func testGemm_matchesNaiveProduct_withTransposedLeftOperand() {
        let a = RandomInputs.matrix(rows: 6, columns: 4, seed: 4)  // used as Aᵀ: 4 × 6
        let b = RandomInputs.matrix(rows: 6, columns: 3, seed: 5)
        var c = [Float](repeating: 0, count: 12)
        BLAS.gemm(.transposed, .none, m: 4, n: 3, k: 6, alpha: 1, a: a.storage, lda: 4, b: b.storage, ldb: 3, beta: 0, c: &c, ldc: 3)
        for i in 0..<4 {
            for j in 0..<3 {
                let expected = (0..<6).reduce(0.0) { $0 + Double(a[$1, i]) * Double(b[$1, j]) }
                XCTAssertEqual(Double(c[i * 3 + j]), expected, accuracy: 1e-5)
            }
        }
    }

    func testSyrkLower_addsGramOfRowBlock_toLowerTriangle() {
        let a = RandomInputs.matrix(rows: 9, columns: 4, seed: 6)
        var c = [Float](repeating: 1, count: 16)
        BLAS.syrkLower(order: 4, count: 9, alpha: 1, a: a.storage, beta: 1, c: &c)
        for j in 0..<4 {
            for i in j..<4 {  // column-major lower: (i, j) at j*4 + i
                let expected = 1 + (0..<9).reduce(0.0) { $0 + Double(a[$1, i]) * Double(a[$1, j]) }
                XCTAssertEqual(Double(c[j * 4 + i]), expected, accuracy: 1e-5)
            }
        }
    }

    func testDotAndAxpy_matchNaiveLoops() {
        let x = RandomInputs.matrix(rows: 1, columns: 33, seed: 7).storage
        var y = RandomInputs.matrix(rows: 1, columns: 33, seed: 8).storage
        let before = y
        XCTAssertEqual(Double(BLAS.dot(count: 33, x, y)), zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }, accuracy: 1e-5)
        BLAS.axpy(count: 33, alpha: -3, x: x, y: &y)
        for i in 0..<33 { XCTAssertEqual(y[i], before[i] - 3 * x[i], accuracy: 1e-6) }
    }

    func testSolvePositiveDefinite_matchesDoubleReference() throws {
        let f = 12
        let m = RandomInputs.matrix(rows: 30, columns: f, seed: 9)
        var a = m.gram(ridge: 0.5, parallel: ParallelFor(threads: 1))
        let aDouble = (0..<f).map { i in (0..<f).map { j in Double(a[i * f + j]) } }
        var b = RandomInputs.matrix(rows: 1, columns: f, seed: 10).storage
        let expected = DenseReference.solve(aDouble, b.map(Double.init))
        try LAPACK.solvePositiveDefinite(order: f, a: &a, b: &b)
        XCTAssertLessThan(DenseReference.relativeError(b, expected), 1e-5)
    }

    func testSolvePositiveDefinite_throwsForIndefiniteMatrix() {
        var a: [Float] = [1, 2, 2, 1]  // eigenvalues 3 and −1
        var b: [Float] = [1, 1]
        XCTAssertThrowsError(try LAPACK.solvePositiveDefinite(order: 2, a: &a, b: &b)) { error in
            XCTAssertEqual(error as? LinalgError, .notPositiveDefinite(routine: "sposv", minor: 2))
        }
    }

    func testBLASThreads_setAndRestore() {
        let before = BLASThreads.current
        BLASThreads.set(1)
        XCTAssertEqual(BLASThreads.current, 1)
        BLASThreads.set(before)
        XCTAssertEqual(BLASThreads.current, before)
        XCTAssertFalse(BLASThreads.configuration.isEmpty)
    }
}
