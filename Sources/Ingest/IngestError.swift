/// Errors that stop reading an interaction log: the run is refused, never silently short.
public enum IngestError: Error, Equatable, CustomStringConvertible {
    case unreadableFile(path: String, reason: String)
    case noInputFiles(pattern: String)
    case unknownFormat(path: String)
    case missingHeader(file: String)
    case malformedHeader(file: String, field: String, reason: String)
    /// A column outside the schema: it could carry message content, so the file is refused.
    case unknownColumn(file: String, line: Int, column: String, schema: String = "event schema")
    case missingColumn(file: String, column: String)
    case duplicateColumn(file: String, column: String)
    case truncatedGzip(file: String)
    case corruptGzip(file: String)
    case tooManyBadRows(summary: String, examples: [String])

    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            "\(path): cannot read the file: \(reason)"
        case .noInputFiles(let pattern):
            "\(pattern): no input file matches"
        case .unknownFormat(let path):
            "\(path): cannot tell the format from the name; name it .csv, .tsv or .jsonl (optionally .gz) or give the format"
        case .missingHeader(let file):
            "\(file):1: the file has no header line; the first line must name the columns"
        case .malformedHeader(let file, let field, let reason):
            "\(file):1: \(field): the header line is malformed: \(reason)"
        case .unknownColumn(let file, let line, let column, let schema):
            "\(file):\(line): column \(Self.shown(column)) is not in the \(schema) and is refused (it could carry "
                + "message content); list it in ignore_columns to skip it unread"
        case .missingColumn(let file, let column):
            "\(file):1: the required column '\(column)' is missing"
        case .duplicateColumn(let file, let column):
            "\(file):1: the column \(Self.shown(column)) appears twice"
        case .truncatedGzip(let file):
            "\(file): the gzip stream ends early (truncated file?); nothing from a partial file is used"
        case .corruptGzip(let file):
            "\(file): the gzip data is corrupt"
        case .tooManyBadRows(let summary, let examples):
            "too many bad rows: \(summary); first examples:\n" + examples.map { "  " + $0 }.joined(separator: "\n")
        }
    }
}

extension IngestError {
    /// A column name as an error may show it: a name written in lowercase snake_case, at most
    /// 32 bytes (`text`, `message_body`), in quotes; anything else (`Text` too: header names
    /// are compared lowercased but shown only as written) — a JSON key can be a customer id, a sentence or a terminal
    /// escape sequence — only by its length.
    static func shown(_ column: String) -> String {
        let bytes = Array(column.utf8)
        let plain = (1...32).contains(bytes.count) && !(0x30...0x39).contains(bytes[0])
            && bytes.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
        return plain ? "'\(column)'" : "(a name of \(bytes.count) bytes, not shown: only lowercase snake_case names are)"
    }
}
