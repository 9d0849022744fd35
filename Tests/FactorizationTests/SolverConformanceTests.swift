@testable import Factorization
import Linalg
import TestSupport
import XCTest

/// One suite, run against every solver, so Cholesky and CG are held to the same behaviour.
final class SolverConformanceTests: XCTestCase {
    let solvers = ALSConfiguration.Solver.allCases

    func configuration(_ solver: ALSConfiguration.Solver, threads: Int = 2, seed: UInt64 = 7) -> ALSConfiguration {
        ALSConfiguration(factors: 6, regularization: 0.1, alpha: 2, iterations: 4, solver: solver, threads: threads, seed: seed)
    }

    /// 30 users × 20 items; user 4 has nothing, user 5 has one item, item 13 nobody touched.
    func fixture() -> SparseMatrix {
        let base = RandomInputs.sparse(rows: 30, columns: 20, density: 0.25, seed: 21)
        var r = [Int32](), c = [Int32](), v = [Float]()
        for u in 0..<30 where u != 4 && u != 5 {
            for (i, w) in zip(base.row(u).columns, base.row(u).values) where i != 13 {
                r.append(Int32(u)); c.append(i); v.append(w)
            }
        }
        r.append(5); c.append(2); v.append(3)
        return try! SparseMatrix(rows: 30, columns: 20, rowIndices: r, columnIndices: c, values: v)
    }

    func testEverySolver_returnsFactorsOfTheRightShape() throws {
        for solver in solvers {
            let model = try ImplicitALS(configuration: configuration(solver)).fit(fixture(), logger: .quiet)
            XCTAssertEqual(model.userFactors.rows, 30, "\(solver)")
            XCTAssertEqual(model.userFactors.columns, 6, "\(solver)")
            XCTAssertEqual(model.itemFactors.rows, 20, "\(solver)")
            XCTAssertEqual(model.itemFactors.columns, 6, "\(solver)")
            XCTAssertTrue(model.userFactors.isFinite && model.itemFactors.isFinite, "\(solver)")
        }
    }

    func testEverySolver_givesZeroVectors_toEmptyUsersAndUntouchedItems() throws {
        for solver in solvers {
            let model = try ImplicitALS(configuration: configuration(solver)).fit(fixture(), logger: .quiet)
            XCTAssertEqual(model.userFactors.row(4), [Float](repeating: 0, count: 6), "\(solver)")
            XCTAssertEqual(model.itemFactors.row(13), [Float](repeating: 0, count: 6), "\(solver)")
        }
    }

    func testEverySolver_fitsAUserWithOneItem_towardsThatItem() throws {
        for solver in solvers {
            let model = try ImplicitALS(configuration: configuration(solver)).fit(fixture(), logger: .quiet)
            let x = model.userFactors.row(5), y = model.itemFactors.row(2)
            let score = zip(x, y).reduce(0) { $0 + $1.0 * $1.1 }
            XCTAssertGreaterThan(score, 0.1, "\(solver): the user's only item should score clearly")
        }
    }

    func testEverySolver_givesIdenticalBytes_forAnyThreadCount() throws {
        // Large enough that the sweeps have many chunks and the Gram several blocks.
        let data = RandomInputs.sparse(rows: 9000, columns: 300, density: 0.02, seed: 22)
        for solver in solvers {
            var config = configuration(solver, threads: 1)
            config.iterations = 2
            let one = try ImplicitALS(configuration: config).fit(data, logger: .quiet)
            for threads in [2, 3] {
                config.threads = threads
                let many = try ImplicitALS(configuration: config).fit(data, logger: .quiet)
                XCTAssertEqual(one.userFactors, many.userFactors, "\(solver), \(threads) threads")
                XCTAssertEqual(one.itemFactors, many.itemFactors, "\(solver), \(threads) threads")
            }
        }
    }

    func testEverySolver_isReproducibleFromItsSeed() throws {
        for solver in solvers {
            let a = try ImplicitALS(configuration: configuration(solver, seed: 1)).fit(fixture(), logger: .quiet)
            let b = try ImplicitALS(configuration: configuration(solver, seed: 1)).fit(fixture(), logger: .quiet)
            let c = try ImplicitALS(configuration: configuration(solver, seed: 2)).fit(fixture(), logger: .quiet)
            XCTAssertEqual(a, b, "\(solver)")
            XCTAssertNotEqual(a.itemFactors, c.itemFactors, "\(solver)")
        }
    }

    func testEverySolver_reportsDivergence_asTrainingError() {
        for solver in solvers {
            var config = configuration(solver)
            config.alpha = 1e38
            XCTAssertThrowsError(try ImplicitALS(configuration: config).fit(fixture(), logger: .quiet), "\(solver)") { error in
                switch error as? TrainingError {
                case .nonFiniteFactors(iteration: 1, side: .items, _), .solveFailed(iteration: 1, side: .items, _, _):
                    XCTAssertFalse("\(error)".isEmpty)
                default: XCTFail("\(solver): unexpected \(error)")
                }
            }
        }
    }

    func testEverySolver_rejectsNegativeWeights_andBadConfiguration() {
        let bad = try! SparseMatrix(rows: 2, columns: 2, rowPointers: [0, 1, 2], columnIndices: [0, 1], values: [1, -1])
        for solver in solvers {
            XCTAssertThrowsError(try ImplicitALS(configuration: configuration(solver)).fit(bad, logger: .quiet)) { error in
                guard case .invalidInput(let reason) = error as? TrainingError else { return XCTFail("\(error)") }
                XCTAssertTrue(reason.contains("row 1"), reason)
            }
            var config = configuration(solver)
            config.factors = 0
            XCTAssertThrowsError(try ImplicitALS(configuration: config).fit(fixture(), logger: .quiet)) { error in
                XCTAssertEqual(error as? TrainingError, .invalidConfiguration(field: "factors", reason: "must be 1…4096"))
            }
        }
    }
}
