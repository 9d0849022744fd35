@testable import Factorization
import Linalg
import TestSupport
import XCTest

/// The solvers against a naive dense solve of the normal equations in Double.
final class ReferenceSolutionTests: XCTestCase {
    /// Runs one solver on one row and returns the new factor.
    func solveRow(
        _ solver: some RowSolver, fixed: Matrix, items: [Int32], values: [Float], alpha: Float = 1,
        regularization: Float, start: [Float]
    ) throws -> [Float] {
        let gram = fixed.gram(ridge: regularization, parallel: ParallelFor(threads: 1))
        var x = start
        let ws = RowWorkspace(factors: fixed.columns)
        try items.withUnsafeBufferPointer { ib in
            try values.withUnsafeBufferPointer { vb in
                try solver.solve(
                    RowEntries(indices: ib.baseAddress!, values: vb.baseAddress!, alpha: alpha, count: ib.count),
                    fixed: fixed.storage, gram: gram, x: &x, workspace: ws)
            }
        }
        return x
    }

    func randomRow(items: Int, of total: Int, seed: UInt64) -> ([Int32], [Float]) {
        var rng = SeededGenerator(seed: seed)
        var chosen = Set<Int32>()
        while chosen.count < items { chosen.insert(Int32(rng.nextIndex(below: total))) }
        let sorted = chosen.sorted()
        return (sorted, sorted.map { _ in Float(1 + rng.nextIndex(below: 9)) })
    }

    func testCholeskyRow_equalsDoubleNormalEquations_onRandomInputs() throws {
        for (seed, f, n) in [(1 as UInt64, 4, 3), (2, 8, 40), (3, 16, 120), (4, 32, 1)] {
            let fixed = RandomInputs.matrix(rows: 150, columns: f, seed: seed)
            let (items, r) = randomRow(items: n, of: 150, seed: seed + 100)
            let alpha: Float = 1.5, lambda: Float = 0.05
            let x = try solveRow(
                CholeskySolver(), fixed: fixed, items: items, values: r, alpha: alpha,
                regularization: lambda, start: [Float](repeating: 0, count: f))
            let expected = DenseReference.alsRow(
                fixed: fixed, items: items.map(Int.init), weights: r, regularization: Double(lambda), alpha: Double(alpha))
            XCTAssertLessThanOrEqual(DenseReference.relativeError(x, expected), 1e-4, "f = \(f), n = \(n)")
        }
    }

    func testCholeskyRow_longerThanOneSegment_equalsDoubleReference() throws {
        let rows = RowWorkspace.segmentRows + 3000
        let fixed = RandomInputs.matrix(rows: rows, columns: 4, seed: 5)
        let items = (0..<Int32(rows)).filter { $0 % 7 != 3 }
        let r = items.map { Float(1 + $0 % 3) }
        let x = try solveRow(
            CholeskySolver(), fixed: fixed, items: items, values: r, alpha: 0.5,
            regularization: 0.1, start: [0, 0, 0, 0])
        let expected = DenseReference.alsRow(
            fixed: fixed, items: items.map(Int.init), weights: r, regularization: 0.1, alpha: 0.5)
        XCTAssertLessThanOrEqual(DenseReference.relativeError(x, expected), 1e-4)
    }

    /// The CG paths this machine runs: the fused kernel's reference and best level, and BLAS.
    var cgLevels: [KernelLevel] { Array(Set([KernelLevel.reference, .best, .blas])).sorted() }

    func testConjugateGradient_withEnoughSteps_convergesToExactSolution() throws {
        for level in cgLevels { try conjugateGradientConverges(level) }
    }

    func conjugateGradientConverges(_ level: KernelLevel) throws {
        for (seed, f, n) in [(6 as UInt64, 8, 30), (7, 16, 80), (8, 32, 200), (11, 64, 50), (12, 13, 20)] {
            let fixed = RandomInputs.matrix(rows: 300, columns: f, seed: seed)
            let (items, r) = randomRow(items: n, of: 300, seed: seed + 100)
            let start = RandomInputs.matrix(rows: 1, columns: f, seed: seed + 200).storage
            let x = try solveRow(
                ConjugateGradientSolver(steps: 3 * f, level: level), fixed: fixed, items: items, values: r,
                regularization: 0.1, start: start)
            let expected = DenseReference.alsRow(
                fixed: fixed, items: items.map(Int.init), weights: r, regularization: 0.1, alpha: 1)
            XCTAssertLessThanOrEqual(DenseReference.relativeError(x, expected), 1e-3, "\(level) f = \(f)")
            // And a few steps from the same start get part of the way, not all of it: the
            // step count is honoured.
            let few = try solveRow(
                ConjugateGradientSolver(steps: 1, level: level), fixed: fixed, items: items, values: r,
                regularization: 0.1, start: start)
            XCTAssertGreaterThan(DenseReference.relativeError(few, expected), 1e-3, "\(level) f = \(f)")
        }
    }

    func testConjugateGradient_longerThanOneSegment_convergesToExactSolution() throws {
        for level in cgLevels { try conjugateGradientConvergesOnALongRow(level) }
    }

    func conjugateGradientConvergesOnALongRow(_ level: KernelLevel) throws {
        let rows = RowWorkspace.segmentRows + 500
        let fixed = RandomInputs.matrix(rows: rows, columns: 4, seed: 9)
        let items = (0..<Int32(rows)).filter { $0 % 5 != 0 }
        let r = items.map { Float(1 + $0 % 4) }
        let x = try solveRow(
            ConjugateGradientSolver(steps: 12, level: level), fixed: fixed, items: items, values: r,
            regularization: 0.1, start: [0.01, 0.01, 0.01, 0.01])
        let expected = DenseReference.alsRow(
            fixed: fixed, items: items.map(Int.init), weights: r, regularization: 0.1, alpha: 1)
        XCTAssertLessThanOrEqual(DenseReference.relativeError(x, expected), 1e-3, "\(level)")
    }

    func testTrainedCholeskyUsers_solveTheirRows_givenFinalItemFactors() throws {
        let data = RandomInputs.sparse(rows: 40, columns: 25, density: 0.3, seed: 10)
        let config = ALSConfiguration(factors: 5, regularization: 0.2, alpha: 3, iterations: 3, solver: .cholesky, threads: 2)
        let model = try ImplicitALS(configuration: config).fit(data, logger: .quiet)
        for u in 0..<40 where data.count(ofRow: u) > 0 {
            let expected = DenseReference.alsRow(
                fixed: model.itemFactors, items: data.row(u).columns.map(Int.init),
                weights: Array(data.row(u).values), regularization: 0.2, alpha: 3)
            XCTAssertLessThanOrEqual(DenseReference.relativeError(model.userFactors.row(u), expected), 1e-4, "user \(u)")
        }
    }
}
