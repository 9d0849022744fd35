import Foundation
import TestSupport
import XCTest

final class EvaluateCommandTests: XCTestCase {
    let dir = TemporaryDirectory()

    override func setUpWithError() throws {
        let generated = try CommandRunner.run("consentrec", ["generate", "--out", dir.path, "--workspaces", "10", "--events", "12000", "--seed", "4"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
    }

    var data: [String] {
        ["--consent", dir.file("consent.csv"), "--key-file", dir.file("pseudonym.key"), "--as-of", "2026-11-20T00:00:00Z",
         "--factors", "8", "--iterations", "4"]
    }

    func testEvaluate_printsModelBesideBaselines_andWritesJSON() throws {
        let result = try CommandRunner.run("consentrec", ["evaluate", "--events", dir.file("events.csv")] + data
            + ["--split", "leave-last:1", "-k", "5", "--json", dir.file("report.json"), "--grid", "factors=4,8", "--sort-by", "recall"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("leave-last: each user's last 1 item held out; K = 5"), result.stdout)
        XCTAssertTrue(result.stdout.contains("popularity"))
        XCTAssertTrue(result.stdout.contains("ALS cg f=4"))
        XCTAssertTrue(result.stdout.contains("ALS cg f=8"))
        XCTAssertTrue(result.stdout.contains("per workspace, NDCG@5"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("report.json")))) as! [String: Any]
        let recommenders = json["recommenders"] as! [[String: Any]]
        XCTAssertEqual(recommenders.count, 2)
        let rows = recommenders[0]["rows"] as! [[String: Any]]
        XCTAssertEqual(rows.map { $0["name"] as! String }.suffix(3), ["published", "popularity", "random"])
        XCTAssertEqual(rows.count, 5)  // two models, published, popularity, random
        XCTAssertNotNil(rows[2]["rankers"] as? [String: Int])
        XCTAssertTrue(result.stdout.contains("published = each model's ranker as the nightly picks it"), result.stdout)
        func recall(_ row: [String: Any]) -> Double { ((row["metrics"] as! [String: Any])["textbook"] as! [String: Any])["recall"] as! Double }
        XCTAssertGreaterThanOrEqual(recall(rows[0]), recall(rows[1]), "models sorted by the chosen metric")
    }

    func testPreSplitInput_andBadSplitArguments() throws {
        let events = try String(contentsOfFile: dir.file("events.csv"), encoding: .utf8).split(separator: "\n")
        let header = String(events[0]) + "\n"
        let body = events.dropFirst()
        dir.write("train.csv", header + body.prefix(body.count * 4 / 5).joined(separator: "\n") + "\n")
        dir.write("test.csv", header + body.suffix(body.count / 5).joined(separator: "\n") + "\n")
        let split = try CommandRunner.run("consentrec", ["evaluate", "--train", dir.file("train.csv"), "--test", dir.file("test.csv")] + data)
        XCTAssertEqual(split.status, 0, split.stderr)
        XCTAssertTrue(split.stdout.contains("pre-split"), split.stdout)

        let bad = try CommandRunner.run("consentrec", ["evaluate", "--events", dir.file("events.csv"), "--split", "sideways:2"] + data)
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("--split sideways:2"), bad.stderr)
        let grid = try CommandRunner.run("consentrec", ["evaluate", "--events", dir.file("events.csv"), "--grid", "depth=3"] + data)
        XCTAssertEqual(grid.status, 64)
        XCTAssertTrue(grid.stderr.contains("unknown key depth"), grid.stderr)
    }

    func testTune_searchesWhatIsNotGiven_andReportsPerRecommender() throws {
        let result = try CommandRunner.run("consentrec", ["evaluate", "--events", dir.file("events.csv")] + data
            + ["--tune", "--tune-trials", "3", "--tune-strategy", "halving", "--json", dir.file("tuned.json")])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("tuned for global: f=8"), result.stdout)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.file("tuned.json")))) as! [String: Any]
        for recommender in json["recommenders"] as! [[String: Any]] {
            let tuning = try XCTUnwrap(recommender["tuning"] as? [[String: Any]])
            XCTAssertFalse(tuning.isEmpty)
            for choice in tuning {
                let configuration = choice["configuration"] as! [String: Any]
                XCTAssertEqual(configuration["factors"] as? Int, 8, "--factors 8 stays fixed")
                XCTAssertEqual(choice["trials"] as? Int, 3, "three candidates")
                XCTAssertGreaterThanOrEqual(choice["fits"] as! Int, 4, "halving: 3 at a third of the iterations, then the best and the configured at all")
            }
        }
        let both = try CommandRunner.run("consentrec", ["evaluate", "--events", dir.file("events.csv")] + data + ["--tune", "--grid", "factors=4,8"])
        XCTAssertEqual(both.status, 64, both.stderr)
    }
}
