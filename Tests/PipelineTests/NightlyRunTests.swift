import Consent
import Foundation
import Ingest
import Logging
@testable import Pipeline
import Publishing
import SyntheticData
import TestSupport
import XCTest

final class NightlyRunTests: XCTestCase {
    var fixture: NightlyFixture!
    var dir: TemporaryDirectory { fixture.dir }
    var options: SyntheticEventLog.Options { fixture.options }
    var quiet: Logger { fixture.quiet }

    override func setUpWithError() throws { fixture = try NightlyFixture() }

    func config(_ extra: String = "", channelGate: String = "min_lift_over_popularity = 0.0\nmin_test_users = 3", root: String = "out") -> String {
        fixture.config(extra, channelGate: channelGate, root: root)
    }

    func load(_ text: String, name: String = "nightly.toml") throws -> NightlyConfig { try fixture.load(text, name: name) }

    func testNightlyRun_publishes_withoutOptedOutWorkspaces_andReportsEverything() throws {
        let report = try NightlyRun(config: load(config())).execute(logger: quiet)
        XCTAssertEqual(report.status, .published)
        let run = try PublishedRun.open(dir.path + "/out")
        XCTAssertTrue(run.verify(seal: ManifestSeal(pseudonymiser: fixture.pseudonymiser)).isEmpty)
        XCTAssertEqual(run.manifest.models.count, report.published.count)
        XCTAssertGreaterThan(report.published.filter { $0.hasPrefix("models/channel/") }.count, 3)
        // Report on disk, both forms, and in the run.
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.path + "/out/reports/\(report.runID).json"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.path + "/out/reports/\(report.runID).txt"))
        XCTAssertEqual(run.unlistedFiles(), [], "the sealed run holds only what its manifest lists")
        XCTAssertEqual(Set(report.stageSeconds.keys), ["read", "build", "evaluate", "train", "publish"])
        // No opted-out workspace anywhere: the audit of the published run passes.
        let key = try PseudonymKey.load(file: dir.path + "/data/pseudonym.key")
        let registry = try ConsentRegistry.load(path: dir.path + "/data/consent.csv", asOf: options.end)
        XCTAssertFalse(registry.optedOutWorkspaces.isEmpty)
        XCTAssertEqual(RunAudit(registry: registry, pseudonymiser: Pseudonymiser(key: key), policy: .optOut).check(run), [])
        let outs = Set(registry.optedOutWorkspaces.map(Pseudonymiser(key: key).workspace))
        XCTAssertTrue(outs.isDisjoint(with: run.manifest.workspacesUsed))
        // Every model the gate evaluated carries its metrics into the manifest.
        XCTAssertTrue(run.manifest.models.contains { $0.metrics?["ndcg@10"] != nil })
    }

    func testSameInputsAndSeed_giveIdenticalModelBytes() throws {
        let a = try NightlyRun(config: load(config(root: "a"), name: "a.toml")).execute(logger: quiet)
        let b = try NightlyRun(config: load(config(root: "b"), name: "b.toml")).execute(logger: quiet)
        XCTAssertEqual(a.published, b.published)
        for path in a.published {
            XCTAssertEqual(FileManager.default.contents(atPath: a.runDirectory! + "/" + path),
                           FileManager.default.contents(atPath: b.runDirectory! + "/" + path), path)
        }
    }

    func testGateFailure_publishesNothing_andKeepsThePreviousRunCurrent() throws {
        let first = try NightlyRun(config: load(config())).execute(logger: quiet)
        // A gate no model can pass: more test users than exist, and ungated models held back.
        let hold = "min_test_users = 100000\npublish_ungated = false"
        let strict = config(channelGate: hold).replacingOccurrences(of: "min_lift_over_popularity = -1.0", with: hold)
        XCTAssertThrowsError(try NightlyRun(config: load(strict, name: "strict.toml")).execute(logger: quiet)) { error in
            guard case .gate(let report) = error as? NightlyError else { return XCTFail("\(error)") }
            XCTAssertEqual(report.status, .gateFailed)
            XCTAssertTrue(FileManager.default.fileExists(atPath: self.dir.path + "/out/reports/\(report.runID).json"))
        }
        XCTAssertEqual(OutputRoot(path: dir.path + "/out").currentRun, first.runDirectory)
    }

    func testLastRunFigure_isPooledOverTestUsers_likeTonights() throws {
        // Found by an attack: "last run" was the plain mean of the models' values, zeros of
        // models without test users included, beside tonight's figure pooled over test users.
        let everything = config(channelGate: "min_lift_over_popularity = -1.0\nmin_test_users = 0")
        let first = try NightlyRun(config: load(everything)).execute(logger: quiet)
        let second = try NightlyRun(config: load(everything, name: "again.toml")).execute(logger: quiet)
        let firstChannel = try XCTUnwrap(first.recommenders.first { $0.recommender == .channel })
        let secondChannel = try XCTUnwrap(second.recommenders.first { $0.recommender == .channel })
        XCTAssertTrue(firstChannel.models.allSatisfy(\.published))
        XCTAssertTrue(firstChannel.models.contains { $0.testUsers == 0 }, "the case that went wrong is present")
        // By hand: each model's value weighted by its test users.
        let weighted = firstChannel.models.reduce(0.0) { $0 + ($1.model ?? 0) * Double($1.testUsers) }
        let users = Double(firstChannel.models.reduce(0) { $0 + $1.testUsers })
        let lastRun = try XCTUnwrap(secondChannel.lastRun)
        XCTAssertEqual(lastRun, weighted / users, accuracy: 1e-12)
        XCTAssertEqual(lastRun, firstChannel.model.textbook.ndcg, accuracy: 1e-9, "the first night's own pooled figure")
        // The text says how many test users the workspaces had, and how many had none.
        let counts = firstChannel.models.map(\.testUsers).sorted()
        let median = Double(counts[(counts.count - 1) / 2] + counts[counts.count / 2]) / 2
        XCTAssertTrue(first.text.contains("test users per workspace: median \(String(format: "%g", median)), fewest \(counts[0]), "
            + "most \(counts.last!); \(counts.filter { $0 == 0 }.count) of \(counts.count) had none"), first.text)
    }

    func testWorkspaceGateFailure_carriesTheLastModelForward() throws {
        _ = try NightlyRun(config: load(config())).execute(logger: quiet)
        // Only the channel gate is impossible now: the emoji model is new, channel models carried.
        let report = try NightlyRun(config: load(config(channelGate: "min_test_users = 100000\npublish_ungated = false"), name: "c.toml")).execute(logger: quiet)
        XCTAssertEqual(report.status, .published)
        XCTAssertEqual(report.published, ["models/emoji/global.safetensors"])
        XCTAssertFalse(report.carriedForward.isEmpty)
        let run = try PublishedRun.open(dir.path + "/out")
        XCTAssertTrue(run.verify(seal: ManifestSeal(pseudonymiser: fixture.pseudonymiser)).isEmpty)
        XCTAssertTrue(run.manifest.models.filter { $0.recommender == "channel" }.allSatisfy { $0.carriedFrom != nil })
    }

    func testModels_doNotDependOnTheOrderOfTheInputRows() throws {
        // Found by attack: a pair's weights (view = 0.1 among them) were added in input order.
        let first = try NightlyRun(config: load(config())).execute(logger: quiet)
        let text = try String(contentsOfFile: dir.path + "/data/events.csv", encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        let header = lines.removeFirst()
        let half = lines.count / 2
        try ([header] + lines[half...].reversed()).joined(separator: "\n").write(toFile: dir.path + "/data/b.csv", atomically: true, encoding: .utf8)
        try ([header] + lines[..<half].reversed()).joined(separator: "\n").write(toFile: dir.path + "/data/a.csv", atomically: true, encoding: .utf8)
        let reordered = config(root: "out2").replacingOccurrences(of: "events = [\"data/events.csv\"]", with: "events = [\"data/b.csv\", \"data/a.csv\"]")
        let second = try NightlyRun(config: load(reordered, name: "reordered.toml")).execute(logger: quiet)
        let (a, b) = (try XCTUnwrap(first.runDirectory), try XCTUnwrap(second.runDirectory))
        XCTAssertEqual(first.published, second.published)
        XCTAssertGreaterThan(first.published.count, 3)
        for path in first.published {
            XCTAssertEqual(FileManager.default.contents(atPath: a + "/" + path), FileManager.default.contents(atPath: b + "/" + path), path)
        }
    }

    func testAudit_findsAnOptedOutPseudonymAnywhereInAModelPath() throws {
        let report = try NightlyRun(config: load(config())).execute(logger: quiet)
        let source = try XCTUnwrap(report.runDirectory)
        let copy = dir.path + "/tampered"
        try FileManager.default.copyItem(atPath: source, toPath: copy)
        let registry = try ConsentRegistry.load(path: dir.path + "/data/consent.csv", asOf: options.end)
        let out = fixture.pseudonymiser.workspace(try XCTUnwrap(registry.optedOutWorkspaces.first))
        // A model file renamed to carry an opted-out workspace's pseudonym after its own.
        let original = try XCTUnwrap(report.published.first { $0.hasPrefix("models/channel/") })
        let renamed = original.replacingOccurrences(of: ".safetensors", with: "-\(out).safetensors")
        try FileManager.default.moveItem(atPath: copy + "/" + original, toPath: copy + "/" + renamed)
        let manifest = try String(contentsOfFile: copy + "/manifest.json", encoding: .utf8)
        try manifest.replacingOccurrences(of: original, with: renamed).write(toFile: copy + "/manifest.json", atomically: true, encoding: .utf8)

        let findings = RunAudit(registry: registry, pseudonymiser: fixture.pseudonymiser, policy: .optOut).check(try PublishedRun.open(copy))
        XCTAssertTrue(findings.contains { $0.location == renamed && $0.problem == "names opted-out workspace \(out)" }, "\(findings)")
        XCTAssertEqual(findings.filter { $0.problem.hasPrefix("names opted-out") }.count, 1)
    }

    func testPrivacyGate_stopsARunWhoseAuditFails() throws {
        let registry = try ConsentRegistry.load(path: dir.path + "/data/consent.csv", asOf: options.end)
        let key = try PseudonymKey.load(file: dir.path + "/data/pseudonym.key")
        var run = NightlyRun(config: try load(config()))
        run.injectedWorkspaces = [Pseudonymiser(key: key).workspace(registry.optedOutWorkspaces[0])]
        XCTAssertThrowsError(try run.execute(logger: quiet)) { error in
            guard case .audit(let report) = error as? NightlyError else { return XCTFail("\(error)") }
            XCTAssertFalse(report.auditFindings.isEmpty)
        }
        XCTAssertNil(OutputRoot(path: dir.path + "/out").currentRun)
        XCTAssertEqual(OutputRoot(path: dir.path + "/out").runs(), [])
    }

    func testSlackExportInput_isConfigured_likeAnyOtherFormat() throws {
        let text = config().replacingOccurrences(of: "events = [\"data/events.csv\"]", with: """
            events = ["exports/acme.zip"]
            format = "slack-export"
            slack_workspace_id = "T0ACME"
            keep_deleted_users = true
            keep_skin_tones = false
            """)
        let loaded = try load(text, name: "slack.toml")
        XCTAssertEqual(loaded.format, .slackExport)
        XCTAssertEqual(loaded.events, [dir.path + "/exports/acme.zip"])
        XCTAssertEqual(loaded.slack, SlackExport.Options(workspaceID: "T0ACME", keepDeletedUsers: true, keepSkinTones: false))
    }

    func testBadConfig_namesTheBadKey() throws {
        let cases: [(String, ConfigError)] = [
            (config("[recommenders.emoji.evaluation]\nkk = 3"), .unknownKey(path: dir.file("bad.toml"), key: "recommenders.emoji.evaluation.kk")),
            (config().replacingOccurrences(of: "factors = 8\niterations = 5\nregularization", with: "factors = \"eight\"\niterations = 5\nregularization"),
             .wrongType(path: dir.file("bad.toml"), key: "recommenders.channel.als.factors", expected: "an integer")),
            (config().replacingOccurrences(of: "[output]", with: "[outptu]"), .unknownKey(path: dir.file("bad.toml"), key: "outptu")),
            (config().replacingOccurrences(of: "factors = 8\niterations = 5\nregularization", with: "unobserved_weight = 0\nfactors = 8\niterations = 5\nregularization"),
             .invalid(path: dir.file("bad.toml"), key: "recommenders.channel.als.unobserved_weight", reason: "must be a number > 0 and ≤ 1e6")),
            (config().replacingOccurrences(of: "factors = 8\niterations = 5\nregularization", with: "regularization_exponent = 2.5\nfactors = 8\niterations = 5\nregularization"),
             .invalid(path: dir.file("bad.toml"), key: "recommenders.channel.als.regularization_exponent", reason: "must be 0…2")),
            (config().replacingOccurrences(of: "[consent]\nregistry = \"data/consent.csv\"", with: "[consent]\npolicy = \"maybe\""),
             .missing(path: dir.file("bad.toml"), key: "consent.registry")),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try load(text, name: "bad.toml")) { XCTAssertEqual($0 as? ConfigError, expected) }
        }
        let iALS = try load(config().replacingOccurrences(
            of: "factors = 8\niterations = 5\nregularization", with: "unobserved_weight = 0.1\nregularization_exponent = 1\nfactors = 8\niterations = 5\nregularization"))
        XCTAssertEqual(iALS.recommenders[0].als.unobservedWeight, 0.1)
        XCTAssertEqual(iALS.recommenders[0].als.regularizationExponent, 1)
        XCTAssertThrowsError(try load("a = = 1", name: "bad.toml")) { error in
            guard case .syntax(_, 1, _, _) = error as? ConfigError else { return XCTFail("\(error)") }
        }
    }
}
