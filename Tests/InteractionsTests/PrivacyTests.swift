@testable import Consent
import Foundation
@testable import Ingest
@testable import Interactions
import SyntheticData
import TestSupport
import XCTest

/// No raw id ever leaves the process: search everything the data stage produces.
final class PrivacyTests: XCTestCase {
    func testNoRawID_appearsInAnyProducedBytes_orLogLine() throws {
        let dir = TemporaryDirectory()
        var options = SyntheticEventLog.Options()
        options.workspaces = 12
        options.events = 20_000
        try SyntheticEventLog(options: options).write(to: dir.path)
        let rawIDs = try RawIDs.inGeneratedCSV(dir.file("events.csv"))
        XCTAssertGreaterThan(rawIDs.count, 500)

        let capture = LogCapture()
        let registry = try ConsentRegistry.load(path: dir.file("consent.csv"), asOf: options.end)
        let key = try PseudonymKey.load(file: dir.file("pseudonym.key"))
        let reader = EventLogReader(options: IngestOptions(policy: .optOut, asOf: options.end), registry: registry, pseudonymiser: Pseudonymiser(key: key))
        let log = try reader.read([dir.file("events.csv")], logger: capture.logger())
        var produced: [String] = log.vocabulary.workspaces + log.vocabulary.users + log.vocabulary.channels + log.vocabulary.emoji
        var usage = RunUsage(read: log.usage)
        for definition in [RecommenderDefinition.channelDefault, .emojiDefault] {
            let (matrices, matrixUsage) = InteractionMatrixBuilder(definition: definition).build(log)
            for m in matrices { produced += m.userIDs + m.itemIDs + [m.workspace ?? ""] }
            usage.matrices += matrixUsage
        }
        produced.append(String(decoding: try JSONEncoder().encode(usage), as: UTF8.self))
        for record in capture.records { produced.append(record.message + record.metadata.description) }
        let haystack = produced.joined(separator: "\n")
        for id in rawIDs { XCTAssertFalse(haystack.contains(id), "raw id \(id) leaked") }
    }
}
