@testable import Consent
import Crypto
import Foundation
@testable import Ingest
import TestSupport
import XCTest

/// One id grammar for events and the registry: a padded, quoted or invisible-character variant
/// of a registered id is refused or counted as bad, never used.
final class IDGrammarTests: XCTestCase {
    let fixture = EventsFixture()
    let header = "timestamp,workspace_id,user_id,channel_id,event,emoji\n"
    let optOutT01 = "workspace_id,status,effective_at\nT01,opted_out,2026-01-01T00:00:00Z\n"

    /// Variants of `T01` a hostile or careless export could hold, each a different byte string.
    static let variants = [
        "T01 ", " T01", "T01\t", "T01\u{0}", "T01\u{200B}", "\u{FEFF}T01", "T\u{200D}01", "T01\u{00A0}", "T01\u{00AD}",
        "T01\u{2060}", "T01\u{3164}", "T01\u{202E}", "T01\u{FE0F}", "T01\u{7F}", "T01\u{85}", "T01\"",
    ]

    func testGrammar_acceptsPlainIDs_andRefusesEveryVariant() {
        for id in ["T01", "U0ALICE", "C-general_2", "a b", "café", "日本語", "o'brien@example.com"] {
            XCTAssertNil(IDGrammar.problem(id), id)
        }
        for id in Self.variants { XCTAssertNotNil(IDGrammar.problem(id), id.unicodeScalars.map { String($0.value, radix: 16) }.joined(separator: " ")) }
        XCTAssertEqual(IDGrammar.problem(""), .empty)
        XCTAssertEqual(IDGrammar.problem("cafe\u{301}"), .notNFC)  // é as e + combining acute
        XCTAssertEqual(IDGrammar.problem("T01 "), .surroundingWhitespace)
        XCTAssertEqual(IDGrammar.problem("T\u{200B}01"), .invisibleCharacter)
        XCTAssertEqual(IDGrammar.problem("T\u{1}01"), .controlCharacter)
        XCTAssertEqual(IDGrammar.problem("T\"01"), .quote)
    }

    func testWorkspaceVariants_inEvents_areBadRows_andNeverBypassTheOptOut() throws {
        var rows = header + "2026-11-01T00:00:00Z,T01,U1,C1,join,\n"
        for v in Self.variants {
            let field = "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            rows += "2026-11-01T00:00:00Z,\(field),U1,C1,join,\n"
        }
        let log = try fixture.read("variants.csv", rows, registry: optOutT01)
        XCTAssertEqual(log.count, 0, "no variant of an opted-out id may be used")
        XCTAssertEqual(log.usage.eventsRemovedByConsent, [.optedOut: 1])
        XCTAssertEqual(log.usage.badRows.counts, [.invalidID: Self.variants.count])
        XCTAssertEqual(log.usage.rowsRead, Self.variants.count + 1)
        XCTAssertTrue(log.usage.badRows.examples.allSatisfy { $0.contains(": workspace_id: ") }, "\(log.usage.badRows.examples)")
        XCTAssertFalse(log.usage.badRows.examples.joined().contains("T01"), "bad-row examples never quote the id")
    }

    func testUserAndChannelVariants_areBadRows_inJSONLinesToo() throws {
        let jsonl = """
            {"timestamp":"2026-11-01T00:00:00Z","workspace_id":"T02","user_id":"U1 ","channel_id":"C1","event":"join"}
            {"timestamp":"2026-11-01T00:00:00Z","workspace_id":"T02","user_id":"U1","channel_id":"C\\u200b1","event":"join"}
            {"timestamp":"2026-11-01T00:00:00Z","workspace_id":"T02\\u0000","user_id":"U1","channel_id":"C1","event":"join"}
            {"timestamp":"2026-11-01T00:00:00Z","workspace_id":"T02","user_id":"U1","channel_id":"C1","event":"join"}
            """
        let log = try fixture.read("ids.jsonl", jsonl + "\n")
        XCTAssertEqual(log.count, 1)
        XCTAssertEqual(log.usage.badRows.counts, [.invalidID: 3])
        XCTAssertEqual(log.usage.badRows.examples.map { $0.split(separator: ":").dropFirst().joined(separator: ":") },
                       ["1: user_id: leading or trailing white space", "2: channel_id: an invisible (zero-width, format or byte-order-mark) character",
                        "3: workspace_id: a control character"])
    }

    func testRegistry_readsQuotedFields_CRLF_andBOM_likeEvents() throws {
        let registry = try fixture.registry("\u{FEFF}workspace_id,status,effective_at\r\n\"T01\",\"opted_out\",\"2026-01-01T00:00:00Z\"\r\n\"T,02\",opted_out,1767225600\r\n")
        XCTAssertEqual(registry.exclusion(of: "T01", policy: .optOut), .optedOut, "a quoted id is the id, not the id with quotes")
        XCTAssertEqual(registry.exclusion(of: "T,02", policy: .optOut), .optedOut)
        XCTAssertEqual(registry.workspaceCount, 2)
        // The same CRLF registry excludes the workspace's events end to end.
        let log = try fixture.read("crlf.csv", header + "2026-11-01T00:00:00Z,T01,U1,C1,join,\n",
                                   registry: "workspace_id,status,effective_at\r\n\"T01\",opted_out,2026-01-01T00:00:00Z\r\n")
        XCTAssertEqual(log.count, 0)
    }

    func testRegistry_withAnyOddID_isRefusedWhole() throws {
        for (n, v) in Self.variants.enumerated() {
            let field = "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            let path = fixture.directory.write("odd\(n).csv", "workspace_id,status,effective_at\nT09,opted_in,1\n\(field),opted_out,1\n")
            XCTAssertThrowsError(try ConsentRegistry.load(path: path, asOf: EventsFixture.asOf), "variant \(n)") { error in
                guard case .registryMalformed(let file, 3, "workspace_id", _) = error as? ConsentError else { return XCTFail("\(n): \(error)") }
                XCTAssertEqual(file, path)
            }
        }
        // Padding around the other fields is refused too, never trimmed into meaning.
        for row in ["T01, opted_out,1", "T01,opted_out ,1", "T01,opted_out, 1", "T01,opted_out"] {
            let path = fixture.directory.write("pad.csv", "workspace_id,status,effective_at\n\(row)\n")
            XCTAssertThrowsError(try ConsentRegistry.load(path: path, asOf: EventsFixture.asOf), row)
        }
        // An unclosed quote is a bad row, and a bad row refuses the registry.
        let unclosed = fixture.directory.write("q.csv", "workspace_id,status,effective_at\n\"T01,opted_out,1\nT02,opted_out,1\n")
        XCTAssertThrowsError(try ConsentRegistry.load(path: unclosed, asOf: EventsFixture.asOf))
        // A column outside the registry's schema is refused.
        let extra = fixture.directory.write("x.csv", "workspace_id,status,effective_at,note\nT01,opted_out,1,hi\n")
        XCTAssertThrowsError(try ConsentRegistry.load(path: extra, asOf: EventsFixture.asOf)) { error in
            guard case .registryMalformed(_, 1, "header", _) = error as? ConsentError else { return XCTFail("\(error)") }
        }
    }

    func testIDs_areCaseSensitive() throws {
        let log = try fixture.read("case.csv", header + "2026-11-01T00:00:00Z,T01,U1,C1,join,\n",
                                   registry: "workspace_id,status,effective_at\nt01,opted_out,1\n")
        XCTAssertEqual(log.count, 1, "t01 and T01 are different workspaces, as documented")
    }

    func testPseudonyms_areLengthPrefixed_soNULsInIDsCannotCollide() throws {
        let p = Pseudonymiser(key: EventsFixture.key)
        // Under NUL-joined messages these two pairs gave the same bytes: user\0a\0b\0c.
        XCTAssertNotEqual(p.user("b\u{0}c", workspace: "a"), p.user("c", workspace: "a\u{0}b"))
        XCTAssertNotEqual(p.channel("x", workspace: "w"), p.user("x", workspace: "w"))
        // An independent computation of the documented message layout.
        func field(_ s: String) -> [UInt8] {
            let b = Array(s.utf8), n = UInt32(b.count)
            return [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)] + b
        }
        let key = SymmetricKey(data: Array("0123456789abcdef0123456789abcdef".utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: field("user") + field("T01") + field("U7"), using: key)
        XCTAssertEqual(p.user("U7", workspace: "T01"), mac.prefix(16).map { String(format: "%02x", $0) }.joined())
        let wmac = HMAC<SHA256>.authenticationCode(for: field("workspace") + field("") + field("T01"), using: key)
        XCTAssertEqual(p.workspace("T01"), wmac.prefix(16).map { String(format: "%02x", $0) }.joined())
        XCTAssertEqual(Pseudonymiser.scheme, 2)
    }
}
