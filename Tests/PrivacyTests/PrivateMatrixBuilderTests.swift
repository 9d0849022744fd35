import Consent
import Factorization
import Foundation
import Ingest
@testable import Interactions
import Linalg
import Privacy
import TestSupport
import XCTest

/// The private matrices: groups, bounds, and the vocabulary's hard and noisy rules.
final class PrivateMatrixBuilderTests: XCTestCase {
    let fixture = EventsFixture()
    let header = "timestamp,workspace_id,user_id,channel_id,event,emoji\n"
    let groups = NoiseSource(rawKey: Array(repeating: 1, count: 32))
    let noise = NoiseSource(rawKey: Array(repeating: 2, count: 32))
    /// The run's window: the training matrix's provenance gives it, not its events' own span.
    let window: ClosedRange<Int64> = 500...9000

    /// 40 workspaces × 30 users: "common" used by everyone with 6 other shared emoji each, and
    /// "loner" used by every user of workspace 0 alone (one workspace: never admissible).
    func log() throws -> EventLog {
        var rows: [String] = []
        let shared = (0..<20).map { "e\($0)" }
        for w in 0..<40 {
            for u in 0..<30 {
                rows.append("\(1000 + u),W\(w),U\(u),C,react,common")
                for k in 0..<6 { rows.append("\(2000 + k),W\(w),U\(u),C,react,\(shared[(w + u + k * 3) % 20])") }
                for r in 0..<5 { rows.append("\(3000 + r),W\(w),U\(u),C,react,common") }  // weight above the cap
                if w == 0 { rows.append("4000,W0,U\(u),C,react,loner") }
            }
        }
        return try fixture.read("p.csv", header + rows.joined(separator: "\n") + "\n")
    }

    func builder(
        m: Int = 4, bounding: PrivacyParameters.Bounding = .uniform, epsilon: Double = 8, maxWeight: Double = 1.5, minUserItems: Int = 1
    ) -> PrivateMatrixBuilder {
        var p = PrivacyParameters(epsilon: epsilon)
        p.maxItemsPerUser = m
        p.bounding = bounding
        p.maxWeight = maxWeight
        let plan = PrivacyPlan(parameters: p, iterations: 5, alpha: 1, unobservedWeight: 1, judgingSums: 3)
        let definition = RecommenderDefinition(target: .emoji, scope: .global, weights: [.react: 1], logScaling: true,
                                               minUserItems: minUserItems, minItemUsers: 1, minEmojiWorkspaces: 5, minEmojiUsers: 25)
        return PrivateMatrixBuilder(definition: definition, plan: plan, groups: groups, noise: noise, split: .random(fraction: 0.3, seed: 0))
    }

    func testTrainingRows_meetTheBounds_andTheGroupsAreDisjoint() throws {
        let log = try log()
        let result = builder().build(log, window: window)
        let m = try XCTUnwrap(result.training)
        for r in 0..<m.matrix.rows { XCTAssertLessThanOrEqual(m.matrix.count(ofRow: r), 4) }
        XCTAssertTrue(m.matrix.values.allSatisfy { $0 > 0 && $0 <= 1.5 })
        XCTAssertGreaterThan(result.report.weightsCapped, 0, "'common' five times over is capped")
        XCTAssertGreaterThan(result.report.pairsBoundedOut, 0)
        let heldOut = Set(result.heldOutTest.map { log.vocabulary.users[Int(log.users[$0])] })
        XCTAssertTrue(heldOut.isDisjoint(with: m.userIDs))
        XCTAssertEqual(result.report.trainingPeople + result.report.heldOutPeople, 1200)
        XCTAssertEqual(Double(result.report.heldOutPeople) / 1200, 0.1, accuracy: 0.03)
        // Every event of a held-out person is in exactly one of their parts.
        XCTAssertTrue(Set(result.heldOutFoldIn).isDisjoint(with: result.heldOutTest))
        // The provenance's span is the window (the events' own span is 1000…4000, one person's each end).
        XCTAssertEqual(m.provenance.oldestEvent, 500)
        XCTAssertEqual(m.provenance.newestEvent, 9000)
        XCTAssertEqual(m.provenance.workspaces.count, 40)
    }

    func testVocabulary_neverAdmitsAnEmojiOfTooFewWorkspaces_andPublishesOnlyNoisyCounts() throws {
        let result = builder().build(try log(), window: window)
        XCTAssertFalse(result.vocabulary.contains("loner"), "30 users, but one workspace: the hard k rule")
        XCTAssertTrue(result.vocabulary.contains("common"))
        let m = try XCTUnwrap(result.training)
        let common = try XCTUnwrap(m.itemIDs.firstIndex(of: "common"))
        XCTAssertEqual(m.itemUserCounts?[common], Int(result.noisyUsers[common].rounded()))
        // At most 4 of a person's 7 emoji are counted: the bounded count is below the true 1080.
        XCTAssertLessThan(Double(m.itemUserCounts![common]), 1080 * 4.0 / 7 + 200)
        let tau = builder().plan.selectionMargin
        for (i, _) in m.itemIDs.enumerated() {
            XCTAssertGreaterThanOrEqual(Double(m.itemWorkspaceCounts![i]), 5 + tau - 0.5)
            XCTAssertGreaterThanOrEqual(Double(m.itemUserCounts![i]), 25 + tau - 0.5)
        }
    }

    func testSameKeysAndData_giveTheSameMatrices_andAnotherNoiseKeyOtherCounts() throws {
        let log = try log()
        let a = builder().build(log, window: window), b = builder().build(log, window: window)
        XCTAssertEqual(a.training, b.training)
        let other = PrivateMatrixBuilder(definition: builder().definition, plan: builder().plan, groups: groups,
                                         noise: NoiseSource(rawKey: Array(repeating: 9, count: 32)), split: .random(fraction: 0.3, seed: 0))
        XCTAssertNotEqual(other.build(log, window: window).noisyUsers, a.noisyUsers)
    }

    func testLeastPopularFirst_keepsAPersonsRarestAdmittedEmoji() throws {
        let result = builder(m: 2, bounding: .leastPopular).build(try log(), window: window)
        let m = try XCTUnwrap(result.training)
        let common = try XCTUnwrap(m.itemIDs.firstIndex(of: "common"))
        // 'common' is everyone's most popular emoji: with two slots it is never kept.
        XCTAssertFalse(m.matrix.columnIndices.contains(Int32(common)))
    }

    func testHeldOutMatrices_holdTheHeldOutPeoplesOwnEvents_overTheGivenColumns() throws {
        let log = try log()
        let b = builder()
        let result = b.build(log, window: window)
        let (ids, foldIn, test) = b.heldOutMatrices(log, foldIn: result.heldOutFoldIn, test: result.heldOutTest, vocabulary: result.vocabulary)
        XCTAssertEqual(foldIn.columns, result.vocabulary.count)
        XCTAssertEqual(test.rows, ids.count)
        XCTAssertGreaterThan(test.nonZeros, 0)
        for r in 0..<test.rows {
            XCTAssertTrue(Set(test.row(r).columns).isDisjoint(with: foldIn.row(r).columns), "a test item is not in the fold-in part")
        }
    }

    /// A cap that is not a Float (0.3) is enforced at the largest Float below it, never above:
    /// the fit's own bound check accepts every row.
    func testWeightCap_neverRoundsAboveMaxWeight() throws {
        let b = builder(maxWeight: 0.3)
        let m = try XCTUnwrap(b.build(try log(), window: window).training)
        XCTAssertTrue(m.matrix.values.allSatisfy { Double($0) <= 0.3 })
        XCTAssertTrue(m.matrix.values.contains { Double($0) > 0.3 - 1e-7 }, "capped weights sit just below the cap")
        let als = PrivateALS(configuration: ALSConfiguration(factors: 2, iterations: 1, threads: 1), plan: b.plan)
        XCTAssertNoThrow(try als.fit(m.matrix, noise: noise, logger: .quiet))
    }

    /// Whether a model is published rests on the noisy vocabulary alone: with every training
    /// person dropped by min_user_items, the admitted vocabulary still gives a (noise-only) model.
    func testAdmittedVocabulary_givesAModel_evenWhenNoTrainingPersonKeepsAnEmoji() throws {
        let b = builder(minUserItems: 1000)
        let m = try XCTUnwrap(b.build(try log(), window: window).training)
        XCTAssertEqual(m.matrix.nonZeros, 0)
        XCTAssertFalse(m.itemIDs.isEmpty)
        let model = try PrivateALS(configuration: ALSConfiguration(factors: 2, iterations: 2, threads: 1), plan: b.plan)
            .fit(m.matrix, noise: noise, logger: .quiet)
        XCTAssertEqual(model.itemFactors.rows, m.itemIDs.count)
        XCTAssertTrue(model.itemFactors.isFinite)
    }
}
