import Foundation
import Linalg
@testable import Factorization
import Privacy
import TestSupport
import XCTest

/// The private item solve: one person's influence on every released statistic is within the
/// stated sensitivity, the noise has the configured scale, the projection and the solve agree
/// with independent dense references, and the fit is reproducible.
final class PrivateSolveTests: XCTestCase {
    let f = 4
    let source = NoiseSource(rawKey: Array(repeating: 3, count: 32))

    func plan(m: Int = 3, epsilon: Double = 8) -> PrivacyPlan {
        var p = PrivacyParameters(epsilon: epsilon)
        p.maxItemsPerUser = m
        p.maxWeight = 2
        p.maxNorm = 1
        return PrivacyPlan(parameters: p, iterations: 5, alpha: 3, unobservedWeight: 0.5, judgingSums: 3)
    }

    /// Users × items with at most `m` items per row and weights in (0, 2]; user 0 is the worst
    /// case: `m` items at the maximal weight and a vector of norm exactly 1.
    func data(users: Int = 40, items: Int = 7, m: Int = 3) -> (SparseMatrix, Matrix) {
        var g = SeededGenerator(seed: 11)
        var rows: [Int32] = [], cols: [Int32] = [], vals: [Float] = []
        for u in 0..<users {
            let chosen = (0..<items).shuffled(using: &g).prefix(u == 0 ? m : 1 + g.nextIndex(below: m))
            for c in chosen.sorted() { rows.append(Int32(u)); cols.append(Int32(c)); vals.append(u == 0 ? 2 : Float(0.1 + 1.9 * g.nextUnit())) }
        }
        let matrix = try! SparseMatrix(rows: users, columns: items, rowIndices: rows, columnIndices: cols, values: vals)
        var factors = Matrix.random(rows: users, columns: f, scale: 1, using: &g)
        for i in factors.storage.indices { factors.storage[i] -= 0.5 }
        factors.clipRows(toNorm: 1)
        let n0 = (0..<f).reduce(Float(0)) { $0 + factors[0, $1] * factors[0, $1] }.squareRoot()
        for j in 0..<f { factors[0, j] /= n0 }
        return (matrix, factors)
    }

    /// Every released statistic (global Gram upper triangle, each item's Gram upper triangle and
    /// right-hand side) as three flat vectors.
    func released(_ m: SparseMatrix, _ users: Matrix, alpha: Double = 3, a0: Double = 0.5) -> (gram: [Double], grams: [Double], rhs: [Double]) {
        let t = m.transposed()
        var grams: [Double] = [], rhs: [Double] = []
        for item in 0..<t.rows {
            let s = ItemStatistics(item: item, itemMajor: t, users: users, alpha: alpha, unobservedWeight: a0)
            for i in 0..<f { for j in i..<f { grams.append(s.gram[i * f + j]) } }
            rhs += s.rhs
        }
        var gram: [Double] = []
        for i in 0..<f {
            for j in i..<f { gram.append((0..<users.rows).reduce(0.0) { $0 + a0 * Double(users[$1, i]) * Double(users[$1, j]) }) }
        }
        return (gram, grams, rhs)
    }

    func rows(_ keep: [Int], of m: SparseMatrix) -> SparseMatrix {
        var r: [Int32] = [], c: [Int32] = [], v: [Float] = []
        for (n, k) in keep.enumerated() {
            let row = m.row(k)
            for (col, value) in zip(row.columns, row.values) { r.append(Int32(n)); c.append(col); v.append(value) }
        }
        return try! SparseMatrix(rows: keep.count, columns: m.columns, rowIndices: r, columnIndices: c, values: v)
    }

    func distance(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() }

    func testRemovingOnePerson_movesEachStatisticByAtMostItsSensitivity_andTheWorstCaseReachesIt() {
        let (matrix, users) = data()
        let plan = plan()
        let full = released(matrix, users)
        var worst = (gram: 0.0, grams: 0.0, rhs: 0.0)
        for person in 0..<matrix.rows {
            // Without the person: their row emptied and their vector zero (they add nothing).
            let keep = (0..<matrix.rows).filter { $0 != person }
            let without = rows(keep, of: matrix)
            var u = Matrix(rows: keep.count, columns: f)
            for (r, k) in keep.enumerated() { for j in 0..<f { u[r, j] = users[k, j] } }
            let less = released(without, u)
            worst.gram = max(worst.gram, distance(full.gram, less.gram))
            worst.grams = max(worst.grams, distance(full.grams, less.grams))
            worst.rhs = max(worst.rhs, distance(full.rhs, less.rhs))
        }
        let bound = (plan.training.mechanism("global_gram").sensitivity, plan.training.mechanism("item_grams").sensitivity,
                     plan.training.mechanism("item_rhs").sensitivity)
        XCTAssertLessThanOrEqual(worst.gram, bound.0 * (1 + 1e-6))
        XCTAssertLessThanOrEqual(worst.grams, bound.1 * (1 + 1e-6))
        XCTAssertLessThanOrEqual(worst.rhs, bound.2 * (1 + 1e-6))
        // Person 0 is built to be the worst case of the item statistics: the bound is attained.
        XCTAssertEqual(worst.rhs, bound.2, accuracy: bound.2 * 1e-5)
        // The upper triangle of uuᵀ has norm ≤ ‖u‖² (equality only for axis-aligned u).
        XCTAssertGreaterThan(worst.grams, bound.1 * 0.5)
    }

    func testPerturbation_addsNoiseOfTheConfiguredScale() {
        let (matrix, users) = data()
        let t = matrix.transposed()
        var gramNoise: [Double] = [], rhsNoise: [Double] = []
        for draw in 0..<400 {
            let exact = ItemStatistics(item: draw % t.rows, itemMajor: t, users: users, alpha: 3, unobservedWeight: 0.5)
            var noisy = exact
            var stream = source.stream("draw \(draw)")
            noisy.perturb(gramScale: 2.5, rhsScale: 0.75, from: &stream)
            for i in 0..<f {
                for j in i..<f { gramNoise.append(noisy.gram[i * f + j] - exact.gram[i * f + j]) }
                XCTAssertEqual(noisy.gram[i * f + (f - 1)], noisy.gram[(f - 1) * f + i], "symmetric")
                rhsNoise.append(noisy.rhs[i] - exact.rhs[i])
            }
        }
        func std(_ x: [Double]) -> Double { (x.reduce(0) { $0 + $1 * $1 } / Double(x.count)).squareRoot() }
        XCTAssertEqual(std(gramNoise), 2.5, accuracy: 2.5 * 0.04)
        XCTAssertEqual(std(rhsNoise), 0.75, accuracy: 0.75 * 0.05)
    }

    func testProjection_equalsTheEigenvalueClampOfAKnownDecomposition() throws {
        // Q: an orthonormal basis by Gram–Schmidt; A = Q·diag(λ)·Qᵀ with two negative λ.
        var g = SeededGenerator(seed: 5)
        var q = (0..<f).map { _ in (0..<f).map { _ in g.nextUnit() - 0.5 } }
        for i in 0..<f {
            for k in 0..<i {
                let d = (0..<f).reduce(0.0) { $0 + q[i][$1] * q[k][$1] }
                for j in 0..<f { q[i][j] -= d * q[k][j] }
            }
            let n = (0..<f).reduce(0.0) { $0 + q[i][$1] * q[i][$1] }.squareRoot()
            for j in 0..<f { q[i][j] /= n }
        }
        let lambda = [3.0, -2.0, 0.5, -0.25]
        func compose(_ l: [Double]) -> [Double] {
            var a = [Double](repeating: 0, count: f * f)
            for k in 0..<f { for i in 0..<f { for j in 0..<f { a[i * f + j] += l[k] * q[k][i] * q[k][j] } } }
            return a
        }
        var a = compose(lambda)
        try SymmetricNoise.projectPositiveSemidefinite(&a, order: f)
        let expected = compose(lambda.map { max($0, 0) })
        for k in a.indices { XCTAssertEqual(a[k], expected[k], accuracy: 1e-12) }
        // A positive-definite matrix is left as it is, bit for bit.
        var b = compose(lambda.map { abs($0) + 0.1 })
        let before = b
        try SymmetricNoise.projectPositiveSemidefinite(&b, order: f)
        XCTAssertEqual(b, before)
    }

    func testItemSolve_withoutNoise_equalsADenseDoubleSolve() throws {
        let (matrix, users) = data()
        let t = matrix.transposed()
        let global = released(matrix, users).gram
        var g = [Double](repeating: 0, count: f * f)
        var k = 0
        for i in 0..<f { for j in i..<f { g[i * f + j] = global[k]; g[j * f + i] = global[k]; k += 1 } }
        for item in 0..<t.rows {
            let s = ItemStatistics(item: item, itemMajor: t, users: users, alpha: 3, unobservedWeight: 0.5)
            let v = try s.solve(globalGram: g, regularization: 0.7)
            let a = (0..<f).map { i in (0..<f).map { j in g[i * f + j] + s.gram[i * f + j] + (i == j ? 0.7 : 0) } }
            let reference = DenseReference.solve(a, s.rhs)
            for j in 0..<f { XCTAssertEqual(v[j], reference[j], accuracy: 1e-9 * max(1, abs(reference[j]))) }
        }
    }

    /// With the noise made negligible and no clipping, the private alternation is plain implicit
    /// ALS: it reaches the dense objective the non-private trainer reaches.
    func testFit_withoutNoiseOrClipping_reachesTheNonPrivateObjective() throws {
        let (matrix, _) = data(users: 300, items: 12, m: 3)
        var p = plan().parameters
        p.maxNorm = 1000
        var quiet = PrivacyPlan(parameters: p, iterations: 15, alpha: 3, unobservedWeight: 0.5, judgingSums: 3)
        for i in 1...3 { quiet.training.mechanisms[i].noiseMultiplier = 1e-15 }
        let config = ALSConfiguration(factors: f, regularization: 1, alpha: 3, iterations: 15, threads: 1, seed: 2, unobservedWeight: 0.5)
        let exact = try ImplicitALS(configuration: config).fit(matrix, logger: .quiet)
        let mine = try PrivateALS(configuration: config, plan: quiet).fit(matrix, noise: source, logger: .quiet)
        func loss(_ m: ALSModel) -> Double {
            DenseReference.iALSLoss(matrix, users: m.userFactors, items: m.itemFactors, regularization: 1, alpha: 3, unobservedWeight: 0.5, exponent: 0)
        }
        XCTAssertLessThanOrEqual(loss(mine), 1.01 * loss(exact))
    }

    func testFit_isReproducible_forAnyThreadCount_andItsNoiseIsTheKeys() throws {
        let (matrix, _) = data(users: 300, items: 12, m: 3)
        var config = ALSConfiguration(factors: f, regularization: 1, alpha: 3, iterations: 5, threads: 1, seed: 2, unobservedWeight: 0.5)
        let one = try PrivateALS(configuration: config, plan: plan()).fit(matrix, noise: source, logger: .quiet)
        config.threads = 2
        let two = try PrivateALS(configuration: config, plan: plan()).fit(matrix, noise: source, logger: .quiet)
        XCTAssertEqual(one.itemFactors.storage, two.itemFactors.storage)
        let other = try PrivateALS(configuration: config, plan: plan()).fit(matrix, noise: NoiseSource(rawKey: Array(repeating: 4, count: 32)), logger: .quiet)
        XCTAssertNotEqual(one.itemFactors.storage, other.itemFactors.storage)
        XCTAssertEqual(one.configuration.solver, .cholesky)
    }

    /// Clipping leaves every row at most the bound in Double, whatever the Float rounding, and
    /// the global Gram matrix in Double matches a dense sum.
    func testClipping_neverLeavesANormAboveTheBound_andTheGlobalGramIsTheDenseSum() {
        var g = SeededGenerator(seed: 5)
        var m = Matrix.random(rows: 2000, columns: 7, scale: 3, using: &g)
        for bound in [0.3, 1.0, 0.1 + 0.2] {
            m.clipRows(toNorm: bound)
            for r in 0..<m.rows {
                let norm = (0..<m.columns).reduce(0.0) { $0 + Double(m[r, $1]) * Double(m[r, $1]) }.squareRoot()
                XCTAssertLessThanOrEqual(norm, bound)
            }
        }
        let (_, users) = data()
        let gram = PrivateALS.globalGram(users, unobservedWeight: 0.5), dense = released(try! SparseMatrix(rows: users.rows, columns: 1, rowIndices: [], columnIndices: [], values: []), users).gram
        var k = 0
        for i in 0..<f { for j in i..<f { XCTAssertEqual(gram[i * f + j], dense[k], accuracy: 1e-12); XCTAssertEqual(gram[j * f + i], dense[k], accuracy: 1e-12); k += 1 } }
    }

    func testFit_refusesContributionsOutsideTheBounds() {
        let over = try! SparseMatrix(rows: 1, columns: 5, rowIndices: [0, 0, 0, 0], columnIndices: [0, 1, 2, 3], values: [1, 1, 1, 1])
        let heavy = try! SparseMatrix(rows: 1, columns: 5, rowIndices: [0], columnIndices: [0], values: [2.5])
        let als = PrivateALS(configuration: ALSConfiguration(factors: f, iterations: 2, threads: 1), plan: plan())
        for m in [over, heavy] {
            XCTAssertThrowsError(try als.fit(m, noise: source, logger: .quiet)) { error in
                guard case TrainingError.invalidInput = error else { return XCTFail("\(error)") }
            }
        }
        var scaled = ALSConfiguration(factors: f, iterations: 2, threads: 1)
        scaled.regularizationExponent = 0.5
        XCTAssertThrowsError(try PrivateALS(configuration: scaled, plan: plan()).fit(heavy, noise: source, logger: .quiet))
    }
}
