import Foundation
import Publishing
import TestSupport
import XCTest
import ZIPFoundation

final class ImportSlackCommandTests: XCTestCase {
    let dir = TemporaryDirectory()

    func testImportSlack_writesTheSchema_plainAndGzip_withoutAnyText() throws {
        let zip = dir.file("export.zip")
        try FileManager.default.zipItem(at: URL(fileURLWithPath: Fixtures.slackExport), to: URL(fileURLWithPath: zip), shouldKeepParent: false)
        let result = try CommandRunner.run("consentrec", ["import-slack", zip, "--out", dir.file("events.csv"), "--max-bad-fraction", "0.5"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("wrote 9 events"), result.stdout)
        XCTAssertTrue(result.stdout.contains("2 bot messages, 2 events of deleted users, 1 system messages"), result.stdout)
        let csv = try String(contentsOfFile: dir.file("events.csv"), encoding: .utf8)
        XCTAssertTrue(csv.hasPrefix("timestamp,workspace_id,user_id,channel_id,event,emoji\n"))
        XCTAssertEqual(csv.split(separator: "\n").count, 10)
        XCTAssertTrue(csv.contains(",T0ACME,U0BOB,C0GENERAL,react,+1\n"))
        for secret in ["SECRET", "Secretname", "example.com", "Initech"] {
            XCTAssertFalse((csv + result.stdout + result.stderr).contains(secret), secret)
        }
        let gz = try CommandRunner.run("consentrec", ["import-slack", Fixtures.slackExport, "--out", dir.file("events.csv.gz"), "--max-bad-fraction", "0.5"])
        XCTAssertEqual(gz.status, 0, gz.stderr)
        let bytes = FileManager.default.contents(atPath: dir.file("events.csv.gz"))!
        XCTAssertEqual(Array(bytes.prefix(2)), [0x1F, 0x8B])
        // Over the bad-row limit: refused, nothing written.
        let refused = try CommandRunner.run("consentrec", ["import-slack", zip, "--out", dir.file("refused.csv")])
        XCTAssertEqual(refused.status, 3)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("refused.csv")))
    }

    /// A larger export made for this test: 3 teams, 9 channels, 30 users, two weeks of messages
    /// with threads and reactions. Trained directly from the ZIP, it publishes models.
    func testRunTrainedFromASlackExport_publishesModels() throws {
        let root = dir.file("export")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let users = (0..<30).map { "U\(1000 + $0)" }
        let channels = (0..<9).map { ("C\(2000 + $0)", "team\($0 / 3)-chan\($0 % 3)") }
        func json(_ value: Any) -> Data { try! JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) }
        try json(channels.map { ["id": $0.0, "name": $0.1] }).write(to: URL(fileURLWithPath: root + "/channels.json"))
        try json(users.map { ["id": $0, "team_id": "T0BIG", "name": "n\($0)", "deleted": false, "is_bot": false] }).write(to: URL(fileURLWithPath: root + "/users.json"))
        var seed: UInt64 = 42
        func next(_ n: Int) -> Int { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Int((seed >> 33) % UInt64(n)) }
        let emoji = ["+1", "tada", "eyes", "heart", "rocket"]
        for (c, (_, name)) in channels.enumerated() {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
            let team = c / 3
            let members = users.enumerated().filter { $0.offset % 3 == team || $0.offset % 7 == c % 7 }.map(\.element)
            for day in 1...14 {
                var messages: [[String: Any]] = []
                let base = 1_793_491_200 + (day - 1) * 86_400
                if day == 1 { for (i, u) in members.enumerated() { messages.append(["type": "message", "subtype": "channel_join", "user": u, "ts": "\(base + i).000100", "text": "joined"]) } }
                for i in 0..<6 {
                    let u = members[next(members.count)]
                    var m: [String: Any] = ["type": "message", "user": u, "ts": "\(base + 1000 + i * 60).000200", "text": "SECRET-\(i)"]
                    if next(3) == 0 { m["reactions"] = [["name": emoji[next(emoji.count)], "users": [members[next(members.count)], members[next(members.count)]], "count": 2]] }
                    messages.append(m)
                }
                try json(messages).write(to: URL(fileURLWithPath: "\(root)/\(name)/2026-11-\(day < 10 ? "0" : "")\(day).json"))
            }
        }
        let zip = dir.file("big.zip")
        try FileManager.default.zipItem(at: URL(fileURLWithPath: root), to: URL(fileURLWithPath: zip), shouldKeepParent: false)
        dir.write("consent.csv", "workspace_id,status,effective_at\nT0BIG,opted_in,2026-01-01T00:00:00Z\n")
        dir.write("key", "0123456789abcdef0123456789abcdef\n")
        let trained = try CommandRunner.run("consentrec", [
            "train", "--events", zip, "--consent", dir.file("consent.csv"), "--key-file", dir.file("key"),
            "--as-of", "2026-11-20T00:00:00Z", "--out", dir.file("out"), "--recommender", "channel", "--factors", "4", "--iterations", "3",
        ])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(trained.stdout.contains("files: \(zip) (slack-export"), trained.stdout)
        let run = try PublishedRun.open(dir.file("out"))
        XCTAssertEqual(run.manifest.models.count, 1)
        XCTAssertTrue(run.verify(seal: nil).isEmpty)
        XCTAssertFalse((trained.stdout + trained.stderr).contains("SECRET"))
    }
}
