import Consent
import Foundation
import Ingest
import Platform

/// Builds readers over small hand-written logs.
public struct EventsFixture {
    public let directory = TemporaryDirectory()

    public init() {}

    public static let asOf = Timestamp.parse("2026-11-20T00:00:00Z")!
    public static let key = try! PseudonymKey(bytes: Array("0123456789abcdef0123456789abcdef".utf8), source: "test")

    public func registry(_ text: String = "workspace_id,status,effective_at\n") throws -> ConsentRegistry {
        let path = directory.write("consent-\(UUID().uuidString).csv", text)
        return try ConsentRegistry.load(path: path, asOf: Self.asOf)
    }

    public func reader(
        registry text: String = "workspace_id,status,effective_at\n", policy: ConsentPolicy = .optOut,
        retentionDays: Int? = nil, ignored: Set<String> = [], limit: BadRowLimit = BadRowLimit(maxCount: nil, maxFraction: nil),
        format: EventFormat? = nil
    ) throws -> EventLogReader {
        let options = IngestOptions(
            format: format, ignoredColumns: ignored, badRowLimit: limit, policy: policy, asOf: Self.asOf,
            retentionDays: retentionDays)
        return EventLogReader(options: options, registry: try registry(text), pseudonymiser: Pseudonymiser(key: Self.key))
    }

    public func read(_ name: String, _ contents: String, registry: String = "workspace_id,status,effective_at\n",
              policy: ConsentPolicy = .optOut, ignored: Set<String> = [], retentionDays: Int? = nil) throws -> EventLog {
        let path = directory.write(name, contents)
        return try reader(registry: registry, policy: policy, retentionDays: retentionDays, ignored: ignored).read([path], logger: .quiet)
    }
}
