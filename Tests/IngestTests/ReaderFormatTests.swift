@testable import Consent
import Foundation
@testable import Ingest
@testable import Platform
import TestSupport
import XCTest

final class ReaderFormatTests: XCTestCase {
    let fixture = EventsFixture()

    func testCSV_quotingEdgeCases_perRFC4180() throws {
        let csv = "emoji,event,channel_id,user_id,workspace_id,timestamp,note\r\n"
            + "\"party,parrot\",react,\"C,1\",\"U q\",W1,1763600000,\"say \"\"hi\"\"\"\r\n"
            + "\"party\nparrot\",react,C2,U2,W1,1763600001,\r\n"
            + ",post,C3,U3,W1,1763600002,"  // no final newline
        let log = try fixture.reader(ignored: ["note"]).read([fixture.directory.write("q.csv", csv)], logger: .quiet)
        // No field of the schema holds a line break: the quoted field that crosses one is a bad
        // row (line 3), and its tail, with a quote inside an unquoted field, another (line 4).
        XCTAssertEqual(log.count, 2)
        XCTAssertEqual(log.usage.rowsRead, 4)
        XCTAssertEqual(log.usage.badRows.counts[.malformed], 2)
        XCTAssertEqual(log.usage.badRows.examples.map { $0.split(separator: ":").dropFirst().joined(separator: ":") }, [
            "3: emoji: a quoted field is not closed on its line", "4: emoji: a quote inside an unquoted field",
        ])
        XCTAssertEqual(log.vocabulary.emoji, ["party,parrot"])
        XCTAssertEqual(log.kinds, [.react, .post])
        XCTAssertEqual(log.emoji, [0, -1])
        // The quoted ids were read whole: two distinct channels hash as their full text.
        let p = Pseudonymiser(key: EventsFixture.key)
        XCTAssertEqual(log.vocabulary.channels[0], p.channel("C,1", workspace: "W1"))
        XCTAssertEqual(log.vocabulary.users[0], p.user("U q", workspace: "W1"))
    }

    func testAByteOrderMark_beforeAQuotedHeader_isStepped_over() throws {
        // Excel's "CSV UTF-8" quotes nothing, but other tools quote every header cell after the BOM.
        let csv = "\u{FEFF}\"timestamp\",\"workspace_id\",\"user_id\",\"channel_id\",\"event\"\r\n2026-11-10T00:00:00Z,W1,U1,C1,join\r\n"
        XCTAssertEqual(try fixture.read("bom.csv", csv).count, 1)
        XCTAssertNoThrow(try fixture.registry("\u{FEFF}\"workspace_id\",\"status\",\"effective_at\"\nW1,opted_in,1700000000\n"))
    }

    func testEmojiNames_followTheIDGrammar_soNoEscapeSequenceOrSentenceIsShared() throws {
        let csv = "timestamp,workspace_id,user_id,channel_id,event,emoji\n"
            + "1763600000,W1,U1,C1,react,\u{1B}[2Jheart\n" + "1763600000,W1,U1,C1,react,heart\u{200B}\n" + "1763600000,W1,U1,C1,react,heart\n"
        let log = try fixture.reader().read([fixture.directory.write("e.csv", csv)], logger: .quiet)
        XCTAssertEqual(log.vocabulary.emoji, ["heart"])
        XCTAssertEqual(log.usage.badRows.counts[.invalidID], 2)
        XCTAssertTrue(log.usage.badRows.examples.allSatisfy { $0.contains(": emoji: ") })
    }

    func testCSV_headerWithBOM_anyColumnOrder_andBlankLines() throws {
        let csv = "\u{FEFF}user_id,timestamp,workspace_id,channel_id,event\n\nU1,2026-11-01T00:00:00Z,W1,C1,join\n\n"
        let log = try fixture.read("b.csv", csv)
        XCTAssertEqual(log.count, 1)
        XCTAssertEqual(log.timestamps, [Timestamp.parse("2026-11-01T00:00:00Z")!])
    }

    func testUnknownColumn_refusesTheFile_namingColumnAndFile() throws {
        let path = fixture.directory.write("t.csv", "timestamp,workspace_id,user_id,channel_id,event,text\n1,W,U,C,post,hello\n")
        XCTAssertThrowsError(try fixture.reader().read([path], logger: .quiet)) { error in
            XCTAssertEqual(error as? IngestError, .unknownColumn(file: path, line: 1, column: "text"))
            XCTAssertTrue("\(error)".contains("'text'"))
            XCTAssertTrue("\(error)".contains(path))
        }
    }

    func testIgnoredColumn_isSkipped_andNeverStored() throws {
        let secret = "the quarterly numbers are bad"
        let csv = "timestamp,workspace_id,user_id,channel_id,event,message\n1763600000,W1,U1,C1,post,\"\(secret)\"\n"
        let log = try fixture.read("i.csv", csv, ignored: ["message"])
        XCTAssertEqual(log.count, 1)
        let everything = (log.vocabulary.workspaces + log.vocabulary.users + log.vocabulary.channels + log.vocabulary.emoji).joined()
        XCTAssertFalse(everything.contains("quarterly"))
        let report = String(decoding: try JSONEncoder().encode(log.usage), as: UTF8.self)
        XCTAssertFalse(report.contains("quarterly"))
    }

    func testHeaderNamedLikeAnID_isNotShown_inAnySpelling() throws {
        // Found by an attack: the header was lowercased before the "plain name" check, so an
        // uppercase user id used as a column name was echoed into the error and the report.
        for (n, header) in ["UGCJEB4U46", "T01ABC", "tZK4995CDP"].enumerated() {
            let path = fixture.directory.write("h-\(n).csv", "timestamp,workspace_id,user_id,channel_id,event,\(header)\n1,W,U,C,post,x\n")
            XCTAssertThrowsError(try fixture.reader().read([path], logger: .quiet)) { error in
                XCTAssertFalse("\(error)".lowercased().contains(header.lowercased()), "\(error)")
                XCTAssertTrue("\(error)".contains("a name of \(header.utf8.count) bytes, not shown"), "\(error)")
            }
            let twice = fixture.directory.write("d-\(n).csv", "timestamp,workspace_id,user_id,channel_id,event,\(header),\(header)\n")
            XCTAssertThrowsError(try fixture.reader(ignored: [header.lowercased()]).read([twice], logger: .quiet)) { error in
                guard case .duplicateColumn = error as? IngestError else { return XCTFail("\(error)") }
                XCTAssertFalse("\(error)".lowercased().contains(header.lowercased()), "\(error)")
            }
        }
    }

    func testMissingHeader_missingColumn_duplicateColumn_areErrors() throws {
        let noHeader = fixture.directory.write("n.csv", "1763600000,W1,U1,C1,join\n")
        XCTAssertThrowsError(try fixture.reader().read([noHeader], logger: .quiet)) { XCTAssertEqual($0 as? IngestError, .missingHeader(file: noHeader)) }
        let empty = fixture.directory.write("e.csv", "")
        XCTAssertThrowsError(try fixture.reader().read([empty], logger: .quiet)) { XCTAssertEqual($0 as? IngestError, .missingHeader(file: empty)) }
        let missing = fixture.directory.write("m.csv", "timestamp,workspace_id,user_id,event\n")
        XCTAssertThrowsError(try fixture.reader().read([missing], logger: .quiet)) { XCTAssertEqual($0 as? IngestError, .missingColumn(file: missing, column: "channel_id")) }
        let twice = fixture.directory.write("d.csv", "timestamp,workspace_id,user_id,channel_id,event,event\n")
        XCTAssertThrowsError(try fixture.reader().read([twice], logger: .quiet)) { XCTAssertEqual($0 as? IngestError, .duplicateColumn(file: twice, column: "event")) }
    }

    func testTSV_readsTabSeparatedFields() throws {
        let tsv = "timestamp\tworkspace_id\tuser_id\tchannel_id\tevent\temoji\n1763600000\tW1\tU1\tC1\treact\ttada\n"
        let log = try fixture.read("x.tsv", tsv)
        XCTAssertEqual(log.vocabulary.emoji, ["tada"])
    }

    func testJSONLines_escapesNullsAndIgnoredNestedValues() throws {
        let jsonl = """
            {"timestamp": "2026-11-01T00:00:00Z", "workspace_id": "W1", "user_id": "U\\u00e9", "channel_id": "C1", "event": "react", "emoji": ":tada:"}
            {"timestamp": 1763600000, "workspace_id": "W1", "user_id": "U2", "channel_id": "C1", "event": "post", "emoji": null, "meta": {"a": [1, "}"]}}

            {"timestamp": 1763600000, "workspace_id": "W1", "user_id": "U3", "channel_id": "C1", "event": "view", "emoji": "\\ud83d\\ude00"}
            """
        let log = try fixture.read("j.jsonl", jsonl, ignored: ["meta"])
        XCTAssertEqual(log.count, 3)
        XCTAssertEqual(log.vocabulary.emoji, ["tada", "😀"])
        XCTAssertEqual(log.vocabulary.users[0], Pseudonymiser(key: EventsFixture.key).user("Ué", workspace: "W1"))
    }

    func testJSONLines_unknownKey_refusesTheFile_andBadJSON_isABadRow() throws {
        let path = fixture.directory.write("k.jsonl", #"{"timestamp": 1, "workspace_id": "W", "user_id": "U", "channel_id": "C", "event": "post", "text": "hi"}"# + "\n")
        XCTAssertThrowsError(try fixture.reader().read([path], logger: .quiet)) { XCTAssertEqual($0 as? IngestError, .unknownColumn(file: path, line: 1, column: "text")) }
        let log = try fixture.read("bad.jsonl", #"{"timestamp": 1, "workspace_id": "W""# + "\n" + #"{"timestamp": 1763600000, "workspace_id": "W", "user_id": "U", "channel_id": "C", "event": "post"}"# + "\n")
        XCTAssertEqual(log.count, 1)
        XCTAssertEqual(log.usage.badRows.counts, [.malformed: 1])
        XCTAssertEqual(log.usage.badRows.examples, [fixture.directory.file("bad.jsonl") + ":1: row: the object is not closed"])
    }

    func testSeveralFilesAndGlobs_formOneLog() throws {
        let header = "timestamp,workspace_id,user_id,channel_id,event\n"
        fixture.directory.write("day-1.csv", header + "1763600000,W1,U1,C1,join\n")
        fixture.directory.write("day-2.csv", header + "1763600001,W1,U1,C2,join\n")
        let log = try fixture.reader().read([fixture.directory.path + "/day-*.csv"], logger: .quiet)
        XCTAssertEqual(log.count, 2)
        XCTAssertEqual(log.usage.files.map { ($0.path as NSString).lastPathComponent }, ["day-1.csv", "day-2.csv"])
        XCTAssertThrowsError(try fixture.reader().read([fixture.directory.path + "/nothing-*.csv"], logger: .quiet))
        XCTAssertThrowsError(try fixture.reader().read([fixture.directory.path + "/absent.csv"], logger: .quiet)) { error in
            guard case .unreadableFile = error as? IngestError else { return XCTFail("\(error)") }
        }
    }

    func testLargeFile_spanningManyBufferRefills_readsEveryRow() throws {
        var csv = "timestamp,workspace_id,user_id,channel_id,event,emoji\n"
        for i in 0..<120_000 { csv += "\(1_763_600_000 + i),W\(i % 7),U\(i % 5000),\"C\(i % 300)\",react,\"e\(i % 50)\"\n" }
        let log = try fixture.read("big.csv", csv)
        XCTAssertEqual(log.count, 120_000)
        XCTAssertEqual(log.usage.badRows.total, 0)
        XCTAssertEqual(log.vocabulary.emoji.count, 50)
    }
}
