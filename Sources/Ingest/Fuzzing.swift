import Consent
import Foundation
import Platform

/// Entry points for the fuzz targets (`Sources/consentrec-fuzz`): each reads hostile bytes the
/// way a run would and traps when a promise breaks, whatever the bytes are. Not API: an SPI
/// the fuzz targets import with `@_spi(Fuzzing)`.
@_spi(Fuzzing) public enum IngestFuzzing {
    static let asOf: Int64 = 4_102_444_800  // 2100-01-01: nothing is in the future
    static let key = try! PseudonymKey(bytes: Array(repeating: 0x5A, count: 32), source: "fuzz")

    /// One event file in a format: it must not crash, and every line must be accounted for —
    /// header, read (good or bad) or blank.
    public static func rows(_ data: Data, format: EventFormat) {
        let reader = RowReader(path: "fuzz", format: format, source: MemorySource(data), ignoredColumns: ["note"])
        do throws(IngestError) { try reader.readHeader() } catch { return }
        let options = IngestOptions(badRowLimit: BadRowLimit(maxCount: nil, maxFraction: nil), asOf: asOf, retentionDays: 3650)
        var state = ReaderState(options: options, registry: ConsentRegistry(entries: [], asOf: 0, sha256: "", path: "fuzz"))
        do throws(IngestError) { try state.readRows(reader) { _, _ in } } catch { return }  // a JSON key outside the schema
        let header = format == .jsonl ? 0 : 1
        let accounted = header + state.log.usage.rowsRead + reader.blankLines
        precondition(accounted == lines(data), "\(accounted) lines accounted for of \(lines(data))")
        let log = state.finish(pseudonymiser: Pseudonymiser(key: key))
        precondition(log.count + log.usage.badRows.total + log.usage.eventsRemovedByRetention <= log.usage.rowsRead)
    }

    /// Lines as a reader sees them: ended by a line feed, or by the end of the data.
    static func lines(_ data: Data) -> Int {
        let feeds = data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        return feeds + (data.last.map { $0 != 0x0A } ?? false ? 1 : 0)
    }

    /// A Slack day file, channels.json or users.json (chosen by the first byte).
    public static func slack(_ data: Data) {
        guard let first = data.first else { return }
        let body = data.dropFirst()
        switch first % 3 {
        case 0:
            var parsed = 0
            let messages = try? SlackJSON.messages(Data(body), parsed: &parsed)
            if let messages { precondition(messages.count == parsed) }
        case 1: _ = try? SlackJSON.channels(Data(body), path: "fuzz")
        default: _ = try? SlackJSON.users(Data(body), path: "fuzz")
        }
    }

    /// A consent registry: read whole or refused, never half.
    public static func registry(_ data: Data) {
        guard let registry = try? ConsentRegistry.parse(data, path: "fuzz", asOf: asOf) else { return }
        for id in registry.optedInWorkspaces + registry.optedOutWorkspaces { precondition(IDGrammar.problem(id) == nil, "a registry id outside the grammar was accepted") }
    }

    /// A timestamp field: parsed or refused; a parsed time lies in 1970–9999 and formats and
    /// parses back to itself.
    public static func timestamp(_ data: Data) {
        guard let t = Timestamp.parse(String(decoding: data, as: UTF8.self)) else { return }
        precondition(Timestamp.range.contains(t), "\(t) is outside the accepted range")
        precondition(Timestamp.parse(Timestamp.format(t)) == t, "\(t) does not round-trip")
    }
}
