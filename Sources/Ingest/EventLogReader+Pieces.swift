import Consent
import Foundation
import Platform

/// What a rank read of one piece of an `InputPlan`: the events it kept, already through
/// consent and pseudonymised, and the counts that the pieces add up to (`DataUsage.merging`).
public struct PieceRead: Sendable {
    /// The piece's events, with pseudonyms only.
    public var log: EventLog
    public var usage: PieceUsage
}

/// A piece's counts, as rank 0 merges them: the read's usage, the file's entry (checksums
/// from the piece that read the whole file), the lines it spanned, and the pseudonyms of the
/// workspaces consent excluded (a workspace seen in several pieces is counted once).
public struct PieceUsage: Sendable {
    public var usage: DataUsage
    public var file: DataUsage.FileUsage
    public var lines: Int
    public var excluded: [ConsentExclusion: [String]]
}

extension EventLogReader {
    /// Reads one piece of `plan` into a log of its own: a whole file as `read` reads it, or a
    /// stretch of lines numbered from 1 (merging renumbers them).
    /// - Throws: `IngestError` as `read` does; a file whose size changed since it was cut.
    public func read(_ piece: InputPlan.Piece, of plan: InputPlan) throws(IngestError) -> PieceRead {
        let path = plan.files[piece.file]
        var state = ReaderState(options: options, registry: registry)
        var file: DataUsage.FileUsage
        var lines = 0
        if let range = piece.range {
            (file, lines) = try readStretch(path, format: piece.format, range: range, part: piece.part,
                                            fileSize: plan.pieces.last { $0.file == piece.file }!.range!.upperBound, into: &state)
        } else if piece.format == .slackExport {
            let sha256 = try state.readSlackExport(path, options: options.slack)
            file = .init(path: path, format: piece.format, gzip: false, rows: state.log.usage.rowsRead, blankLines: 0, sha256: sha256, contentSHA256: sha256)
        } else {
            file = try readFile(path, format: piece.format, into: &state) { _, _ in }
        }
        let excluded = state.excludedWorkspaces(pseudonymiser: pseudonymiser)
        var log = state.finish(pseudonymiser: pseudonymiser)
        log.displayChannelIDs = nil  // raw ids never leave the reading rank
        return PieceRead(log: log, usage: PieceUsage(usage: log.usage, file: file, lines: lines, excluded: excluded))
    }

    /// A stretch `range` of a plain file: parsed with the header's columns; the first stretch
    /// also reads the whole file in order for its checksums, as `ParallelFileReader` does.
    private func readStretch(
        _ path: String, format: EventFormat, range: Range<Int>, part: Int, fileSize: Int, into state: inout ReaderState
    ) throws(IngestError) -> (DataUsage.FileUsage, lines: Int) {
        let plain = try PlainFile(path: path)
        let header = RowReader(path: path, format: format, source: FileRange(file: plain.descriptor, path: path, range: part == 0 ? range : 0..<fileSize),
                               ignoredColumns: options.ignoredColumns)
        try header.readHeader()
        let reader = part == 0 ? header : RowReader(continuing: header, source: FileRange(file: plain.descriptor, path: path, range: range), firstLine: 1)
        try state.readRows(reader) { _, _ in }
        var sha256 = "", size = fileSize
        if part == 0 {
            let whole = try PlainFile(path: path)
            size = try Self.readToEnd(whole)
            sha256 = whole.storedBytesDigest()
        }
        guard size == fileSize, (try? plain.descriptor.status().size) == fileSize else {
            throw .unreadableFile(path: path, reason: "its size changed while it was read (\(fileSize) bytes when it was cut)")
        }
        let file = DataUsage.FileUsage(path: path, format: format, gzip: false, rows: state.log.usage.rowsRead,
                                       blankLines: reader.blankLines, sha256: sha256, contentSHA256: sha256)
        return (file, reader.line - 1)
    }

    private static func readToEnd(_ file: PlainFile) throws(IngestError) -> Int {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        var total = 0
        while true {
            let n = try file.read(into: chunk)
            if n == 0 { return total }
            total += n
        }
    }
}

extension ReaderState {
    /// Pseudonyms of the workspaces the registry excluded, by reason.
    func excludedWorkspaces(pseudonymiser: Pseudonymiser) -> [ConsentExclusion: [String]] {
        var out: [ConsentExclusion: [String]] = [:]
        for (w, slot) in workspaceSlot.enumerated() where slot < 0 && slot != Self.invalidSlot {
            out[Self.exclusionCodes[Int(-1 - slot)], default: []].append(pseudonymiser.pseudonym(.workspace, workspaceIDs.bytes(w), workspace: [UInt8]()))
        }
        return out
    }
}

extension DataUsage {
    /// The usage of a read whose pieces' counts are `pieces`, in plan order: rows and bad rows
    /// added (a later stretch's lines renumbered by the lines before it), consent's removals
    /// with each excluded workspace counted once, one entry per file. The kept counts are the
    /// caller's (they depend on where the events went).
    /// - Throws: `IngestError` as `EventLogReader.read` does: too many bad rows, one file's
    ///   content listed twice.
    public static func merging(_ pieces: [PieceUsage], plan: InputPlan, policy: ConsentPolicy, limit: BadRowLimit) throws(IngestError) -> DataUsage {
        var total = DataUsage(policy: policy)
        var linesBefore = [Int](repeating: 0, count: plan.files.count)
        var excluded: [ConsentExclusion: Set<String>] = [:]
        for (piece, p) in zip(plan.pieces, pieces) {
            let u = p.usage
            total.rowsRead += u.rowsRead
            total.badRows.absorb(u.badRows, lineOffset: piece.part == 0 ? 0 : linesBefore[piece.file])
            linesBefore[piece.file] += p.lines
            for (reason, n) in u.eventsRemovedByConsent { total.eventsRemovedByConsent[reason, default: 0] += n }
            for (reason, names) in p.excluded { excluded[reason, default: []].formUnion(names) }
            total.eventsRemovedByRetention += u.eventsRemovedByRetention
            total.eventsRemovedAsFuture += u.eventsRemovedAsFuture
            total.badFiles += u.badFiles
            if let s = u.slackSkipped { total.slackSkipped = s }
            if piece.part == 0 {
                total.files.append(p.file)
            } else {
                total.files[total.files.count - 1].rows += p.file.rows
                total.files[total.files.count - 1].blankLines += p.file.blankLines
            }
        }
        for (reason, names) in excluded { total.workspacesRemovedByConsent[reason] = names.count }
        for (k, file) in total.files.enumerated() where file.rows > 0 {
            if let twin = total.files.prefix(k).first(where: { $0.rows > 0 && $0.contentSHA256 == file.contentSHA256 }) {
                throw .unreadableFile(path: file.path, reason: "the same content as \(twin.path) (SHA-256 \(file.contentSHA256) once decompressed); "
                    + "a file listed twice would be counted twice")
            }
        }
        if limit.isExceeded(bad: total.badRows.total, read: total.rowsRead) {
            throw .tooManyBadRows(summary: total.badRows.summary + " of \(total.rowsRead) rows", examples: total.badRows.examples)
        }
        return total
    }
}

extension PieceUsage {
    /// The counts as bytes for rank 0 (JSON for the Codable parts, and the bad-row examples'
    /// parts, which JSON leaves out, so that rank 0 can renumber them).
    public var wire: [UInt8] {
        let encoder = JSONEncoder()
        var w = WireWriter()
        w.blob(Array((try? encoder.encode(usage)) ?? Data()))
        w.blob(Array((try? encoder.encode(file)) ?? Data()))
        w.int(lines)
        let parts = usage.badRows.exampleParts
        w.int(parts.count)
        for e in parts { w.string(e.file); w.int(e.line); w.string(e.field); w.string(e.reason) }
        let reasons = excluded.keys.sorted { $0.rawValue < $1.rawValue }
        w.strings(reasons.map(\.rawValue))
        for reason in reasons { w.strings(excluded[reason]!) }
        return w.bytes
    }

    public init(wire bytes: [UInt8]) throws {
        var r = WireReader(bytes)
        let decoder = JSONDecoder()
        usage = try decoder.decode(DataUsage.self, from: Data(try r.blob()))
        file = try decoder.decode(DataUsage.FileUsage.self, from: Data(try r.blob()))
        lines = try r.int()
        var parts: [(file: String, line: Int, field: String, reason: String)] = []
        for _ in 0..<max(0, try r.int()) { parts.append((try r.string(), try r.int(), try r.string(), try r.string())) }
        usage.badRows = BadRowReport(counts: usage.badRows.counts, exampleParts: parts)
        excluded = [:]
        for name in try r.strings() {
            guard let reason = ConsentExclusion(rawValue: name) else { throw WireReader.Malformed(offset: r.offset, reason: "exclusion \(name)") }
            excluded[reason] = try r.strings()
        }
        try r.finish()
    }
}
