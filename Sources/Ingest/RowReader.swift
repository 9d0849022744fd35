import Foundation

/// One row's values by schema column, pointing into the reader's buffers: valid until the next
/// call to `RowReader.next`. Columns the file lacks, ignored columns and JSON nulls are nil.
struct RowValues {
    var slots: [UnsafeBufferPointer<UInt8>?]

    init(columns: Int = EventColumn.allCases.count) { slots = Array(repeating: nil, count: columns) }

    subscript(column: EventColumn) -> UnsafeBufferPointer<UInt8>? { slots[column.slot] }

    mutating func clear() { for i in slots.indices { slots[i] = nil } }
}

/// The columns a `RowReader` maps to slots: the event schema, or the consent registry's. Both
/// are read by the same RFC 4180 reader, so quoting, CRLF and a byte-order mark mean the same.
struct RowSchema: Sendable {
    /// Column names, by slot.
    let columns: [String]
    /// Slots every file must have.
    let required: [Int]
    /// What the file holds, for the refusal of an unknown column.
    let unknownColumnNote: String

    func slot(named name: String) -> Int? { columns.firstIndex(of: name) }

    static let events = RowSchema(
        columns: EventColumn.allCases.sorted { $0.slot < $1.slot }.map(\.rawValue),
        required: EventColumn.required.map(\.slot),
        unknownColumnNote: "event schema")
}

extension EventColumn {
    /// Position in `RowValues`.
    var slot: Int {
        switch self {
        case .timestamp: 0
        case .workspaceID: 1
        case .userID: 2
        case .channelID: 3
        case .event: 4
        case .emoji: 5
        }
    }
}

/// What `RowReader.next` found.
enum RowResult {
    /// A row; its values are in the `RowValues` passed in.
    case row(line: Int)
    /// A row that cannot be read; already consumed, the reader continues after it.
    case bad(line: Int, kind: BadRowKind, field: String, reason: String)
    case end
}

/// Reads rows of one file — CSV (RFC 4180), TSV or JSON Lines — straight from bytes.
///
/// The reader keeps a window of the file in one buffer and parses fields in place; only a
/// CSV field with doubled quotes or a JSON string with escapes is copied (unescaped) into a
/// scratch area. Ignored columns are stepped over and never copied anywhere.
final class RowReader {
    let path: String
    let format: EventFormat
    private var source: any ByteSource
    let ignored: Set<String>
    let schema: RowSchema

    var buffer: UnsafeMutableRawBufferPointer
    var start = 0
    var end = 0
    var eof = false
    /// Line number of the next row's first line.
    var line = 1
    var scratch: UnsafeMutablePointer<UInt8>
    private var scratchCapacity: Int
    var scratchUsed = 0
    /// Empty lines stepped over: with the header and the rows, every line of the file.
    private(set) var blankLines = 0

    /// For CSV/TSV: header position → slot, or -1 for an ignored column.
    private var columnSlots: [Int] = []
    /// Slots of the columns present in the file (from the header; for JSONL, every schema
    /// column may be).
    private(set) var presentSlots: Set<Int> = []

    /// Rows larger than this stop the file: no sane event row comes near it.
    static let maxRowBytes = 64 << 20

    init(path: String, format: EventFormat, source: any ByteSource, ignoredColumns: Set<String>, schema: RowSchema = .events) {
        self.path = path
        self.schema = schema
        self.format = format
        self.source = source
        self.ignored = Set(ignoredColumns.map { $0.lowercased() })
        buffer = .allocate(byteCount: 1 << 22, alignment: 16)
        scratchCapacity = 1 << 16
        scratch = .allocate(capacity: scratchCapacity)
    }

    /// A reader of a later block of the same file: the header's column mapping, rows from the
    /// block's first byte (a line start), numbered from `firstLine`.
    convenience init(continuing header: RowReader, source: any ByteSource, firstLine: Int) {
        self.init(path: header.path, format: header.format, source: source, ignoredColumns: [], schema: header.schema)
        columnSlots = header.columnSlots
        presentSlots = header.presentSlots
        line = firstLine
    }

    deinit {
        buffer.deallocate()
        scratch.deallocate()
    }

    // MARK: Buffer

    /// Moves the unread bytes to the front, grows the buffer if it is full, and reads more.
    /// Returns false at the end of the file.
    private func refill() throws(IngestError) -> Bool {
        if eof { return false }
        if start > 0 {
            let pending = end - start
            if pending > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: pending) }
            start = 0
            end = pending
        }
        if end == buffer.count {
            guard buffer.count < Self.maxRowBytes else {
                throw .unreadableFile(path: path, reason: "line \(line): a row longer than \(Self.maxRowBytes >> 20) MiB")
            }
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
            bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end)
            buffer.deallocate()
            buffer = bigger
        }
        let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
        if n == 0 { eof = true; return false }
        end += n
        return true
    }

    /// SHA-256 of the file's bytes as stored, once it has been read to the end.
    var storedBytesDigest: String { source.storedBytesDigest() }
    /// SHA-256 of the decompressed content, once read to the end.
    var contentDigest: String { source.contentDigest() }

    private func ensureScratch(_ bytes: Int) {
        guard bytes > scratchCapacity else { return }
        scratch.deallocate()
        scratchCapacity = max(bytes, scratchCapacity * 2)
        scratch = .allocate(capacity: scratchCapacity)
    }

    // MARK: Header

    /// Reads the header (CSV/TSV) and maps its columns.
    /// - Throws: `IngestError` for a missing header, an unknown, missing or repeated column.
    func readHeader() throws(IngestError) {
        try skipByteOrderMark()
        if format == .jsonl {
            presentSlots = Set(schema.columns.indices)
            return
        }
        var names: [String] = []
        var values = RowValues(columns: schema.columns.count)
        while true {
            ensureScratch(buffer.count)
            scratchUsed = 0
            names.removeAll()
            switch try parseDelimited(&values, collect: true, names: &names) {
            case .incomplete:
                if try !refill() {
                    if end == start { throw .missingHeader(file: path) }
                    eof = true
                }
                continue
            case .empty:
                if eof && start == end { throw .missingHeader(file: path) }
                blankLines += 1
                continue
            case .record:
                break
            case .malformed(_, let field, let reason):
                throw .malformedHeader(file: path, field: field, reason: reason)
            }
            break
        }
        if let first = names.first, first.hasPrefix("\u{FEFF}") { names[0] = String(first.dropFirst()) }
        // Compared lowercased; an error shows the name as written, so that an id in a header
        // (`U024BE7LH`) is not lowercased into a name that looks plain enough to show.
        let written = names.map { $0.trimmingCharacters(in: .whitespaces) }
        let normalized = written.map { $0.lowercased() }
        // A first line naming no schema column is data, not a header.
        guard normalized.contains(where: { schema.slot(named: $0) != nil }) else { throw .missingHeader(file: path) }
        var seen = Set<String>()
        for (name, spelling) in zip(normalized, written) {
            guard seen.insert(name).inserted else { throw .duplicateColumn(file: path, column: spelling) }
            if let slot = schema.slot(named: name) {
                columnSlots.append(slot)
                presentSlots.insert(slot)
            } else if ignored.contains(name) {
                columnSlots.append(-1)
            } else {
                throw .unknownColumn(file: path, line: 1, column: spelling, schema: schema.unknownColumnNote)
            }
        }
        for slot in schema.required where !presentSlots.contains(slot) {
            throw .missingColumn(file: path, column: schema.columns[slot])
        }
    }

    /// Steps over a UTF-8 byte-order mark at the start of the file (Excel's "CSV UTF-8"
    /// writes one), before anything is parsed: a quoted first column name reads as quoted.
    private func skipByteOrderMark() throws(IngestError) {
        while end - start < 3, try refill() {}
        let b = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        if end - start >= 3, b[start] == 0xEF, b[start + 1] == 0xBB, b[start + 2] == 0xBF { start += 3 }
    }

    // MARK: Rows

    /// The next row, bad row, or the end of the file.
    func next(_ values: inout RowValues) throws(IngestError) -> RowResult {
        while true {
            if eof && start == end { return .end }
            values.clear()
            ensureScratch(buffer.count)
            scratchUsed = 0
            let outcome: ParseOutcome
            if format == .jsonl {
                outcome = try parseJSONLine(&values)
            } else {
                var unused: [String] = []
                outcome = try parseDelimited(&values, collect: false, names: &unused)
            }
            switch outcome {
            case .incomplete:
                if end - start >= Self.maxRowBytes { return try skipOverlongLine() }
                if try !refill() {
                    if start == end { return .end }
                    eof = true  // parse the unterminated last row on the next pass
                }
            case .empty:
                blankLines += 1
                continue
            case .record(let row, let fields):
                if format != .jsonl && fields != columnSlots.count {
                    return .bad(line: row, kind: .fieldCount, field: "row",
                                reason: "\(fields) fields where the header has \(columnSlots.count)")
                }
                return .row(line: row)
            case .malformed(let row, let field, let reason):
                return .bad(line: row, kind: .malformed, field: field, reason: reason)
            }
        }
    }

    /// Steps over a line that fills the whole buffer without ending: a bad row, never a
    /// reason to stop reading the file or to hold more than `maxRowBytes` of it.
    private func skipOverlongLine() throws(IngestError) -> RowResult {
        let badLine = line
        while true {
            let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
            if let lf = memchr(base + start, 0x0A, end - start) {
                start = UnsafeMutableRawPointer(lf) - buffer.baseAddress! + 1
                break
            }
            start = end
            if try !refill() { break }
        }
        line += 1
        return .bad(line: badLine, kind: .overlongField, field: "row", reason: "a line longer than \(Self.maxRowBytes >> 20) MiB")
    }

    enum ParseOutcome {
        case incomplete
        case empty
        case record(line: Int, fields: Int)
        case malformed(line: Int, field: String, reason: String)
    }

    /// Parses one CSV or TSV record from `start`. On success `start` moves past it.
    /// With `collect`, field texts go to `names` (the header) instead of `values`.
    private func parseDelimited(_ values: inout RowValues, collect: Bool, names: inout [String]) throws(IngestError) -> ParseOutcome {
        let base = UnsafePointer(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
        let delimiter: UInt8 = format == .tsv ? 0x09 : 0x2C
        let quoting = format == .csv
        var pos = start
        var field = 0
        let rowLine = line
        if pos == end { return eof ? .empty : .incomplete }
        // A blank line is no row.
        if base[pos] == 0x0A { start = pos + 1; line += 1; return .empty }
        if base[pos] == 0x0D {
            if pos + 1 == end && !eof { return .incomplete }
            if pos + 1 < end && base[pos + 1] == 0x0A { start = pos + 2; line += 1; return .empty }
        }
        var scratchMark = scratchUsed
        while true {
            // One field starts at `pos`.
            var value: UnsafeBufferPointer<UInt8>
            if quoting && pos < end && base[pos] == 0x22 {
                pos += 1
                let contentStart = pos
                var escaped = false
                while true {
                    guard pos < end else {
                        if eof {
                            start = end
                            line += 1
                            return .malformed(line: rowLine, field: columnName(field), reason: "a quoted field is not closed")
                        }
                        scratchUsed = scratchMark
                        return .incomplete
                    }
                    let b = base[pos]
                    if b == 0x22 {
                        if pos + 1 == end && !eof { scratchUsed = scratchMark; return .incomplete }
                        if pos + 1 < end && base[pos + 1] == 0x22 { escaped = true; pos += 2; continue }
                        break
                    }
                    if b == 0x0A {
                        // No field of the schema holds a line break: an unclosed quote ends
                        // with its line, and the next line is read as the next row.
                        start = pos + 1
                        line += 1
                        return .malformed(line: rowLine, field: columnName(field), reason: "a quoted field is not closed on its line")
                    }
                    pos += 1
                }
                let raw = UnsafeBufferPointer(start: base + contentStart, count: pos - contentStart)
                pos += 1  // closing quote
                if escaped && (collect || slot(of: field) >= 0) {
                    // The scratch holds at least a whole buffer (see `next`), so unescaped
                    // fields of one row never outgrow it.
                    var out = scratchUsed
                    var i = 0
                    while i < raw.count {
                        scratch[out] = raw[i]
                        out += 1
                        i += raw[i] == 0x22 ? 2 : 1
                    }
                    value = UnsafeBufferPointer(start: scratch + scratchUsed, count: out - scratchUsed)
                    scratchUsed = out
                } else {
                    value = raw
                }
                // A carriage return ends the record only as part of CRLF (or at the end of the file).
                if pos + 1 == end && base[pos] == 0x0D && !eof { scratchUsed = scratchMark; return .incomplete }
                let crlf = pos < end && base[pos] == 0x0D && (pos + 1 == end || base[pos + 1] == 0x0A)
                if pos < end && base[pos] != delimiter && base[pos] != 0x0A && !crlf {
                    // Skip the rest of the record so the reader can go on.
                    while pos < end && base[pos] != 0x0A { pos += 1 }
                    if pos == end && !eof { scratchUsed = scratchMark; return .incomplete }
                    start = min(pos + 1, end)
                    line += 1
                    return .malformed(line: rowLine, field: columnName(field), reason: "text after a closing quote")
                }
            } else {
                let fieldStart = pos
                var strayQuote = false
                while pos < end {
                    let b = base[pos]
                    if b == delimiter || b == 0x0A { break }
                    if b == 0x22 { strayQuote = true }
                    pos += 1
                }
                if pos == end && !eof { scratchUsed = scratchMark; return .incomplete }
                if quoting && strayQuote {
                    // RFC 4180: a quote only opens a field. One inside is a broken row (often
                    // the tail of a quoted field that a line break cut short).
                    while pos < end && base[pos] != 0x0A { pos += 1 }
                    if pos == end && !eof { scratchUsed = scratchMark; return .incomplete }
                    start = min(pos + 1, end)
                    line += 1
                    return .malformed(line: rowLine, field: columnName(field), reason: "a quote inside an unquoted field")
                }
                var fieldEnd = pos
                if (pos == end || base[pos] == 0x0A) && fieldEnd > fieldStart && base[fieldEnd - 1] == 0x0D { fieldEnd -= 1 }
                value = UnsafeBufferPointer(start: base + fieldStart, count: fieldEnd - fieldStart)
            }
            if collect {
                names.append(String(decoding: value, as: UTF8.self))
            } else {
                let s = slot(of: field)
                if s >= 0 { values.slots[s] = value }
            }
            field += 1
            if pos < end && base[pos] == delimiter { pos += 1; continue }
            // End of the record: a line feed (after an optional CR) or the end of the file.
            if pos < end && base[pos] == 0x0D { pos += 1 }
            if pos < end && base[pos] == 0x0A { pos += 1 }
            start = pos
            line += 1
            scratchMark = scratchUsed
            return .record(line: rowLine, fields: field)
        }
    }

    @inline(__always)
    private func slot(of field: Int) -> Int { field < columnSlots.count ? columnSlots[field] : -1 }

    private func columnName(_ field: Int) -> String {
        let s = slot(of: field)
        if s >= 0 { return schema.columns[s] }
        return "field \(field + 1)"
    }
}
