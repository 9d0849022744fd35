@testable import Factorization
import Linalg
import TestSupport
import XCTest

/// The iALS++ parameters — the unobserved weight α₀ and the frequency-scaled penalty
/// λ·(n + α₀·N)^ν — against a dense Double reference written from the paper's objective.
final class IALSPlusPlusTests: XCTestCase {
    static let settings: [(a0: Float, nu: Float)] = [(1, 0), (0.2, 0), (3, 0), (1, 0.5), (0.3, 1), (2, 0.25)]

    func solveRow(_ solver: some RowSolver, fixed: Matrix, items: [Int32], values: [Float], config: ALSConfiguration, start: [Float]) throws -> [Float] {
        let weighting = SweepWeighting(config, others: fixed.rows)
        let gram = fixed.gram(ridge: weighting.gramRidge, parallel: ParallelFor(threads: 1))
        var x = start
        let ws = RowWorkspace(factors: fixed.columns)
        try items.withUnsafeBufferPointer { ib in
            try values.withUnsafeBufferPointer { vb in
                try solver.solve(
                    RowEntries(indices: ib.baseAddress!, values: vb.baseAddress!, alpha: weighting.alpha, count: ib.count,
                               ridge: weighting.rowRidge(count: ib.count)),
                    fixed: fixed.storage, gram: gram, x: &x, workspace: ws)
            }
        }
        return x
    }

    func testEverySolver_solvesTheIALSPlusPlusRow() throws {
        let levels = Array(Set([KernelLevel.reference, .best, .blas])).sorted()
        for (n, setting) in Self.settings.enumerated() {
            let f = [4, 8, 16, 13, 32, 24][n]
            let fixed = RandomInputs.matrix(rows: 120, columns: f, seed: UInt64(40 + n))
            var rng = SeededGenerator(seed: UInt64(60 + n))
            let items = Array(Set((0..<25).map { _ in Int32(rng.nextIndex(below: 120)) })).sorted()
            let values = items.map { _ in Float(1 + rng.nextIndex(below: 5)) }
            let config = ALSConfiguration(factors: f, regularization: 0.05, alpha: 1.5, unobservedWeight: setting.a0, regularizationExponent: setting.nu)
            let expected = DenseReference.iALSRow(
                fixed: fixed, items: items.map(Int.init), weights: values, regularization: 0.05, alpha: 1.5,
                unobservedWeight: Double(setting.a0), exponent: Double(setting.nu))
            let zero = [Float](repeating: 0, count: f)
            let exact = try solveRow(CholeskySolver(), fixed: fixed, items: items, values: values, config: config, start: zero)
            XCTAssertLessThanOrEqual(DenseReference.relativeError(exact, expected), 1e-4, "Cholesky \(setting)")
            for level in levels {
                let x = try solveRow(ConjugateGradientSolver(steps: 4 * f, level: level), fixed: fixed, items: items, values: values,
                                     config: config, start: zero)
                XCTAssertLessThanOrEqual(DenseReference.relativeError(x, expected), 1e-3, "CG \(level) \(setting)")
            }
        }
    }

    /// Two full iterations of the Cholesky trainer against the same alternation done densely in
    /// Double from the same start: checks that each side is regularised by its own row counts
    /// and the other side's size.
    func testCholeskyFit_equalsADenseDoubleAlternation() throws {
        let data = RandomInputs.sparse(rows: 30, columns: 20, density: 0.25, seed: 71)
        for setting: (a0: Float, nu: Float) in [(0.5, 0.5), (2, 1), (1, 0)] {
            var config = ALSConfiguration(factors: 4, regularization: 0.1, alpha: 2, iterations: 0, solver: .cholesky, threads: 2,
                                          unobservedWeight: setting.a0, regularizationExponent: setting.nu)
            let start = try ImplicitALS(configuration: config).fit(data, logger: .quiet)
            config.iterations = 2
            let fitted = try ImplicitALS(configuration: config).fit(data, logger: .quiet)
            var users = start.userFactors, items = start.itemFactors
            let transposed = data.transposed()
            for _ in 0..<2 {
                items = Self.denseSweep(transposed, fixed: users, config)
                users = Self.denseSweep(data, fixed: items, config)
            }
            XCTAssertLessThanOrEqual(DenseReference.relativeError(fitted.itemFactors.storage, items.storage.map(Double.init)), 1e-3, "\(setting)")
            XCTAssertLessThanOrEqual(DenseReference.relativeError(fitted.userFactors.storage, users.storage.map(Double.init)), 1e-3, "\(setting)")
        }
    }

    static func denseSweep(_ rows: SparseMatrix, fixed: Matrix, _ c: ALSConfiguration) -> Matrix {
        var out = Matrix(rows: rows.rows, columns: fixed.columns)
        for r in 0..<rows.rows {
            let row = rows.row(r)
            let x = row.columns.isEmpty ? [Double](repeating: 0, count: fixed.columns) : DenseReference.iALSRow(
                fixed: fixed, items: row.columns.map(Int.init), weights: Array(row.values), regularization: Double(c.regularization),
                alpha: Double(c.alpha), unobservedWeight: Double(c.unobservedWeight), exponent: Double(c.regularizationExponent))
            for k in 0..<fixed.columns { out[r, k] = Float(x[k]) }
        }
        return out
    }

    func testLoss_equalsTheDenseObjective() throws {
        let data = RandomInputs.sparse(rows: 25, columns: 18, density: 0.3, seed: 31)
        let users = RandomInputs.matrix(rows: 25, columns: 4, seed: 32)
        let items = RandomInputs.matrix(rows: 18, columns: 4, seed: 33)
        for setting in Self.settings {
            let als = ImplicitALS(configuration: ALSConfiguration(factors: 4, regularization: 0.3, alpha: 2, threads: 2,
                                                                  unobservedWeight: setting.a0, regularizationExponent: setting.nu))
            let loss = try als.loss(interactions: data, userFactors: users, itemFactors: items)
            let expected = DenseReference.iALSLoss(data, users: users, items: items, regularization: 0.3, alpha: 2,
                                                   unobservedWeight: Double(setting.a0), exponent: Double(setting.nu))
            XCTAssertEqual(loss, expected, accuracy: 1e-5 * abs(expected), "\(setting)")
        }
    }

    /// ν = 0 is `implicit`'s problem with λ/α₀ and α/α₀ (docs/evaluation.md): the same bits.
    func testNuZero_isTheClassicProblemWithLambdaAndAlphaDividedByTheUnobservedWeight() throws {
        let data = RandomInputs.sparse(rows: 80, columns: 50, density: 0.1, seed: 81)
        for solver in ALSConfiguration.Solver.allCases {
            let scaled = ALSConfiguration(factors: 8, regularization: 0.4, alpha: 2, iterations: 4, solver: solver, threads: 2, unobservedWeight: 4)
            let classic = ALSConfiguration(factors: 8, regularization: 0.1, alpha: 0.5, iterations: 4, solver: solver, threads: 2)
            let a = try ImplicitALS(configuration: scaled).fit(data, logger: .quiet)
            let b = try ImplicitALS(configuration: classic).fit(data, logger: .quiet)
            XCTAssertEqual(a.itemFactors.storage, b.itemFactors.storage, "\(solver)")
            XCTAssertEqual(a.userFactors.storage, b.userFactors.storage, "\(solver)")
        }
    }

    func testFoldIn_reproducesTrainedUserFactors_withIALSPlusPlusParameters() throws {
        let data = RandomInputs.sparse(rows: 60, columns: 30, density: 0.2, seed: 51)
        let config = ALSConfiguration(factors: 8, regularization: 0.1, alpha: 2, iterations: 4, solver: .cholesky, threads: 2,
                                      unobservedWeight: 0.4, regularizationExponent: 0.7)
        let model = try ImplicitALS(configuration: config).fit(data, logger: .quiet)
        let recommender = Recommender(model: model)
        for u in 0..<data.rows where data.count(ofRow: u) > 0 {
            let row = data.row(u)
            let x = try recommender.userVector(items: row.columns.map(Int.init), weights: Array(row.values))
            XCTAssertLessThanOrEqual(DenseReference.relativeError(x, model.userFactors.row(u).map(Double.init)), 1e-4, "user \(u)")
        }
    }

    func testEveryKernelLevel_givesTheSameBits_withARowRidge() throws {
        let data = RandomInputs.sparse(rows: 200, columns: 90, density: 0.05, seed: 91)
        let config = ALSConfiguration(factors: 20, regularization: 0.05, iterations: 3, threads: 2, unobservedWeight: 0.5, regularizationExponent: 0.5)
        let reference = try ImplicitALS(configuration: config, kernels: .reference).fit(data, logger: .quiet)
        for level in [KernelLevel.avx2, .avx512] where level.isSupported {
            let model = try ImplicitALS(configuration: config, kernels: level).fit(data, logger: .quiet)
            XCTAssertEqual(model.itemFactors.storage.map(\.bitPattern), reference.itemFactors.storage.map(\.bitPattern), "\(level)")
        }
    }

    func testBadParameters_areRefusedByName() {
        for (c, field) in [(ALSConfiguration(unobservedWeight: 0), "unobservedWeight"), (ALSConfiguration(unobservedWeight: .nan), "unobservedWeight"),
                           (ALSConfiguration(regularizationExponent: -0.1), "regularizationExponent"),
                           (ALSConfiguration(regularizationExponent: 3), "regularizationExponent")] {
            XCTAssertThrowsError(try c.validate()) { error in
                guard case .invalidConfiguration(let f, _) = error as? TrainingError else { return XCTFail("\(error)") }
                XCTAssertEqual(f, field)
            }
        }
    }
}
