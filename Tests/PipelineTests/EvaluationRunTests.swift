import Evaluation
import Factorization
import Ingest
import Logging
@testable import Pipeline
import SyntheticData
import TestSupport
import XCTest

final class EvaluationRunTests: XCTestCase {
    func testChannelModel_beatsPopularityByAWideMargin_onGeneratedData() throws {
        let data = TemporaryDirectory()
        var options = SyntheticEventLog.Options()
        options.workspaces = 12
        options.events = 40_000
        try SyntheticEventLog(options: options).write(to: data.path)
        let request = EvaluationRequest(
            events: [data.file("events.csv")], consentPath: data.file("consent.csv"), keyFile: data.file("pseudonym.key"),
            ingest: IngestOptions(policy: .optOut, asOf: options.end), recommenders: [.channelDefault],
            configurations: [ALSConfiguration(factors: 16, regularization: 1, iterations: 10, threads: 2)],
            split: .temporal(.lastFraction(0.2)), k: 10)
        let report = try EvaluationRun(request: request).execute(logger: .quiet)
        let channel = try XCTUnwrap(report.recommenders.first)
        XCTAssertEqual(channel.rows.map(\.name).suffix(2), ["popularity", "random"])
        let model = channel.rows[0].metrics, popularity = channel.rows[1].metrics
        XCTAssertGreaterThan(model.users, 100)
        XCTAssertEqual(model.users, popularity.users, "every row is scored on the same test users")
        XCTAssertGreaterThan(model.textbook.ndcg, 1.5 * popularity.textbook.ndcg, "\(model) vs \(popularity)")
        XCTAssertGreaterThan(model.textbook.recall, popularity.textbook.recall)
        let distribution = try XCTUnwrap(channel.rows[0].perWorkspace)
        XCTAssertGreaterThan(distribution.workspaces, 5)
        XCTAssertLessThanOrEqual(distribution.worstDecileNDCG, distribution.medianNDCG)
    }
}
