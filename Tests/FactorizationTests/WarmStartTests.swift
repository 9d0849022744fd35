import Factorization
import Interactions
import Linalg
import SyntheticData
import TestSupport
import XCTest

/// Fits that start from an earlier model's factors.
final class WarmStartTests: XCTestCase {
    let full = SyntheticInteractions.generate(.init(users: 400, items: 150, nonZeros: 6_000, communities: 8, affinity: 0.8), seed: 4)
    let config = ALSConfiguration(factors: 12, regularization: 0.5, iterations: 12, threads: 2, seed: 5)

    /// The model trained on 80% of `full`, and where each of its rows sits: every user and
    /// item with an entry in that part (the others it never saw).
    func heldOut() throws -> WarmStart {
        let (part, _) = InteractionSplit.random(full, testFraction: 0.2, seed: 6)
        let model = try ImplicitALS(configuration: config).fit(part, logger: .quiet)
        let columns = part.transposed()
        return WarmStart(
            model: model,
            userRows: (0..<part.rows).map { part.count(ofRow: $0) > 0 ? Int32($0) : -1 },
            itemRows: (0..<part.columns).map { columns.count(ofRow: $0) > 0 ? Int32($0) : -1 })
    }

    func testZeroIterations_giveTheEarlierFactorsWhereMapped_andTheColdStartElsewhere() throws {
        var zero = config
        zero.iterations = 0
        let cold = try ImplicitALS(configuration: zero).fit(full, logger: .quiet)
        // A model of other shape, its rows mapped in a scrambled order onto some rows only.
        let earlier = ALSModel(
            configuration: config,
            userFactors: Matrix(rows: 7, columns: 12, storage: (0..<84).map { Float($0) + 0.5 }),
            itemFactors: Matrix(rows: 3, columns: 12, storage: (0..<36).map { -Float($0) }))
        var userRows = [Int32](repeating: -1, count: full.rows)
        userRows[0] = 6; userRows[5] = 0; userRows[399] = 3
        var itemRows = [Int32](repeating: -1, count: full.columns)
        itemRows[149] = 2; itemRows[1] = 1
        let warm = try ImplicitALS(configuration: zero)
            .fit(full, warmStart: WarmStart(model: earlier, userRows: userRows, itemRows: itemRows), logger: .quiet)

        for row in 0..<full.rows {
            let expected = userRows[row] >= 0 ? earlier.userFactors.row(Int(userRows[row])) : cold.userFactors.row(row)
            XCTAssertEqual(warm.userFactors.row(row), expected, "user \(row)")
        }
        for row in 0..<full.columns {
            let expected = itemRows[row] >= 0 ? earlier.itemFactors.row(Int(itemRows[row])) : cold.itemFactors.row(row)
            XCTAssertEqual(warm.itemFactors.row(row), expected, "item \(row)")
        }
    }

    func testAFewWarmIterations_reachTheLossOfAFullColdFit() throws {
        let start = try heldOut()
        let als = ImplicitALS(configuration: config)
        let cold = try als.fit(full, logger: .quiet)
        var few = config
        few.iterations = 4
        let warm = try ImplicitALS(configuration: few).fit(full, warmStart: start, logger: .quiet)
        let coldLoss = try als.loss(interactions: full, userFactors: cold.userFactors, itemFactors: cold.itemFactors)
        let warmLoss = try als.loss(interactions: full, userFactors: warm.userFactors, itemFactors: warm.itemFactors)
        XCTAssertLessThanOrEqual(warmLoss, coldLoss * 1.001)
        // From random factors, four iterations are far from it: the start is what helps.
        let short = try ImplicitALS(configuration: few).fit(full, logger: .quiet)
        let shortLoss = try als.loss(interactions: full, userFactors: short.userFactors, itemFactors: short.itemFactors)
        XCTAssertGreaterThan(shortLoss, coldLoss * 1.01)
    }

    func testWarmFits_giveTheSameBits_forAnyThreadCountAndSolverRun() throws {
        let start = try heldOut()
        for solver in ALSConfiguration.Solver.allCases {
            var c = config
            c.iterations = 3
            c.solver = solver
            c.threads = 1
            let one = try ImplicitALS(configuration: c).fit(full, warmStart: start, logger: .quiet)
            c.threads = 3
            let three = try ImplicitALS(configuration: c).fit(full, warmStart: start, logger: .quiet)
            XCTAssertEqual(one.itemFactors.storage.map(\.bitPattern), three.itemFactors.storage.map(\.bitPattern), "\(solver)")
            XCTAssertEqual(one.userFactors.storage.map(\.bitPattern), three.userFactors.storage.map(\.bitPattern), "\(solver)")
        }
    }

    func testAMismatchedStart_isRefusedNamingWhatDiffers() throws {
        let start = try heldOut()
        func refusal(_ bad: WarmStart, factors: Int = 12) -> String {
            var c = config
            c.factors = factors
            do {
                _ = try ImplicitALS(configuration: c).fit(full, warmStart: bad, logger: .quiet)
                return "accepted"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(refusal(WarmStart(model: start.model, userRows: Array(start.userRows.dropLast()), itemRows: start.itemRows))
            .contains("399 × 150 rows and columns onto a 400 × 150 matrix"))
        XCTAssertTrue(refusal(start, factors: 16).contains("12 factors, the fit 16"))
        var beyond = start.itemRows
        beyond[0] = Int32(start.model.itemFactors.rows)
        XCTAssertTrue(refusal(WarmStart(model: start.model, userRows: start.userRows, itemRows: beyond)).contains("does not have"))
    }

    /// A start from published item factors: mapped items take the earlier rows (vanished ones
    /// are simply not mapped), new items keep the cold start, and every user is first solved
    /// exactly against those items — then the iterations run as usual.
    func testItemsOnly_mapsItemsByRow_andSolvesUsersFirst() throws {
        var zero = config
        zero.iterations = 0
        zero.solver = .cholesky
        let cold = try ImplicitALS(configuration: zero).fit(full, logger: .quiet)
        let earlier = RandomInputs.matrix(rows: 200, columns: config.factors, seed: 77)  // 200 rows: some vanished
        let itemRows: [Int32] = (0..<full.columns).map { (i: Int) -> Int32 in i % 3 == 0 ? -1 : Int32((i * 7) % 200) }
        let start = WarmStart(itemFactors: earlier, itemRows: itemRows, users: full.rows, configuration: zero)
        XCTAssertEqual(start.knownUsers, 0)
        let model = try ImplicitALS(configuration: zero).fit(full, warmStart: start, logger: .quiet)
        for (i, from) in itemRows.enumerated() {
            XCTAssertEqual(model.itemFactors.row(i), from >= 0 ? earlier.row(Int(from)) : cold.itemFactors.row(i), "item \(i)")
        }
        for u in stride(from: 0, to: full.rows, by: 37) {
            let row = full.row(u)
            let exact = DenseReference.alsRow(fixed: model.itemFactors, items: row.columns.map(Int.init), weights: Array(row.values),
                                              regularization: Double(config.regularization), alpha: Double(config.alpha))
            XCTAssertLessThanOrEqual(DenseReference.relativeError(model.userFactors.row(u), exact), 1e-4, "user \(u)")
        }
        // From a converged model's items, three iterations reach the loss twelve cold ones do.
        let converged = try ImplicitALS(configuration: config).fit(full, logger: .quiet)
        var short = config
        short.iterations = 3
        let warm = try ImplicitALS(configuration: short).fit(
            full, warmStart: WarmStart(itemFactors: converged.itemFactors, itemRows: (0..<Int32(full.columns)).map { $0 }, users: full.rows,
                                       configuration: short), logger: .quiet)
        let als = ImplicitALS(configuration: config)
        let target = try als.loss(interactions: full, userFactors: converged.userFactors, itemFactors: converged.itemFactors)
        let reached = try als.loss(interactions: full, userFactors: warm.userFactors, itemFactors: warm.itemFactors)
        XCTAssertLessThanOrEqual(reached, target * 1.01)
    }
}
