import Factorization
import Linalg
import SyntheticData
import TestSupport
import XCTest

/// Training with each level of the CG row kernel.
final class KernelLevelTests: XCTestCase {
    let matrix = SyntheticInteractions.generate(.init(users: 300, items: 120, nonZeros: 4_000), seed: 9)

    func fit(_ level: KernelLevel, threads: Int = 2, factors: Int = 24) throws -> ALSModel {
        let config = ALSConfiguration(factors: factors, iterations: 4, threads: threads, seed: 3)
        return try ImplicitALS(configuration: config, kernels: level).fit(matrix, logger: .quiet)
    }

    func testEveryFusedLevelTrainsTheSameBits() throws {
        let reference = try fit(.reference)
        for level in [KernelLevel.avx2, .avx512] where level.isSupported {
            let model = try fit(level)
            XCTAssertEqual(model.itemFactors.storage.map(\.bitPattern), reference.itemFactors.storage.map(\.bitPattern), "\(level)")
            XCTAssertEqual(model.userFactors.storage.map(\.bitPattern), reference.userFactors.storage.map(\.bitPattern), "\(level)")
        }
        // Any thread count, too.
        XCTAssertEqual(try fit(.best, threads: 1).itemFactors.storage, try fit(.best, threads: 3).itemFactors.storage)
    }

    func testTheFusedKernelAndTheBLASPathSolveTheSameProblem() throws {
        // Different rounding, same algorithm: close, and the same loss to a few digits.
        let fused = try fit(.reference, factors: 20)
        let blas = try fit(.blas, factors: 20)
        let als = ImplicitALS(configuration: ALSConfiguration(factors: 20, iterations: 4, threads: 2, seed: 3))
        let a = try als.loss(interactions: matrix, userFactors: fused.userFactors, itemFactors: fused.itemFactors)
        let b = try als.loss(interactions: matrix, userFactors: blas.userFactors, itemFactors: blas.itemFactors)
        XCTAssertEqual(a, b, accuracy: 1e-4 * abs(a))
        let difference = zip(fused.itemFactors.storage, blas.itemFactors.storage).map { abs($0 - $1) }.max()!
        let scale = fused.itemFactors.storage.map(abs).max()!
        XCTAssertLessThan(difference, 1e-3 * scale)
        XCTAssertNotEqual(fused.itemFactors.storage, blas.itemFactors.storage, "the two paths should round differently")
    }
}
