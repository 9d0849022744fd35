import Evaluation
import Foundation
import Interactions
@testable import Pipeline
import Publishing
import TestSupport
import XCTest

/// The nightly publishes the ranker its held-out data chose, and the gate judges that ranker.
final class RankerNightlyTests: XCTestCase {
    /// A global emoji model whose ALS has learnt nothing (λ so large the factors are ~0): it
    /// ranks about at random, far below popularity.
    func crippledEmoji(_ f: NightlyFixture, ranker: String) -> String {
        f.config("[recommenders.emoji.ranker]\n" + ranker, emojiGate: "min_lift_over_popularity = 0.0\nmin_test_users = 5")
            .replacingOccurrences(of: "[recommenders.emoji.als]\nfactors = 8", with: "[recommenders.emoji.als]\nregularization = 1000000.0\nfactors = 8")
    }

    func testBest_publishesARankerAtLeastAsGoodAsPopularity_whereALSAloneWouldFail() throws {
        let f = try NightlyFixture(workspaces: 14, events: 30_000)
        let report = try NightlyRun(config: try f.load(crippledEmoji(f, ranker: "choose = \"best\""))).execute(logger: .quiet)
        XCTAssertEqual(report.status, .published, report.text)
        let emoji = try XCTUnwrap(report.recommenders.first { $0.recommender == .emoji })
        let gate = try XCTUnwrap(emoji.models.first)
        XCTAssertEqual(gate.verdict, .passed)
        XCTAssertTrue(gate.judged)
        XCTAssertNotEqual(gate.ranker, .als, report.text)
        let model = try XCTUnwrap(gate.model), als = try XCTUnwrap(gate.als), popularity = try XCTUnwrap(gate.popularity)
        XCTAssertLessThan(als, popularity, "the crippled ALS loses to popularity")
        XCTAssertGreaterThanOrEqual(model, popularity)

        // The file and the manifest say the same, and the manifest's metrics are the published ranker's.
        let run = try PublishedRun.open(try XCTUnwrap(report.runDirectory), seal: ManifestSeal(pseudonymiser: f.pseudonymiser))
        let entry = try XCTUnwrap(run.manifest.models.first { $0.recommender == "emoji" })
        XCTAssertEqual(entry.ranker, gate.ranker.description)
        XCTAssertEqual(entry.metrics?["ndcg@10"], model)
        XCTAssertEqual(entry.metrics?["als_ndcg@10"], als)
        let file = try run.model(entry)
        XCTAssertEqual(file.ranker, gate.ranker)
        // A manifest entry that says another ranker than its file is a corrupt model.
        var lying = entry
        lying.ranker = "als"
        XCTAssertThrowsError(try run.model(lying)) { XCTAssertTrue("\($0)".contains("differs from the manifest"), "\($0)") }
        // The file's popularity is users per item of the full matrix.
        let matrix = try XCTUnwrap(InteractionMatrixBuilderProbe.global(f, try f.load(crippledEmoji(f, ranker: "choose = \"best\""))))
        XCTAssertEqual(file.itemIDs, matrix.itemIDs)
        XCTAssertEqual(file.itemPopularity, PopularityBaseline(train: matrix.matrix).counts.map { Int($0) })
        XCTAssertTrue(report.text.contains("rankers: "), report.text)
    }

    func testForcedALS_isJudgedAsALS_andFailsTheGate() throws {
        let f = try NightlyFixture(workspaces: 14, events: 30_000)
        let report = try NightlyRun(config: try f.load(crippledEmoji(f, ranker: "choose = \"als\""))).execute(logger: .quiet)
        let emoji = try XCTUnwrap(report.recommenders.first { $0.recommender == .emoji })
        let gate = try XCTUnwrap(emoji.models.first)
        XCTAssertEqual(gate.ranker, .als)
        guard case .failed = gate.verdict else { return XCTFail("\(gate.verdict)") }
        XCTAssertEqual(gate.model, gate.als)
        XCTAssertFalse(report.published.contains { $0.hasPrefix("models/emoji/") }, report.text)
    }

    func testRankerSection_isChecked() throws {
        let f = try NightlyFixture(workspaces: 4, events: 2_000)
        let path = f.dir.file("bad.toml")
        let cases: [(String, ConfigError)] = [
            ("choose = \"newest\"", .invalid(path: path, key: "recommenders.emoji.ranker.choose", reason: "must be one of best, als, popularity, blend")),
            ("betas = [1, 0.5]", .invalid(path: path, key: "recommenders.emoji.ranker.betas", reason: "must increase")),
            ("betas = []", .invalid(path: path, key: "recommenders.emoji.ranker.betas", reason: "must list at least one weight")),
            ("betas = [\"x\"]", .wrongType(path: path, key: "recommenders.emoji.ranker.betas", expected: "an array of finite numbers")),
            ("unjudged = \"blend:-2\"", .invalid(path: path, key: "recommenders.emoji.ranker.unjudged", reason: "must be als, popularity or blend:β (β from 0 to 1e6)")),
            ("choose = \"als\"\nunjudged = \"popularity\"", .invalid(path: path, key: "recommenders.emoji.ranker.unjudged",
                                                                 reason: "must be one of the rankers choose = \"als\" allows (als)")),
            ("sideways = 1", .unknownKey(path: path, key: "recommenders.emoji.ranker.sideways")),
        ]
        for (section, expected) in cases {
            XCTAssertThrowsError(try f.load(f.config("[recommenders.emoji.ranker]\n" + section), name: "bad.toml"), section) {
                XCTAssertEqual($0 as? ConfigError, expected)
            }
        }
        let good = try f.load(f.config("[recommenders.emoji.ranker]\nchoose = \"blend\"\nbetas = [0.5, 2]\nunjudged = \"blend:2\""))
        XCTAssertEqual(good.recommenders.first { $0.definition.target == .emoji }?.ranker, RankerPolicy(choose: .blend, betas: [0.5, 2], unjudged: .blend(beta: 2)))
    }
}

/// The global emoji matrix a nightly run with `config` trains.
enum InteractionMatrixBuilderProbe {
    static func global(_ f: NightlyFixture, _ config: NightlyConfig) throws -> InteractionMatrix? {
        let rc = try XCTUnwrap(config.recommenders.first { $0.definition.target == .emoji })
        return InteractionMatrixBuilder(definition: rc.definition).build(try f.read(config)).matrices.first
    }
}
