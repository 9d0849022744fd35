import Factorization
import Linalg
import TestSupport
import XCTest

final class LossTests: XCTestCase {
    func testLoss_equalsDenseDoubleObjective() throws {
        let data = RandomInputs.sparse(rows: 25, columns: 18, density: 0.3, seed: 31)
        let users = RandomInputs.matrix(rows: 25, columns: 4, seed: 32)
        let items = RandomInputs.matrix(rows: 18, columns: 4, seed: 33)
        let als = ImplicitALS(configuration: ALSConfiguration(factors: 4, regularization: 0.3, alpha: 2, threads: 2))
        let loss = try als.loss(interactions: data, userFactors: users, itemFactors: items)
        let expected = DenseReference.alsLoss(data, users: users, items: items, regularization: 0.3, alpha: 2)
        XCTAssertEqual(loss, expected, accuracy: 1e-5 * abs(expected))
    }

    func testLoss_neverIncreases_acrossCholeskyIterations() throws {
        let data = RandomInputs.sparse(rows: 200, columns: 90, density: 0.08, seed: 34)
        let config = ALSConfiguration(factors: 8, regularization: 0.05, alpha: 4, iterations: 12, solver: .cholesky, threads: 2)
        var losses = [Double]()
        _ = try ImplicitALS(configuration: config).fit(data, logger: .quiet, reportLoss: true) { losses.append($0.loss!) }
        XCTAssertEqual(losses.count, 12)
        for (before, after) in zip(losses, losses.dropFirst()) {
            // Each half-sweep is an exact minimisation; allow only Float32 rounding.
            XCTAssertLessThanOrEqual(after, before * (1 + 1e-6))
        }
        XCTAssertLessThan(losses.last!, losses.first! * 0.999, "training should make progress")
    }

    func testProgress_reportsEveryIteration_inOrder() throws {
        let data = RandomInputs.sparse(rows: 50, columns: 20, density: 0.2, seed: 35)
        var seen = [Int]()
        _ = try ImplicitALS(configuration: ALSConfiguration(factors: 4, iterations: 5, threads: 1)).fit(data, logger: .quiet) { report in
            seen.append(report.iteration)
            XCTAssertEqual(report.iterations, 5)
            XCTAssertNil(report.loss)
            XCTAssertGreaterThanOrEqual(report.seconds, 0)
        }
        XCTAssertEqual(seen, [1, 2, 3, 4, 5])
    }
}
