import Foundation
import Publishing
import TestSupport
import XCTest

/// `evaluate --config` and `train --config`: the nightly's own recommenders, splits, gates and
/// rankers, with the command line on top.
final class ConfigCommandTests: XCTestCase {
    let dir = TemporaryDirectory()

    override func setUpWithError() throws {
        let generated = try CommandRunner.run("consentrec", ["generate", "--out", dir.path + "/data", "--workspaces", "16", "--events", "30000", "--seed", "6"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
    }

    /// Different settings per recommender, none of them the command-line defaults.
    func config(emoji: String = "") -> String {
        dir.write("nightly.toml", """
            [input]
            events = ["data/events.csv"]
            [consent]
            registry = "data/consent.csv"
            [privacy]
            key_file = "data/pseudonym.key"
            as_of = "2026-11-20T00:00:00Z"
            retention_days = 25
            [output]
            root = "out"
            keep_runs = 3
            [run]
            threads = 2
            [recommenders.channel.als]
            factors = 8
            iterations = 5
            regularization = 0.5
            [recommenders.channel.evaluation]
            split = "leave-last:1"
            k = 5
            [recommenders.channel.gate]
            min_test_users = 3
            [recommenders.channel.ranker]
            betas = [0.1, 1]
            [recommenders.emoji]
            min_emoji_workspaces = 3
            min_emoji_users = 10
            \(emoji)
            [recommenders.emoji.als]
            factors = 6
            iterations = 6
            regularization = 2.0
            [recommenders.emoji.gate]
            min_lift_over_popularity = -1.0
            """)
    }

    func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    func testEvaluateWithTheConfig_givesTheNightlysOwnFigures() throws {
        // A tuned global recommender with a split fraction other than the validation default.
        let path = config(emoji: "[recommenders.emoji.evaluation]\nsplit = \"temporal:0.3\"\n[recommenders.emoji.tune]\ntrials = 3")
        let run = try CommandRunner.run("consentrec", ["run", "--config", path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let reportFile = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/out/reports").first { $0.hasSuffix(".json") })
        let nightly = try json(dir.path + "/out/reports/" + reportFile)["recommenders"] as! [[String: Any]]

        let evaluated = try CommandRunner.run("consentrec", ["evaluate", "--config", path, "--json", dir.file("eval.json")])
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        XCTAssertTrue(evaluated.stdout.contains("channel: split leave-last: each user's last 1 item held out; K = 5"), evaluated.stdout)
        let evaluation = try json(dir.file("eval.json"))["recommenders"] as! [[String: Any]]
        XCTAssertEqual(evaluation.map { $0["recommender"] as! String }, ["channel", "emoji"])
        func ndcg(_ metrics: Any?) -> Double { ((metrics as! [String: Any])["textbook"] as! [String: Any])["ndcg"] as! Double }
        for (mine, theirs) in zip(evaluation, nightly) {
            let rows = mine["rows"] as! [[String: Any]]
            func row(_ name: String) -> [String: Any] { rows.first { ($0["name"] as! String).hasPrefix(name) }! }
            let name = mine["recommender"] as! String
            XCTAssertEqual(ndcg(row("published")["metrics"]), ndcg(theirs["model"]), accuracy: 1e-9, name)
            XCTAssertEqual(ndcg(row("ALS")["metrics"]), ndcg(theirs["als"]), accuracy: 1e-9, name)
            XCTAssertEqual(ndcg(row("popularity")["metrics"]), ndcg(theirs["popularity"]), accuracy: 1e-9, name)
            XCTAssertEqual(mine["k"] as? Int, theirs["k"] as? Int, name)
        }
        // The channel row's configuration is the config's.
        let channelALS = (evaluation[0]["rows"] as! [[String: Any]])[0]["name"] as! String
        XCTAssertTrue(channelALS.hasPrefix("ALS cg f=8 λ=0.5"), channelALS)

        // A flag overrides the config: another split for every recommender.
        let overridden = try CommandRunner.run("consentrec", ["evaluate", "--config", path, "--split", "temporal:0.3", "--factors", "4", "--recommender", "emoji"])
        XCTAssertEqual(overridden.status, 0, overridden.stderr)
        XCTAssertTrue(overridden.stdout.contains("split: temporal: the last 30% of the time span held out; K = 10"), overridden.stdout)
        XCTAssertTrue(overridden.stdout.contains("ALS cg f=4 λ=2.0"), overridden.stdout)
        XCTAssertFalse(overridden.stdout.contains("channel ("), overridden.stdout)

        // [recommenders.emoji.tune]: what the als table gives (factors 6, iterations 6, λ 2) stays fixed.
        let tuned = try CommandRunner.run("consentrec", ["evaluate", "--config", config(emoji: "[recommenders.emoji.tune]\ntrials = 3"),
                                                         "--recommender", "emoji"])
        XCTAssertEqual(tuned.status, 0, tuned.stderr)
        XCTAssertTrue(tuned.stdout.contains("tuned for global: f=6 λ=2 "), tuned.stdout)
        XCTAssertTrue(tuned.stdout.contains(" it=6 — validation ndcg@10"), tuned.stdout)
    }

    func testTrainWithTheConfig_trainsItsRecommendersIntoItsRoot() throws {
        let trained = try CommandRunner.run("consentrec", ["train", "--config", config(), "--min-emoji-users", "12"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let root = OutputRoot(path: dir.path + "/out")
        let run = try PublishedRun.open(try XCTUnwrap(root.currentRun))
        XCTAssertEqual(run.manifest.retentionDays, 25)
        let factors = Dictionary(run.manifest.recommenders.map { ($0.definition.target.rawValue, $0.hyperparameters.factors) }) { a, _ in a }
        XCTAssertEqual(factors, ["channel": 8, "emoji": 6])
        let emoji = try XCTUnwrap(run.manifest.models.first { $0.recommender == "emoji" })
        let file = try run.model(emoji)
        XCTAssertEqual(file.support?.minWorkspaces, 3)
        XCTAssertEqual(file.support?.minUsers, 12, "the flag overrides the config")
        XCTAssertEqual(file.hyperparameters.regularization, 2)
        XCTAssertEqual(emoji.ranker, "als", "no held-out data: ranker.unjudged")

        // The emoji scope flag: one emoji model per workspace, and --ranker for every model.
        let perWorkspace = try CommandRunner.run("consentrec", ["train", "--config", config(), "--emoji-scope", "workspace", "--ranker", "blend:0.5",
                                                                "--out", dir.path + "/other"])
        XCTAssertEqual(perWorkspace.status, 0, perWorkspace.stderr)
        let other = try PublishedRun.open(try XCTUnwrap(OutputRoot(path: dir.path + "/other").currentRun))
        let emojiModels = other.manifest.models.filter { $0.recommender == "emoji" }
        XCTAssertGreaterThan(emojiModels.count, 3)
        XCTAssertTrue(emojiModels.allSatisfy { $0.scope == "workspace" && $0.workspace != nil && $0.ranker == "blend:0.5" })
    }

    func testConfigErrors_andARecommenderTheConfigDoesNotEnable() throws {
        let disabled = try CommandRunner.run("consentrec", ["evaluate", "--config", config(emoji: "enabled = false"), "--recommender", "emoji"])
        XCTAssertEqual(disabled.status, 64, disabled.stderr)
        XCTAssertTrue(disabled.stderr.contains("the config does not enable it"), disabled.stderr)
        let bad = dir.write("bad.toml", "[input]\nevents = [\"x\"]\n[consent]\nregistry = \"c\"\n[output]\nroot = \"o\"\n[recommenders.emoji.ranker]\nchoose = \"worst\"\n")
        for command in ["evaluate", "train"] {
            let result = try CommandRunner.run("consentrec", [command, "--config", bad])
            XCTAssertEqual(result.status, 2, command + ": " + result.stderr)
            XCTAssertTrue(result.stderr.contains("recommenders.emoji.ranker.choose"), result.stderr)
        }
        // With a config, the command line may tighten consent and retention, never loosen them.
        let optIn = try String(contentsOfFile: config(), encoding: .utf8).replacingOccurrences(of: "registry = \"data/consent.csv\"", with: "registry = \"data/consent.csv\"\npolicy = \"opt-in\"")
        let looser = try CommandRunner.run("consentrec", ["train", "--config", dir.write("opt-in.toml", optIn), "--policy", "opt-out"])
        XCTAssertEqual(looser.status, 64, looser.stderr)
        XCTAssertTrue(looser.stderr.contains("never looser"), looser.stderr)
        let longer = try CommandRunner.run("consentrec", ["evaluate", "--config", config(), "--retention-days", "40"])
        XCTAssertEqual(longer.status, 64, longer.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path + "/out"), "nothing was trained or written")
        // The registry and the key are the config's, and k/m can only rise.
        let swapped = try CommandRunner.run("consentrec", ["train", "--config", config(), "--consent", dir.path + "/data/consent.csv"])
        XCTAssertEqual(swapped.status, 64, swapped.stderr)
        XCTAssertTrue(swapped.stderr.contains("cannot replace them"), swapped.stderr)
        let lowered = try CommandRunner.run("consentrec", ["train", "--config", config(), "--min-emoji-workspaces", "2"])
        XCTAssertEqual(lowered.status, 64, lowered.stderr)
        XCTAssertTrue(lowered.stderr.contains("never lowered"), lowered.stderr)
        let widened = try CommandRunner.run("consentrec", ["train", "--config", config(emoji: "scope = \"workspace\""), "--emoji-scope", "global",
                                                           "--min-emoji-workspaces", "1"])
        XCTAssertEqual(widened.status, 64, "widening to global cannot dodge k: " + widened.stderr)
        let earlier = try CommandRunner.run("consentrec", ["train", "--config", config(), "--as-of", "2026-11-10T00:00:00Z"])
        XCTAssertEqual(earlier.status, 64, earlier.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path + "/out"), "nothing was trained or written")
        let noConsent = try CommandRunner.run("consentrec", ["evaluate", "--events", dir.path + "/data/events.csv"])
        XCTAssertEqual(noConsent.status, 64, noConsent.stderr)
        XCTAssertTrue(noConsent.stderr.contains("--consent"), noConsent.stderr)
        let noRoot = try CommandRunner.run("consentrec", ["train", "--events", dir.path + "/data/events.csv", "--consent", dir.path + "/data/consent.csv"])
        XCTAssertEqual(noRoot.status, 64, noRoot.stderr)
    }
}
