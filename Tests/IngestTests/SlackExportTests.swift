import Foundation
@testable import Ingest
@testable import Platform
import TestSupport
import XCTest
import ZIPFoundation

final class SlackExportTests: XCTestCase {
    let dir = TemporaryDirectory()

    func zipped() throws -> String {
        let zip = dir.file("export.zip")
        try FileManager.default.zipItem(at: URL(fileURLWithPath: Fixtures.slackExport), to: URL(fileURLWithPath: zip), shouldKeepParent: false)
        return zip
    }

    func read(_ path: String, _ options: SlackExport.Options = .init()) throws -> ([SlackExport.Event], [String], SlackExport.Skipped) {
        var events: [SlackExport.Event] = [], bad: [String] = []
        let outcome = try SlackExport(path: path, options: options).read(
            event: { (e: SlackExport.Event) throws(IngestError) in events.append(e) },
            bad: { (kind, file, line, field, reason) throws(IngestError) in bad.append("\(kind.rawValue) \(file):\(line) \(field)") },
            badFile: { (file: DataUsage.BadFile) throws(IngestError) in
                bad.append("\(file.kind.rawValue) \(file.path.dropFirst(path.count + 1)) lost \(file.messagesLost.map(String.init) ?? "?")")
            })
        return (events, bad, outcome.skipped)
    }

    func testEveryEventKind_fromFolderAndZip_alike() throws {
        let (events, bad, skipped) = try read(Fixtures.slackExport)
        let summary = events.map { "\($0.kind.name) \($0.user) \($0.channel) \($0.emoji ?? "-")" }
        XCTAssertEqual(summary, [
            "join U0ALICE C0GENERAL -", "join U0BOB C0GENERAL -", "post U0ALICE C0GENERAL -",
            "react U0BOB C0GENERAL +1", "react U0BOB C0GENERAL tada", "reply U0BOB C0GENERAL -",
            "leave U0BOB C0GENERAL -",
            "post U0ALICE C0RANDOM -", "reply U0BOB C0RANDOM -",
        ])
        XCTAssertTrue(events.allSatisfy { $0.workspace == "T0ACME" }, "team_id from users.json")
        XCTAssertEqual(events.first?.timestamp, Int64(Timestamp.parse("2026-11-01T00:01:40Z")!))
        XCTAssertEqual(skipped, SlackExport.Skipped(botMessages: 2, deletedUserEvents: 2, systemMessages: 1))
        XCTAssertEqual(bad, [
            "unknown_channel folder-1/2026-11-01.json lost 1",
            "empty_id folder-2/2026-11-02.json:2 user",
            "bad_timestamp folder-2/2026-11-02.json:3 ts",
            "bad_file folder-3/2026-11-03.json lost 1",
        ])
        let (fromZip, badZip, skippedZip) = try read(try zipped())
        XCTAssertEqual(fromZip, events)
        XCTAssertEqual(badZip, bad)
        XCTAssertEqual(skippedZip, skipped)
    }

    func testCorruptZip_isAnError_notAnEmptyExport() throws {
        var data = FileManager.default.contents(atPath: try zipped())!
        data = data.prefix(data.count / 2)  // the central directory is at the end: cut it off
        let path = dir.write("cut.zip", data)
        XCTAssertThrowsError(try read(path)) { error in
            guard case .unreadableFile(let p, let reason) = error as? IngestError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path)
            XCTAssertTrue(reason.contains("ZIP"), reason)
        }
    }

    func testFlags_keepDeletedUsers_andSkinTones_andOverrideTheWorkspace() throws {
        let (events, _, skipped) = try read(Fixtures.slackExport, .init(workspaceID: "W-OVERRIDE", keepDeletedUsers: true, keepSkinTones: true))
        XCTAssertTrue(events.contains { $0.user == "U0CAROL" && $0.kind == .post })
        XCTAssertTrue(events.contains { $0.user == "U0CAROL" && $0.kind == .react && $0.emoji == "+1::skin-tone-3" })
        XCTAssertTrue(events.contains { $0.user == "U0BOB" && $0.emoji == "+1::skin-tone-3" })
        XCTAssertFalse(events.contains { $0.user == "U0BOTTY" }, "bots are always left out")
        XCTAssertTrue(events.allSatisfy { $0.workspace == "W-OVERRIDE" })
        XCTAssertEqual(skipped.deletedUserEvents, 0)
    }

    func testSlackFormat_goesThroughConsentAndBadRowRules_andNoTextLeaks() throws {
        let fixture = EventsFixture()
        let zip = try zipped()
        // Format told by the name (.zip) and by the folder (channels.json inside).
        XCTAssertEqual(EventFormat.guess(path: zip), .slackExport)
        XCTAssertEqual(EventFormat.guess(path: Fixtures.slackExport), .slackExport)
        let log = try fixture.reader(limit: BadRowLimit(maxCount: nil, maxFraction: nil)).read([zip], logger: .quiet)
        XCTAssertEqual(log.count, 9)
        XCTAssertEqual(log.usage.badRows.total, 4)
        XCTAssertTrue(log.usage.badRows.examples.allSatisfy { $0.hasPrefix(zip + ":") }, "\(log.usage.badRows.examples)")
        XCTAssertEqual(log.usage.slackSkipped, SlackExport.Skipped(botMessages: 2, deletedUserEvents: 2, systemMessages: 1))
        // Opted out: nothing of the workspace is kept.
        let out = try fixture.reader(registry: "workspace_id,status,effective_at\nT0ACME,opted_out,2026-01-01T00:00:00Z\n",
                                     limit: BadRowLimit(maxCount: nil, maxFraction: nil)).read([zip], logger: .quiet)
        XCTAssertEqual(out.count, 0)
        XCTAssertEqual(out.usage.eventsRemovedByConsent[.optedOut], 9)
        // The same limits: 4 bad of 13 rows is over the default 1%.
        XCTAssertThrowsError(try fixture.reader(limit: BadRowLimit()).read([zip], logger: .quiet)) { error in
            guard case .tooManyBadRows = error as? IngestError else { return XCTFail("\(error)") }
        }
        // No text, name or address from the export anywhere in what was produced.
        let produced = (log.vocabulary.users + log.vocabulary.channels + log.vocabulary.emoji + log.vocabulary.workspaces).joined()
            + String(decoding: try JSONEncoder().encode(log.usage), as: UTF8.self)
        // Channel names (the export's folder names) are not shown either, not even in bad-row examples.
        for secret in ["SECRET", "Secretname", "example.com", "alice", "Initech", "general", "random", "archived-elsewhere"] {
            XCTAssertFalse(produced.contains(secret), secret)
        }
    }
}

/// A small export written by hand, for the team-id and bot-reaction rules.
final class SlackExportConsentTests: XCTestCase {
    let dir = TemporaryDirectory()

    func export(teams: [String]) throws -> String {
        let root = dir.path + "/export-\(teams.count)"
        try FileManager.default.createDirectory(atPath: root + "/general", withIntermediateDirectories: true)
        _ = dir.write("export-\(teams.count)/channels.json", #"[{"id":"C1","name":"general"}]"#)
        let users = teams.enumerated().map { #"{"id":"U\#($0.offset)","team_id":"\#($0.element)","is_bot":false}"# }
            + [#"{"id":"UBOT","team_id":"\#(teams[0])","is_bot":true}"#]
        _ = dir.write("export-\(teams.count)/users.json", "[" + users.joined(separator: ",") + "]")
        _ = dir.write("export-\(teams.count)/general/2026-11-01.json", """
            [{"type":"message","subtype":"bot_message","bot_id":"B1","text":"deployed","ts":"1793491300.000100",
              "reactions":[{"name":"tada","users":["U0","UBOT"],"count":2}]},
             {"type":"message","user":"UBOT","text":"hello","ts":"1793491400.000100",
              "reactions":[{"name":"eyes","users":["U0"],"count":1}]},
             {"type":"message","user":"U0","text":"hi","ts":"1793491500.000100"}]
            """)
        return root
    }

    func read(_ path: String, _ options: SlackExport.Options = .init()) throws -> ([SlackExport.Event], SlackExport.Skipped) {
        var events: [SlackExport.Event] = []
        let outcome = try SlackExport(path: path, options: options).read(
            event: { (e: SlackExport.Event) throws(IngestError) in events.append(e) },
            bad: { (_, _, _, _, _) throws(IngestError) in },
            badFile: { (_: DataUsage.BadFile) throws(IngestError) in })
        return (events, outcome.skipped)
    }

    func testMixedTeamIDs_areRefused_unlessTheWorkspaceIsGiven() throws {
        let mixed = try export(teams: ["T0ACME", "T0OTHER"])
        XCTAssertThrowsError(try read(mixed)) { error in
            guard case .unreadableFile(_, let reason) = error as? IngestError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("2 different team_id"), reason)
        }
        let (events, _) = try read(mixed, .init(workspaceID: "T0ACME"))
        XCTAssertTrue(events.allSatisfy { $0.workspace == "T0ACME" })
        XCTAssertEqual(try read(try export(teams: ["T0ACME"])).0.first?.workspace, "T0ACME")
        // A mixed export may not be put under an outside id.
        XCTAssertThrowsError(try read(mixed, .init(workspaceID: "T0THIRD")))
    }

    func testPeoplesReactions_onBotMessages_count_butTheBotsMessagesDoNot() throws {
        let (events, skipped) = try read(try export(teams: ["T0ACME"]))
        XCTAssertEqual(events.map { "\($0.kind.name) \($0.user) \($0.emoji ?? "-")" }, ["react U0 tada", "react U0 eyes", "post U0 -"])
        XCTAssertEqual(skipped.botMessages, 2)
    }
}
