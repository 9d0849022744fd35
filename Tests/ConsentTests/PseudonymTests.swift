@testable import Consent
import Foundation
import TestSupport
import XCTest

final class PseudonymTests: XCTestCase {
    let p = Pseudonymiser(key: EventsFixture.key)

    func testKnownAnswer_fromAnIndependentHMAC() {
        // python3 -c "import hmac,hashlib,struct; f=lambda b: struct.pack('>I',len(b))+b;
        //   print(hmac.new(b'0123456789abcdef0123456789abcdef', f(b'user')+f(b'T1')+f(b'U1'), hashlib.sha256).hexdigest()[:32])"
        XCTAssertEqual(p.user("U1", workspace: "T1"), "635eeecbe6d14da9cfa95e7b9d9547d9")
    }

    func testDomainsAndWorkspaces_neverShareAPseudonym() {
        let ids = [p.workspace("X1"), p.user("X1", workspace: "T1"), p.channel("X1", workspace: "T1"),
                   p.user("X1", workspace: "T2"), p.channel("X1", workspace: "T2")]
        XCTAssertEqual(Set(ids).count, ids.count)
        XCTAssertEqual(p.user("X1", workspace: "T1"), p.user("X1", workspace: "T1"))
        XCTAssertTrue(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
        let other = Pseudonymiser(key: try! PseudonymKey(bytes: Array("another key, also 32 bytes long!".utf8), source: "t"))
        XCTAssertNotEqual(other.user("X1", workspace: "T1"), p.user("X1", workspace: "T1"))
    }

    func testKey_isRequired_fromFileOrEnvironment_andLongEnough() throws {
        let dir = TemporaryDirectory()
        XCTAssertThrowsError(try PseudonymKey.load(file: nil, environment: [:])) { error in
            guard case .missing = error as? KeyError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains(PseudonymKey.environmentVariable))
        }
        XCTAssertThrowsError(try PseudonymKey.load(file: dir.file("absent.key"))) { error in
            guard case .missing = error as? KeyError else { return XCTFail("\(error)") }
        }
        let short = dir.write("short.key", "too short\n")
        XCTAssertThrowsError(try PseudonymKey.load(file: short)) { XCTAssertEqual($0 as? KeyError, .tooShort(source: short, bytes: 9)) }
        let good = dir.write("good.key", "0123456789abcdef0123456789abcdef\n")
        let fromFile = Pseudonymiser(key: try PseudonymKey.load(file: good))
        let fromEnvironment = Pseudonymiser(key: try PseudonymKey.load(file: nil, environment: [PseudonymKey.environmentVariable: "0123456789abcdef0123456789abcdef"]))
        XCTAssertEqual(fromFile.user("U1", workspace: "T1"), p.user("U1", workspace: "T1"))
        XCTAssertEqual(fromEnvironment.user("U1", workspace: "T1"), p.user("U1", workspace: "T1"))
    }
}
