import Consent
import Factorization
import Foundation
@testable import Pipeline
import Platform
import Publishing
import XCTest

/// One canonical digest of the whole effective configuration, for `train` and `run`.
final class RunConfigurationTests: XCTestCase {
    var f: NightlyFixture!

    override func setUpWithError() throws { f = try NightlyFixture(workspaces: 4, events: 2_000) }

    func digest(_ extra: String = "", emojiFactors: Int = 8) throws -> String {
        let text = f.config(extra).replacingOccurrences(of: "[recommenders.emoji.als]\nfactors = 8", with: "[recommenders.emoji.als]\nfactors = \(emojiFactors)")
        return RunConfiguration(try f.load(text, name: "d-\(UUID().uuidString).toml")).digest
    }

    func testNightlyDigest_changesWithEverySettingThatShapesAModel_andIsStable() throws {
        let base = try digest()
        XCTAssertEqual(base, try digest(), "the same configuration gives the same digest")
        let changes = [
            "[recommenders.channel]\nlog_scaling = false", "[recommenders.channel]\nleave_removes_membership = false",
            "[recommenders.channel]\nmin_user_items = 3", "[recommenders.channel]\nmin_item_users = 3",
            "[recommenders.channel.weights]\njoin = 3.0",
        ]
        var seen = Set([base])
        for change in changes {
            // The emoji table comes after the channel table in the fixture: put channel keys first.
            let d = RunConfiguration(try f.load(change + "\n" + f.config(), name: "c-\(UUID().uuidString).toml")).digest
            XCTAssertTrue(seen.insert(d).inserted, change)
        }
        let emojiText = f.config().replacingOccurrences(of: "min_emoji_workspaces = 2", with: "min_emoji_workspaces = 3")
        XCTAssertTrue(seen.insert(RunConfiguration(try f.load(emojiText, name: "e1.toml")).digest).inserted)
        let usersText = f.config().replacingOccurrences(of: "min_emoji_users = 5", with: "min_emoji_users = 6")
        XCTAssertTrue(seen.insert(RunConfiguration(try f.load(usersText, name: "e2.toml")).digest).inserted)
        XCTAssertTrue(seen.insert(try digest(emojiFactors: 6)).inserted, "the second recommender's hyper-parameters count")
        let warmText = f.config().replacingOccurrences(of: "iterations = 5\nregularization = 1.0", with: "iterations = 5\nregularization = 1.0\nwarm_start_iterations = 3")
        XCTAssertTrue(seen.insert(RunConfiguration(try f.load(warmText, name: "w.toml")).digest).inserted, "warm-start iterations count")
        let lastRun = f.config().replacingOccurrences(of: "iterations = 5\nregularization = 1.0", with: "iterations = 5\nregularization = 1.0\nwarm_start = \"last_run\"")
        XCTAssertTrue(seen.insert(RunConfiguration(try f.load(lastRun, name: "l.toml")).digest).inserted, "where warm starts come from counts")
        for extra in ["[recommenders.emoji.tune]\ntrials = 3", "[recommenders.emoji.ranker]\nchoose = \"als\""] {
            XCTAssertTrue(seen.insert(try digest(extra)).inserted, extra)
        }
    }

    /// A set's order changes from one process to the next: a digest must not see it.
    func testTuningPlan_encodesItsFixedHyperparametersSorted() throws {
        var plan = ALSTuning.Plan()
        plan.fixed = ["regularization", "alpha", "factors", "iterations"]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(plan), as: UTF8.self)
        XCTAssertTrue(json.contains(#""fixed":["alpha","factors","iterations","regularization"]"#), json)
    }

    func testTrainAndRun_recordTheDigestTheyAreConfiguredWith_andEveryRecommendersHyperparameters() throws {
        let text = f.config().replacingOccurrences(of: "[recommenders.emoji.als]\nfactors = 8", with: "[recommenders.emoji.als]\nfactors = 6")
        let config = try f.load(text)
        let report = try NightlyRun(config: config).execute(logger: f.quiet)
        let manifest = try PublishedRun.open(report.runDirectory!).manifest
        XCTAssertEqual(manifest.configDigest, RunConfiguration(config).digest)
        XCTAssertEqual(manifest.recommenders.map(\.definition.target), [.channel, .emoji])
        XCTAssertEqual(manifest.recommenders.map(\.hyperparameters.factors), [8, 6])
        XCTAssertEqual(manifest.pseudonymScheme, Pseudonymiser.scheme)

        let request = TrainingRequest(
            events: [f.dir.path + "/data/events.csv"], consentPath: f.registryPath, keyFile: f.dir.path + "/data/pseudonym.key",
            ingest: config.ingestOptions(asOf: f.options.end), recommenders: config.recommenders.map(\.definition),
            als: config.recommenders[0].als, outputRoot: f.dir.path + "/train")
        let trained = try TrainingRun(request: request).execute(logger: f.quiet)
        XCTAssertEqual(trained.manifest.configDigest, RunConfiguration(request).digest)
        // Same data options and definitions, but no gates and one set of hyper-parameters: a different configuration.
        XCTAssertNotEqual(trained.manifest.configDigest, manifest.configDigest)
        var gated = RunConfiguration(request)
        gated.recommenders = RunConfiguration(config).recommenders
        XCTAssertEqual(gated.digest, manifest.configDigest, "one digest function: the same configuration gives the same digest")
    }
}
