import Foundation
import Ingest
import XCTest

/// Event kinds are written by name, in arrays and as dictionary keys, and read back only from a name.
final class EventKindCodingTests: XCTestCase {
    func testKinds_areSpelledByName_andOnlyANameReadsBack() throws {
        let encoded = try JSONEncoder().encode([EventKind.react, .join])
        XCTAssertEqual(String(decoding: encoded, as: UTF8.self), #"["react","join"]"#)
        XCTAssertEqual(try JSONDecoder().decode([EventKind].self, from: encoded), [.react, .join])
        XCTAssertEqual(String(decoding: try JSONEncoder().encode([EventKind.post: 1]), as: UTF8.self), #"{"post":1}"#)
        for bad in [#"[3]"#, #"["Reacts"]"#, #"[""]"#] {
            XCTAssertThrowsError(try JSONDecoder().decode([EventKind].self, from: Data(bad.utf8)), bad)
        }
    }
}
