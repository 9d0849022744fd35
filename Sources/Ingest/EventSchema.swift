import Foundation

/// The columns of an interaction log. There is no column for message content, and the reader
/// refuses any column not listed here unless the operator names it in an ignore list.
public enum EventColumn: String, Sendable, CaseIterable, Codable {
    case timestamp
    case workspaceID = "workspace_id"
    case userID = "user_id"
    case channelID = "channel_id"
    case event
    case emoji

    /// Columns every file must have; `emoji` may be absent from a log without reactions.
    public static let required: [EventColumn] = [.timestamp, .workspaceID, .userID, .channelID, .event]
}

/// The input formats of an interaction log. Gzip compression is detected from the bytes.
public enum EventFormat: String, Sendable, CaseIterable, Codable {
    case csv, tsv, jsonl
    /// A Slack workspace export: the ZIP an admin downloads, or its unpacked folder.
    case slackExport = "slack-export"

    /// The format a file name suggests (`.csv`, `.tsv`, `.jsonl`/`.ndjson`, each optionally
    /// followed by `.gz`), or nil.
    public static func guess(path: String) -> EventFormat? {
        var name = path.lowercased()
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
            FileManager.default.fileExists(atPath: path + "/channels.json")
        {
            return .slackExport
        }
        if name.hasSuffix(".zip") { return .slackExport }
        if name.hasSuffix(".gz") { name.removeLast(3) }
        if name.hasSuffix(".csv") { return .csv }
        if name.hasSuffix(".tsv") || name.hasSuffix(".tab") { return .tsv }
        if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") || name.hasSuffix(".json") { return .jsonl }
        return nil
    }
}
