@testable import Ingest
import TestSupport
import XCTest

final class BadRowTests: XCTestCase {
    let fixture = EventsFixture()
    let header = "timestamp,workspace_id,user_id,channel_id,event,emoji\n"

    func testEveryBadRowKind_isCounted_withFileLineAndField() throws {
        let long = String(repeating: "x", count: 300)
        let rows = [
            "1763600000,W1,U1,C1,join,",  // good, line 2
            "1763600000,W1,U1,C1",  // 3 fields count
            "not-a-time,W1,U1,C1,join,",  // 4 timestamp
            "1763600000,W1,U1,C1,wave,",  // 5 unknown event
            "1763600000,W1,,C1,join,",  // 6 empty user
            "1763600000,W1,U1,C1,react,",  // 7 react without emoji
            "1763600000,W1,U\u{FFFD}1,C1,join,",  // 8 (valid UTF-8: U+FFFD) good
            "1763600000,W1,\(long),C1,join,",  // 9 overlong
            "1763600000,,U1,C1,join,",  // 10 empty workspace
            "\"1763600000,W1,U1,C1,join,",  // 11 unclosed quote: runs to the end (malformed)
        ]
        var data = Data((header + rows.joined(separator: "\n") + "\n").utf8)
        // Line 12: an invalid UTF-8 byte in a user id, inserted before the unclosed quote row.
        let bad = Data("1763600000,W1,U\u{01}".utf8) + Data([0xFF]) + Data(",C1,join,\n".utf8)
        let insertAt = data.range(of: Data("\"1763600000".utf8))!.lowerBound
        data.insert(contentsOf: bad, at: insertAt)
        let path = fixture.directory.write("bad.csv", data)
        let log = try fixture.reader().read([path], logger: .quiet)
        XCTAssertEqual(log.count, 2)
        let counts = log.usage.badRows.counts
        XCTAssertEqual(counts[.fieldCount], 1)
        XCTAssertEqual(counts[.timestamp], 1)
        XCTAssertEqual(counts[.unknownEvent], 1)
        XCTAssertEqual(counts[.emptyID], 2)
        XCTAssertEqual(counts[.reactWithoutEmoji], 1)
        XCTAssertEqual(counts[.overlongField], 1)
        XCTAssertEqual(counts[.invalidUTF8], 1)
        XCTAssertEqual(counts[.malformed], 1)
        XCTAssertEqual(log.usage.rowsRead, 11)
        let examples = log.usage.badRows.examples
        XCTAssertEqual(examples[0], "\(path):3: row: 4 fields where the header has 6")
        XCTAssertEqual(examples[1], "\(path):4: timestamp: not RFC 3339 or Unix seconds")
        XCTAssertEqual(examples[2], "\(path):5: event: not one of join, view, post, reply, react, leave")
        XCTAssertEqual(examples[3], "\(path):6: user_id: empty")
        XCTAssertEqual(examples[4], "\(path):7: emoji: a react event needs an emoji")
        XCTAssertEqual(examples[5], "\(path):9: user_id: longer than 256 bytes")
        XCTAssertEqual(examples[6], "\(path):10: workspace_id: empty")
        XCTAssertEqual(examples[7], "\(path):11: user_id: not valid UTF-8")
        XCTAssertEqual(examples[8], "\(path):12: timestamp: a quoted field is not closed on its line")
        // No example quotes a field's content.
        XCTAssertFalse(examples.joined().contains(long))
    }

    func testBadRowLimit_byFraction_andByCount_failsTheRun_withSummary() throws {
        let rows = (0..<90).map { "17636\($0 + 10000),W1,U\($0),C1,join," } + (0..<10).map { _ in "bad,W1,U,C,join," }
        let path = fixture.directory.write("ten.csv", header + rows.joined(separator: "\n") + "\n")
        XCTAssertThrowsError(try fixture.reader(limit: BadRowLimit(maxFraction: 0.05)).read([path], logger: .quiet)) { error in
            guard case .tooManyBadRows(let summary, let examples) = error as? IngestError else { return XCTFail("\(error)") }
            XCTAssertEqual(summary, "10 bad rows (10 bad_timestamp) of 100 rows")
            XCTAssertEqual(examples.count, 10)
        }
        XCTAssertThrowsError(try fixture.reader(limit: BadRowLimit(maxCount: 3, maxFraction: nil)).read([path], logger: .quiet)) { error in
            guard case .tooManyBadRows(let summary, _) = error as? IngestError else { return XCTFail("\(error)") }
            XCTAssertTrue(summary.hasPrefix("4 bad rows"), summary)
        }
        let log = try fixture.reader(limit: BadRowLimit(maxCount: 10, maxFraction: 0.1)).read([path], logger: .quiet)
        XCTAssertEqual(log.count, 90)
        XCTAssertEqual(log.usage.badRows.total, 10)
    }
}
