import Consent
import Foundation
import Ingest
import SyntheticData
import TestSupport
import XCTest

final class SyntheticEventLogTests: XCTestCase {
    func testGenerator_writesAReadableLogRegistryAndKey_reproducibly() throws {
        let a = TemporaryDirectory(), b = TemporaryDirectory()
        var options = SyntheticEventLog.Options()
        options.workspaces = 20
        options.events = 10_000
        options.optedOutShare = 0.3
        let written = try SyntheticEventLog(options: options).write(to: a.path)
        try SyntheticEventLog(options: options).write(to: b.path)
        for name in ["events.csv", "consent.csv", "pseudonym.key"] {
            XCTAssertEqual(FileManager.default.contents(atPath: a.file(name)), FileManager.default.contents(atPath: b.file(name)), name)
        }
        XCTAssertGreaterThan(written, 8_000)
        let registry = try ConsentRegistry.load(path: a.file("consent.csv"), asOf: options.end)
        let reader = EventLogReader(
            options: IngestOptions(policy: .optOut, asOf: options.end), registry: registry,
            pseudonymiser: Pseudonymiser(key: try PseudonymKey.load(file: a.file("pseudonym.key"))))
        let log = try reader.read([a.file("events.csv")], logger: .quiet)
        XCTAssertEqual(log.usage.rowsRead, written)
        XCTAssertEqual(log.usage.badRows.total, 0)
        XCTAssertGreaterThan(log.usage.eventsRemovedByConsent[.optedOut, default: 0], 0)
        XCTAssertEqual(Set(log.kinds), Set(EventKind.allCases))
        // Custom emoji exist, and each lives in one workspace only.
        XCTAssertTrue(log.vocabulary.emoji.contains { $0.contains("-custom-") })
    }
}
