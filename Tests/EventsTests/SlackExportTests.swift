@testable import Events
import Foundation
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
        let skipped = try SlackExport(path: path, options: options).read(
            event: { (e: SlackExport.Event) throws(IngestError) in events.append(e) },
            bad: { (kind, file, line, field, reason) throws(IngestError) in bad.append("\(kind.rawValue) \(file):\(line) \(field)") })
        return (events, bad, skipped)
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
            "unknown_channel archived-elsewhere/2026-11-01.json:0 channel",
            "empty_id general/2026-11-02.json:2 user",
            "bad_timestamp general/2026-11-02.json:3 ts",
            "malformed_row random/2026-11-03.json:0 file",
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
        let log = try fixture.reader(limit: BadRowLimit(maxCount: nil, maxFraction: nil)).read([zip])
        XCTAssertEqual(log.count, 9)
        XCTAssertEqual(log.usage.badRows.total, 4)
        XCTAssertTrue(log.usage.badRows.examples.allSatisfy { $0.hasPrefix(zip + ":") }, "\(log.usage.badRows.examples)")
        XCTAssertEqual(log.usage.slackSkipped, SlackExport.Skipped(botMessages: 2, deletedUserEvents: 2, systemMessages: 1))
        // Opted out: nothing of the workspace is kept.
        let out = try fixture.reader(registry: "workspace_id,status,effective_at\nT0ACME,opted_out,2026-01-01T00:00:00Z\n",
                                     limit: BadRowLimit(maxCount: nil, maxFraction: nil)).read([zip])
        XCTAssertEqual(out.count, 0)
        XCTAssertEqual(out.usage.eventsRemovedByConsent[.optedOut], 9)
        // The same limits: 4 bad of 13 rows is over the default 1%.
        XCTAssertThrowsError(try fixture.reader(limit: BadRowLimit()).read([zip])) { error in
            guard case .tooManyBadRows = error as? IngestError else { return XCTFail("\(error)") }
        }
        // No text, name or address from the export anywhere in what was produced.
        let produced = (log.vocabulary.users + log.vocabulary.channels + log.vocabulary.emoji + log.vocabulary.workspaces).joined()
            + String(decoding: try JSONEncoder().encode(log.usage), as: UTF8.self)
        for secret in ["SECRET", "Secretname", "example.com", "alice", "Initech"] { XCTAssertFalse(produced.contains(secret), secret) }
    }
}
