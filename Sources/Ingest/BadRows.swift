/// The kinds of row that are counted and skipped rather than read.
public enum BadRowKind: String, Sendable, CaseIterable, Codable {
    case fieldCount = "wrong_field_count"
    case malformed = "malformed_row"
    case timestamp = "bad_timestamp"
    case unknownEvent = "unknown_event"
    case emptyID = "empty_id"
    case reactWithoutEmoji = "react_without_emoji"
    case invalidUTF8 = "invalid_utf8"
    case overlongField = "overlong_field"
    /// An id outside the id grammar (`IDGrammar`): padded, with control or invisible
    /// characters, a quote, or not NFC. Never used, so a variant cannot slip past consent.
    case invalidID = "invalid_id"
    /// Slack exports: a channel folder that channels.json does not list.
    case unknownChannel = "unknown_channel"
    /// Slack exports: a day file left out whole (malformed, over the size cap, duplicated):
    /// counted once per message it lost, at least once.
    case badFile = "bad_file"
}

/// How many bad rows a run tolerates before it fails.
public struct BadRowLimit: Sendable, Hashable, Codable {
    /// Fail when more rows than this are bad; nil for no absolute limit.
    public var maxCount: Int?
    /// Fail when more than this fraction of the rows read are bad; nil for none.
    public var maxFraction: Double?

    /// Default: at most 1% of rows bad, no absolute cap.
    public init(maxCount: Int? = nil, maxFraction: Double? = 0.01) {
        self.maxCount = maxCount
        self.maxFraction = maxFraction
    }

    func isExceeded(bad: Int, read: Int) -> Bool {
        if let maxCount, bad > maxCount { return true }
        if let maxFraction, read > 0, Double(bad) / Double(read) > maxFraction { return true }
        return false
    }
}

/// Bad rows seen while reading: a count per kind and the first few examples.
///
/// Examples name file, line and field and say what was wrong, but never quote a raw id or
/// any field's content: a bad row's value could be anything, including a customer id.
public struct BadRowReport: Sendable, Equatable, Codable {
    /// How many examples are kept in all.
    public static let exampleLimit = 10

    public private(set) var counts: [BadRowKind: Int] = [:]
    public private(set) var examples: [String] = []
    /// The examples' parts, so that a report of a later stretch of a file, numbered from its
    /// own first line, can be renumbered when it is merged (`absorb`). Not encoded.
    private var records: [Example] = []

    struct Example: Sendable, Equatable {
        let file: String
        let line: Int
        let field: String
        let reason: String

        var text: String { "\(file):\(line): \(field): \(reason)" }
    }

    private enum CodingKeys: String, CodingKey { case counts, examples }

    public init() {}

    public var total: Int { counts.values.reduce(0, +) }

    mutating func record(_ kind: BadRowKind, file: String, line: Int, field: String, reason: String, rows: Int = 1) {
        counts[kind, default: 0] += rows
        if examples.count < Self.exampleLimit {
            let example = Example(file: file, line: line, field: field, reason: reason)
            records.append(example)
            examples.append(example.text)
        }
    }

    /// Adds the counts and, up to the limit, the examples of a report of later rows, whose
    /// line numbers are `lineOffset` short of the file's.
    mutating func absorb(_ later: BadRowReport, lineOffset: Int) {
        for (kind, n) in later.counts { counts[kind, default: 0] += n }
        for e in later.records.prefix(Self.exampleLimit - examples.count) {
            let example = Example(file: e.file, line: e.line + lineOffset, field: e.field, reason: e.reason)
            records.append(example)
            examples.append(example.text)
        }
    }

    /// The examples as (file, line, field, reason), for a message between ranks.
    var exampleParts: [(file: String, line: Int, field: String, reason: String)] { records.map { ($0.file, $0.line, $0.field, $0.reason) } }

    /// A report of `counts` with these examples (what `exampleParts` gave).
    init(counts: [BadRowKind: Int], exampleParts: [(file: String, line: Int, field: String, reason: String)]) {
        self.counts = counts
        records = exampleParts.map { Example(file: $0.file, line: $0.line, field: $0.field, reason: $0.reason) }
        examples = records.map(\.text)
    }

    /// A one-line summary, e.g. `3 bad rows (2 bad_timestamp, 1 unknown_event)`.
    public var summary: String {
        let parts = BadRowKind.allCases.compactMap { kind in counts[kind].map { "\($0) \(kind.rawValue)" } }
        return "\(total) bad row\(total == 1 ? "" : "s")" + (parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")")
    }
}
