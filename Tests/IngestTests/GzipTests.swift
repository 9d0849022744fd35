import CompressNIO
import Foundation
@testable import Ingest
import NIOCore
import TestSupport
import XCTest

final class GzipTests: XCTestCase {
    let fixture = EventsFixture()

    func gzip(_ text: String) throws -> Data {
        var input = ByteBufferAllocator().buffer(string: text)
        let output = try input.compress(with: .gzip())
        return Data(output.readableBytesView)
    }

    func csv(rows: Int) -> String {
        "timestamp,workspace_id,user_id,channel_id,event,emoji\n"
            + (0..<rows).map { "\(1_763_000_000 + $0),W\($0 % 3),U\($0 % 977),C\($0 % 41),react,e\($0 % 13)" }.joined(separator: "\n") + "\n"
    }

    func testGzip_roundTrip_detectedByMagicBytes_notByName() throws {
        let text = csv(rows: 50_000)
        let plain = try fixture.reader().read([fixture.directory.write("plain.csv", text)], logger: .quiet)
        let zipped = try fixture.reader().read([fixture.directory.write("zipped.csv", try gzip(text))], logger: .quiet)
        XCTAssertEqual(zipped.count, 50_000)
        XCTAssertEqual(zipped.vocabulary, plain.vocabulary)
        XCTAssertEqual(zipped.users, plain.users)
        XCTAssertEqual(zipped.usage.files.map(\.gzip), [true])
        // A plain file named .gz is read as plain.
        XCTAssertEqual(try fixture.reader().read([fixture.directory.write("named.csv.gz", text)], logger: .quiet).count, 50_000)
    }

    func testConcatenatedGzipMembers_areOneStream() throws {
        let text = csv(rows: 1000)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let first = lines[0...500].joined(separator: "\n") + "\n"
        let second = lines[501...].joined(separator: "\n")
        let path = fixture.directory.write("two.csv.gz", try gzip(first) + gzip(second))
        XCTAssertEqual(try fixture.reader().read([path], logger: .quiet).count, 1000)
    }

    func testTruncatedGzip_isAnError_neverAShortRead() throws {
        let full = try gzip(csv(rows: 20_000))
        for cut in [full.count - 4, full.count / 2, 30] {
            let path = fixture.directory.write("cut-\(cut).csv.gz", full.prefix(cut))
            XCTAssertThrowsError(try fixture.reader().read([path], logger: .quiet), "cut at \(cut)") { error in
                XCTAssertEqual(error as? IngestError, .truncatedGzip(file: path))
            }
        }
    }

    func testCorruptGzip_isAnError() throws {
        var data = try gzip(csv(rows: 5000))
        data[data.count / 2] ^= 0xFF
        data[data.count / 2 + 1] ^= 0xFF
        let path = fixture.directory.write("corrupt.csv.gz", data)
        XCTAssertThrowsError(try fixture.reader().read([path], logger: .quiet)) { error in
            let e = error as? IngestError
            XCTAssertTrue(e == .corruptGzip(file: path) || e == .truncatedGzip(file: path), "\(error)")
        }
    }
}
