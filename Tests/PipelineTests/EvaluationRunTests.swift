import Evaluation
import Factorization
import Ingest
import Interactions
import Logging
@testable import Pipeline
import SyntheticData
import TestSupport
import XCTest

final class EvaluationRunTests: XCTestCase {
    /// Evaluates `definition` on a generated log of `workspaces` and about `events` events.
    func evaluate(_ definition: RecommenderDefinition, workspaces: Int, events: Int, als: ALSConfiguration) throws -> EvaluationReport {
        let data = TemporaryDirectory()
        var options = SyntheticEventLog.Options()
        options.workspaces = workspaces
        options.events = events
        try SyntheticEventLog(options: options).write(to: data.path)
        let request = EvaluationRequest(
            events: [data.file("events.csv")], consentPath: data.file("consent.csv"), keyFile: data.file("pseudonym.key"),
            ingest: IngestOptions(policy: .optOut, asOf: options.end), recommenders: [definition], configurations: [als],
            split: .temporal(.lastFraction(0.2)), k: 10)
        return try EvaluationRun(request: request).execute(logger: .quiet)
    }

    func testChannelModel_beatsPopularityByAWideMargin_onGeneratedData() throws {
        let report = try evaluate(.channelDefault, workspaces: 12, events: 40_000,
                                  als: ALSConfiguration(factors: 16, regularization: 1, iterations: 10, threads: 2))
        let channel = try XCTUnwrap(report.recommenders.first)
        XCTAssertEqual(channel.rows.map(\.name).suffix(3), ["published", "popularity", "random"])
        let model = channel.rows[0].metrics, popularity = channel.rows[2].metrics
        // Each workspace publishes the best of its rankers by NDCG: never below ALS alone on
        // any workspace with enough test users, and ALS on the others.
        let published = channel.rows[1]
        XCTAssertGreaterThanOrEqual(published.metrics.textbook.ndcg, model.textbook.ndcg - 1e-12)
        XCTAssertEqual(published.rankers?.values.reduce(0, +), channel.matrices)
        XCTAssertGreaterThan(model.users, 100)
        XCTAssertEqual(model.users, popularity.users, "every row is scored on the same test users")
        XCTAssertGreaterThan(model.textbook.ndcg, 1.5 * popularity.textbook.ndcg, "\(model) vs \(popularity)")
        XCTAssertGreaterThan(model.textbook.recall, popularity.textbook.recall)
        let distribution = try XCTUnwrap(channel.rows[0].perWorkspace)
        XCTAssertGreaterThan(distribution.workspaces, 5)
        XCTAssertLessThanOrEqual(distribution.worstDecileNDCG, distribution.medianNDCG)
    }

    /// The generator plants emoji cultures shared by teams and channels across workspaces: the
    /// global emoji model learns them and beats popularity (without them it does not).
    func testGlobalEmojiModel_beatsPopularity_onTheGeneratorsEmojiHabits() throws {
        var emoji = RecommenderDefinition.emojiDefault
        emoji.minEmojiWorkspaces = 3
        emoji.minEmojiUsers = 10
        let report = try evaluate(emoji, workspaces: 30, events: 60_000,
                                  als: ALSConfiguration(factors: 32, regularization: 1, iterations: 15, threads: 2))
        let rows = try XCTUnwrap(report.recommenders.first).rows
        let model = rows[0].metrics, popularity = try XCTUnwrap(rows.first { $0.name == "popularity" }).metrics
        XCTAssertGreaterThan(model.users, 200)
        XCTAssertGreaterThan(model.textbook.ndcg, 1.2 * popularity.textbook.ndcg, "\(model) vs \(popularity)")
    }
}
