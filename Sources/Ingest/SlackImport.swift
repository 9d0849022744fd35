import CompressNIO
import Foundation
import NIOCore

/// Converts a Slack export into an event log file in the schema (CSV, gzip when the name ends
/// in `.gz`), written beside the target and renamed, so a reader never sees half a file.
public enum SlackImport {
    public struct Summary: Sendable {
        public var events: [EventKind: Int] = [:]
        public var skipped = SlackExport.Skipped()
        public var badRows = BadRowReport()
        /// Day files left out whole (their lost messages are among the bad rows).
        public var badFiles: [DataUsage.BadFile] = []
        public var messagesRead: Int { events.values.reduce(0, +) + badRows.total }
    }

    /// - Throws: `IngestError` for an unreadable export or more bad rows than `limit` allows
    ///   (nothing is written then).
    public static func run(export: String, options: SlackExport.Options, out: String, limit: BadRowLimit) throws -> Summary {
        var summary = Summary()
        var text = "timestamp,workspace_id,user_id,channel_id,event,emoji\n"
        func csv(_ field: String) -> String {
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }
        func bad(_ kind: BadRowKind, _ file: String, _ line: Int, _ field: String, _ reason: String, rows: Int = 1) throws(IngestError) {
            summary.badRows.record(kind, file: file, line: line, field: field, reason: reason, rows: rows)
            if let max = limit.maxCount, summary.badRows.total > max {
                throw .tooManyBadRows(summary: summary.badRows.summary, examples: summary.badRows.examples)
            }
        }
        let outcome = try SlackExport(path: export, options: options).read(
            event: { (e: SlackExport.Event) throws(IngestError) in
                summary.events[e.kind, default: 0] += 1
                text += "\(e.timestamp),\(csv(e.workspace)),\(csv(e.user)),\(csv(e.channel)),\(e.kind.name),\(csv(e.emoji ?? ""))\n"
            },
            bad: { (kind, file, line, field, reason) throws(IngestError) in try bad(kind, export + ":" + file, line, field, reason) },
            badFile: { (file: DataUsage.BadFile) throws(IngestError) in
                try bad(file.kind, file.path, 0, "file", file.reason, rows: max(file.messagesLost ?? 1, 1))
            })
        summary.skipped = outcome.skipped
        summary.badFiles = outcome.badFiles
        let rows = summary.messagesRead
        if limit.isExceeded(bad: summary.badRows.total, read: rows) {
            throw IngestError.tooManyBadRows(summary: summary.badRows.summary + " of \(rows) rows", examples: summary.badRows.examples)
        }
        var data = Data(text.utf8)
        if out.hasSuffix(".gz") {
            var buffer = ByteBufferAllocator().buffer(bytes: data)
            let compressed = try buffer.compress(with: .gzip())
            data = Data(compressed.readableBytesView)
        }
        try data.write(to: URL(fileURLWithPath: out), options: .atomic)
        return summary
    }
}
