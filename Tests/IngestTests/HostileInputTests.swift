import CompressNIO
@testable import Consent
import Crypto
import Foundation
@testable import Ingest
import NIOCore
import TestSupport
import XCTest

/// Hostile event files: every line is accounted for, nothing is read twice, nothing crashes,
/// and the checksum is of the bytes actually read.
final class HostileInputTests: XCTestCase {
    let fixture = EventsFixture()
    static let header = "timestamp,workspace_id,user_id,channel_id,event,emoji\n"

    static func rows(_ count: Int) -> [String] {
        (0..<count).map { "\(1_763_000_000 + $0),W\($0 % 7),U\($0 % 101),C\($0 % 13),post," }
    }

    func testStrayQuote_costsOneRow_andEveryLineIsAccountedFor() throws {
        var lines = Self.rows(5_000)
        lines[2_999] = "1763000000,W1,\"U1,C1,post,"  // an unclosed quote at line 3,001 of the file
        let text = Self.header + lines.joined(separator: "\n") + "\n\n"
        let log = try fixture.reader().read([fixture.directory.write("stray.csv", text)], logger: .quiet)
        XCTAssertEqual(log.usage.rowsRead, 5_000, "every data row is read or counted bad")
        XCTAssertEqual(log.usage.badRows.counts, [.malformed: 1])
        XCTAssertEqual(log.count, 4_999)
        XCTAssertTrue(log.usage.badRows.examples[0].hasSuffix(".csv:3001: user_id: a quoted field is not closed on its line"), log.usage.badRows.examples[0])
        // Header + rows + blank lines = the file's lines.
        let file = try XCTUnwrap(log.usage.files.first)
        XCTAssertEqual(1 + file.rows + file.blankLines, text.filter { $0 == "\n" }.count)
        XCTAssertEqual(file.blankLines, 1)
    }

    func testAQuoteLeftOpenAtTheEnd_andAQuoteInsideAField_areBadRows() throws {
        let text = Self.header + "1,W,U,C,post,\n" + "2,W,U\"x,C,post,\n" + "3,W,U,C,post,\n" + "4,W,\"U,C,post,"
        let log = try fixture.reader().read([fixture.directory.write("q.csv", text)], logger: .quiet)
        XCTAssertEqual(log.count, 2)
        XCTAssertEqual(log.usage.rowsRead, 4)
        XCTAssertEqual(log.usage.badRows.examples.map { String($0.split(separator: ":", maxSplits: 1)[1]) }, [
            "3: user_id: a quote inside an unquoted field", "5: user_id: a quoted field is not closed",
        ])
    }

    func testACarriageReturnAloneAfterAQuote_doesNotEndTheRecord() throws {
        // Found by the fuzzer: a bare CR after a closing quote was taken for a line end, and the
        // rest of the line was read as one more row than the file has lines.
        let text = Self.header + "1,W,U,C,react,\"x\"\r+\"1\",react\n" + "2,W,U,C,post,\"e\"\r\n" + "3,W,U,C,post,\"e\"\r"
        let log = try fixture.reader().read([fixture.directory.write("cr.csv", text)], logger: .quiet)
        XCTAssertEqual(log.usage.rowsRead, 3)
        XCTAssertEqual(log.count, 2)
        XCTAssertEqual(log.usage.badRows.examples.map { String($0.split(separator: ":", maxSplits: 1)[1]) }, ["2: emoji: text after a closing quote"])
    }

    func testALineLongerThanTheRowCap_isOneBadRow_andReadingGoesOn() throws {
        var data = Data((Self.header + "1,W,U,C,post,\n").utf8)
        data.append(Data(repeating: 0x41, count: RowReader.maxRowBytes + 1_000))
        data.append(Data("\n2,W,U,C,post,\n".utf8))
        let log = try fixture.reader().read([fixture.directory.write("long.csv", data)], logger: .quiet)
        XCTAssertEqual(log.count, 2)
        XCTAssertEqual(log.usage.rowsRead, 3)
        XCTAssertEqual(log.usage.badRows.counts, [.overlongField: 1])
        XCTAssertTrue(log.usage.badRows.examples[0].contains(":3: row: a line longer than 64 MiB"), log.usage.badRows.examples[0])
    }

    func testAFileListedTwice_isRefused_underAnySpelling_andByContent() throws {
        let path = fixture.directory.write("a.csv", Self.header + Self.rows(3).joined(separator: "\n"))
        let dotted = fixture.directory.path + "/./a.csv"
        let link = fixture.directory.file("link.csv")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
        for pair in [[path, path], [path, dotted], [path, link], [path, fixture.directory.path + "/*.csv"]] {
            XCTAssertThrowsError(try fixture.reader().read(pair, logger: .quiet), "\(pair)") { error in
                guard case .unreadableFile(_, let reason) = error as? IngestError else { return XCTFail("\(error)") }
                XCTAssertTrue(reason.contains("listed twice"), reason)
            }
        }
        let copy = fixture.directory.write("copy.csv", try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertThrowsError(try fixture.reader().read([path, copy], logger: .quiet)) { error in
            guard case .unreadableFile(let p, let reason) = error as? IngestError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, copy)
            XCTAssertTrue(reason.contains("the same content as \(path)"), reason)
        }
    }

    func testAFileAndItsGzipCopy_areTheSameContent_andRefused() throws {
        let text = Self.header + Self.rows(20).joined(separator: "\n") + "\n"
        let plain = fixture.directory.write("p.csv", text)
        var buffer = ByteBufferAllocator().buffer(string: text)
        let gzipped = fixture.directory.write("p.csv.gz", Data(try buffer.compress(with: .gzip()).readableBytesView))
        XCTAssertThrowsError(try fixture.reader().read([plain, gzipped], logger: .quiet)) { error in
            guard case .unreadableFile(_, let reason) = error as? IngestError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("once decompressed"), reason)
        }
    }

    func testEmptyFilesMayBeAlike_onlyFilesWithRowsMayNot() throws {
        let quiet1 = fixture.directory.write("day1.csv", Self.header)
        let quiet2 = fixture.directory.write("day2.csv", Self.header)
        XCTAssertEqual(try fixture.reader().read([quiet1, quiet2], logger: .quiet).usage.files.count, 2)
    }

    func testChecksums_areOfTheBytesRead_plainAndGzip() throws {
        let text = Self.header + Self.rows(20).joined(separator: "\n") + "\n"
        let plain = fixture.directory.write("p.csv", text)
        var buffer = ByteBufferAllocator().buffer(string: text)
        let gzipped = fixture.directory.write("g.csv.gz", Data(try buffer.compress(with: .gzip()).readableBytesView))
        let log = try fixture.reader().read([plain], logger: .quiet)
        XCTAssertEqual(log.usage.files[0].sha256, Self.sha256(plain))
        let zipped = try fixture.reader().read([gzipped], logger: .quiet)
        XCTAssertEqual(zipped.usage.files[0].sha256, Self.sha256(gzipped), "the stored (compressed) bytes, as on disk")
    }

    func testNonFiles_areRefusedByWhatTheyAre_neverReadForever() throws {
        let fifo = fixture.directory.file("fifo")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let folder = fixture.directory.file("folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (path, kind) in [("/dev/zero", "a character device"), (fifo, "a FIFO"), (folder, "a directory")] {
            XCTAssertThrowsError(try ConsentRegistry.load(path: path, asOf: 0)) { error in
                guard case .registryUnreadable(_, let reason) = error as? ConsentError else { return XCTFail("\(error)") }
                XCTAssertTrue(reason.contains(kind), reason)
            }
            XCTAssertThrowsError(try PseudonymKey.load(file: path)) { error in
                guard case .unreadable(_, let reason) = error as? KeyError else { return XCTFail("\(error)") }
                XCTAssertTrue(reason.contains(kind), reason)
            }
        }
        XCTAssertThrowsError(try fixture.reader().read([fifo], format: .csv)) { error in
            guard case .unreadableFile(_, let reason) = error as? IngestError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("FIFO"), reason)
        }
    }

    func testAColumnNameIsShownOnlyWhenItIsAPlainName_neverAnEscapeOrAnID() throws {
        XCTAssertEqual(IngestError.shown("text"), "'text'")
        XCTAssertEqual(IngestError.shown("message_body"), "'message_body'")
        for hostile in ["\u{1B}]0;PWNED\u{07}", "secret-TZTVPZECN5", "TZTVPZECN5", String(repeating: "a", count: 40)] {
            XCTAssertTrue(IngestError.shown(hostile).hasPrefix("(a name of "), hostile)
        }
        let path = fixture.directory.write("k.jsonl", #"{"timestamp":1,"workspace_id":"W","user_id":"U","channel_id":"C","event":"join","\u001b[2JTZTVPZECN5":1}"# + "\n")
        XCTAssertThrowsError(try fixture.reader().read([path], logger: .quiet)) { error in
            XCTAssertFalse("\(error)".contains("TZTVPZECN5"), "\(error)")
            XCTAssertFalse("\(error)".contains("\u{1B}"), "\(error)")
        }
    }

    func testTheKeyFromTheEnvironment_isTheKeyFromTheFile_despiteATrailingNewline() throws {
        let file = fixture.directory.write("k.key", "0123456789abcdef0123456789abcdef\n")
        let fromFile = Pseudonymiser(key: try PseudonymKey.load(file: file))
        let fromEnvironment = Pseudonymiser(key: try PseudonymKey.load(file: nil, environment: [PseudonymKey.environmentVariable: "0123456789abcdef0123456789abcdef\n"]))
        XCTAssertEqual(fromFile.workspace("W1"), fromEnvironment.workspace("W1"))
    }

    static func sha256(_ path: String) -> String {
        SHA256.hash(data: FileManager.default.contents(atPath: path)!).map { String(format: "%02x", $0) }.joined()
    }
}

extension EventLogReader {
    func read(_ files: [String], format: EventFormat) throws -> EventLog {
        var options = self.options
        options.format = format
        return try EventLogReader(options: options, registry: registry, pseudonymiser: pseudonymiser).read(files, logger: .quiet)
    }
}
