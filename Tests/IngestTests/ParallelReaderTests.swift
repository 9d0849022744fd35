import CompressNIO
import Consent
import Foundation
@testable import Ingest
import Linalg
import NIOCore
import SyntheticData
import TestSupport
import XCTest

/// The reader with several threads gives exactly what it gives with one: the same events in
/// the same order, the same numbering of ids, the same bad rows with the same line numbers,
/// the same checksums — or the same error.
final class ParallelReaderTests: XCTestCase {
    let fixture = EventsFixture()
    let header = "timestamp,workspace_id,user_id,channel_id,event,emoji\n"
    let registryText = "workspace_id,status,effective_at\nW2,opted_out,2020-01-01T00:00:00Z\nW3,opted_in,2020-01-01T00:00:00Z\n"

    enum Outcome: Equatable {
        case log(columns: [[Int64]], kinds: [EventKind], vocabulary: Vocabulary, usage: DataUsage)
        case error(String)
    }

    func read(_ paths: [String], threads: Int, blockBytes: Int = 16 << 20, limit: BadRowLimit = BadRowLimit(maxCount: nil, maxFraction: nil),
              registry: String? = nil, format: EventFormat? = nil) throws -> Outcome {
        var options = IngestOptions(format: format, badRowLimit: limit, policy: .optIn, asOf: EventsFixture.asOf, retentionDays: 400)
        options.policy = .optOut
        options.threads = threads
        options.blockBytes = blockBytes
        let reader = EventLogReader(
            options: options, registry: try fixture.registry(registry ?? registryText), pseudonymiser: Pseudonymiser(key: EventsFixture.key))
        do {
            let log = try reader.read(paths, logger: .quiet)
            let columns = [log.timestamps, log.workspaces.map(Int64.init), log.users.map(Int64.init), log.channels.map(Int64.init), log.emoji.map(Int64.init)]
            return .log(columns: columns, kinds: log.kinds, vocabulary: log.vocabulary, usage: log.usage)
        } catch {
            return .error("\(error)")
        }
    }

    /// Whether the parallel reader read `path` itself, rather than handing it back to the
    /// one-thread reader.
    func readsInParallel(_ path: String, threads: Int, blockBytes: Int, limit: BadRowLimit) throws -> Bool {
        var options = IngestOptions(badRowLimit: limit, policy: .optOut, asOf: EventsFixture.asOf, retentionDays: 400)
        options.threads = threads
        let registry = try fixture.registry(registryText)
        let format = try XCTUnwrap(EventFormat.guess(path: path))
        let reader = ParallelFileReader(path: path, format: format, options: options, registry: registry, threads: threads, blockBytes: blockBytes)
        return reader.read(after: ReaderState(options: options, registry: registry)) { _, _ in } != nil
    }

    /// Every thread count and block size against one thread.
    func assertSameAsOneThread(_ paths: [String], limit: BadRowLimit = BadRowLimit(maxCount: nil, maxFraction: nil),
                               format: EventFormat? = nil, parallel: Bool = true, file: StaticString = #filePath, line: UInt = #line) throws {
        let one = try read(paths, threads: 1, limit: limit, format: format)
        for threads in [2, 3, 5] {
            for blockBytes in [16 << 20, 700, 37] {
                let many = try read(paths, threads: threads, blockBytes: blockBytes, limit: limit, format: format)
                XCTAssertEqual(many, one, "threads \(threads), blocks of \(blockBytes) bytes", file: file, line: line)
                // A read that succeeds is the parallel reader's own, not its fallback's.
                if case .log = one, paths.count == 1, parallel {
                    XCTAssertTrue(try readsInParallel(paths[0], threads: threads, blockBytes: blockBytes, limit: limit), file: file, line: line)
                }
            }
        }
    }

    func gzip(_ data: Data) throws -> Data {
        var input = ByteBufferAllocator().buffer(capacity: data.count)
        input.writeBytes(data)
        let output = try input.compress(with: .gzip())
        return Data(output.readableBytesView)
    }

    /// Good rows, bad rows of every kind, consent exclusions, quotes, CRLF, blank lines.
    func hostileRows(_ n: Int, seed: UInt64) -> String {
        var g = SeededGenerator(seed: seed)
        let templates = [
            "1763600000,W1,U%d,C%d,join,", "1763600100,W2,U%d,C%d,view,", "1763600200,W3,U%d,C%d,react,:tada:",
            "\"1763600300\",W4,\"U%d\",C%d,post,", "not-a-time,W1,U%d,C%d,join,", "1763600000,W1,U%d,C%d,wave,",
            "1763600000,W1,,C%d,join,%d", "1763600000,W5,U%d,C%d,react,", "1763600000,W1,U%d\"x,C%d,join,",
            "\"1763600000,W1,U%d,C%d,join,", "1763600000,W1,U%d,C%d", "1763600000,W6,U%d,C%d,reply,\"a\"\"b\"",
            "", "1763600000,W1,U%d,C%d,join,\r", "1763600000,W1,U\u{200B}%d,C%d,join,", "1763600000,W7,U%d,C%d,leave,",
        ]
        return (0..<n).map { _ in
            let t = templates[g.nextIndex(below: templates.count)]
            return String(format: t, g.nextIndex(below: 40), g.nextIndex(below: 9))
        }.joined(separator: "\n")
    }

    func testAGeneratedLogReadsTheSameWithAnyThreadCount_plainAndGzip() throws {
        var options = SyntheticEventLog.Options()
        options.workspaces = 12
        options.events = 6000
        _ = try SyntheticEventLog(options: options).write(to: fixture.directory.path + "/gen")
        let csv = fixture.directory.path + "/gen/events.csv"
        try assertSameAsOneThread([csv])
        let zipped = fixture.directory.write("gen.csv.gz", try gzip(Data(contentsOf: URL(fileURLWithPath: csv))))
        try assertSameAsOneThread([zipped])
    }

    func testHostileRowsReadTheSame_withTheSameBadRowLinesAndExamples() throws {
        for seed in 0..<6 as Range<UInt64> {
            let text = "\u{FEFF}" + header + hostileRows(300, seed: seed) + (seed % 2 == 0 ? "\n" : "")
            let path = fixture.directory.write("hostile-\(seed).csv", text)
            try assertSameAsOneThread([path])
            if seed == 0, case .log(_, _, _, let usage) = try read([path], threads: 3, blockBytes: 37) {
                XCTAssertGreaterThan(usage.badRows.total, 20)
                XCTAssertEqual(usage.badRows.examples.count, BadRowReport.exampleLimit)
            }
        }
    }

    func testBadRowsLateInTheFileKeepTheirLineNumbers() throws {
        // Good rows first, so every example comes from a later range or block.
        let good = (0..<400).map { "1763600000,W1,U\($0 % 50),C\($0 % 5),join," }.joined(separator: "\n")
        let text = header + good + "\n\n" + hostileRows(60, seed: 40) + "\n"
        let path = fixture.directory.write("late.csv", text)
        try assertSameAsOneThread([path])
        try assertSameAsOneThread([fixture.directory.write("late.csv.gz", try gzip(Data(text.utf8)))])
        guard case .log(_, _, _, let usage) = try read([path], threads: 3) else { return XCTFail("read failed") }
        let first = try XCTUnwrap(usage.badRows.examples.first)
        XCTAssertTrue(first.hasPrefix("\(path):4"), first)  // line 403 or later
    }

    func testSeveralFilesAndGzipMembersReadTheSame() throws {
        let a = fixture.directory.write("a.csv", header + hostileRows(200, seed: 10) + "\n")
        let b = fixture.directory.write("b.csv.gz", try gzip(Data((header + hostileRows(150, seed: 11)).utf8)) + gzip(Data("\n\n".utf8)))
        let c = fixture.directory.write("c.csv", header + "\n\n" + hostileRows(5, seed: 12))
        try assertSameAsOneThread([a, b, c])
    }

    func testJSONLinesReadTheSame() throws {
        var g = SeededGenerator(seed: 4)
        let lines = (0..<400).map { i -> String in
            switch g.nextIndex(below: 5) {
            case 0: return #"{"timestamp": 1763600000, "workspace_id": "W1", "user_id": "U\#(i % 30)", "channel_id": "C\#(i % 7)", "event": "join"}"#
            case 1: return #"{"timestamp": "bad", "workspace_id": "W1"}"#
            case 2: return ""
            case 3: return #"{"timestamp": 1763600000, "workspace_id": "W2", "user_id": "U1", "channel_id": "C1", "event": "view"}"#
            default: return #"{"timestamp": 1763600000, "workspace_id": "W1", "user_id": "U\u00e9\#(i)", "channel_id": "C1", "event": "react", "emoji": "x"}"#
            }
        }
        let path = fixture.directory.write("events.jsonl", lines.joined(separator: "\n"))
        try assertSameAsOneThread([path])
    }

    func testTooManyBadRowsFailWithTheSameMessage() throws {
        let path = fixture.directory.write("many-bad.csv", header + hostileRows(500, seed: 20) + "\n")
        try assertSameAsOneThread([path], limit: BadRowLimit(maxCount: 25, maxFraction: nil))
        guard case .error(let message) = try read([path], threads: 2, limit: BadRowLimit(maxCount: 25, maxFraction: nil)) else {
            return XCTFail("the limit should fail the read")
        }
        XCTAssertTrue(message.contains("26 bad rows"), message)
        try assertSameAsOneThread([path], limit: BadRowLimit(maxCount: nil, maxFraction: 0.01))
    }

    func testBrokenGzipAndMissingHeadersFailTheSame() throws {
        var broken = try gzip(Data((header + hostileRows(300, seed: 30)).utf8))
        broken.removeLast(40)
        try assertSameAsOneThread([fixture.directory.write("cut.csv.gz", broken)])
        // The first range holds no header: the parallel reader hands the file back.
        let blankFirst = fixture.directory.write("blank-then-header.csv", String(repeating: "\n", count: 50) + header + "1763600000,W1,U1,C1,join,\n")
        try assertSameAsOneThread([blankFirst], parallel: false)
        try assertSameAsOneThread([fixture.directory.write("no-header.csv", "1763600000,W1,U1,C1,join,\n")])
    }
}
