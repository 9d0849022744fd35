import Consent
import Foundation
import Logging
import Platform

/// Reads interaction logs into an `EventLog`, enforcing consent first.
///
/// Per row, in this order:
/// 1. the workspace id is read and the consent registry decides; a row of an excluded
///    workspace is counted under its reason and dropped — none of its other fields is looked
///    at, validated or interned;
/// 2. the other fields are checked (bad rows are counted with `file:line: field: reason` and
///    skipped);
/// 3. the retention window drops old and future events (counted);
/// 4. ids are interned (each distinct id is hashed into a pseudonym once, at the end).
public struct EventLogReader: Sendable {
    public let options: IngestOptions
    public let registry: ConsentRegistry
    public let pseudonymiser: Pseudonymiser

    /// The registry and the key are required up front: without them nothing is read.
    public init(options: IngestOptions, registry: ConsentRegistry, pseudonymiser: Pseudonymiser) {
        self.options = options
        self.registry = registry
        self.pseudonymiser = pseudonymiser
    }

    /// Reads every file (paths or glob patterns) as one log.
    /// - Throws: `IngestError` for an unreadable, truncated or refused file, or too many bad
    ///   rows. Nothing partial is returned.
    public func read(
        _ arguments: [String], logger: Logger,
        progress: ((IngestProgress) -> Void)? = nil
    ) throws(IngestError) -> EventLog {
        let files = try InputFiles.expand(arguments)
        // One given workspace id names one export: it must not put two exports under one consent.
        if options.slack.workspaceID != nil,
            files.filter({ (options.format ?? EventFormat.guess(path: $0)) == .slackExport }).count > 1 {
            throw .unreadableFile(path: files.joined(separator: ", "), reason: "one Slack workspace id is given for several exports; read them one at a time or import each with its own id")
        }
        var state = ReaderState(options: options, registry: registry)
        for (index, path) in files.enumerated() {
            guard let format = options.format ?? EventFormat.guess(path: path) else { throw .unknownFormat(path: path) }
            let rowsBefore = state.log.usage.rowsRead
            let file: DataUsage.FileUsage
            if format == .slackExport {
                let sha256 = try state.readSlackExport(path, options: options.slack)
                file = .init(path: path, format: format, gzip: false, rows: state.log.usage.rowsRead - rowsBefore, blankLines: 0,
                             sha256: sha256, contentSHA256: sha256)
            } else {
                file = try readFile(path, format: format, into: &state) { rows, kept in
                    progress?(IngestProgress(file: path, fileIndex: index, files: files.count, rowsRead: rows, eventsKept: kept))
                }
            }
            // Empty files (a header, no rows) may well be alike; files with rows may not.
            if file.rows > 0, let twin = state.log.usage.files.first(where: { $0.rows > 0 && $0.contentSHA256 == file.contentSHA256 }) {
                throw .unreadableFile(path: path, reason: "the same content as \(twin.path) (SHA-256 \(file.contentSHA256) once decompressed); "
                    + "a file listed twice would be counted twice")
            }
            state.log.usage.files.append(file)
            progress?(IngestProgress(file: path, fileIndex: index, files: files.count, rowsRead: state.log.usage.rowsRead, eventsKept: state.log.count))
            logger.info(
                "input file read",
                metadata: [LogKey.file: "\(path)", LogKey.format: "\(format.rawValue)", LogKey.gzip: "\(file.gzip)", LogKey.rows: "\(file.rows)"])
        }
        let usage = state.log.usage
        if options.badRowLimit.isExceeded(bad: usage.badRows.total, read: usage.rowsRead) {
            throw .tooManyBadRows(summary: usage.badRows.summary + " of \(usage.rowsRead) rows", examples: usage.badRows.examples)
        }
        return state.finish(pseudonymiser: pseudonymiser)
    }

    /// Reads one CSV, TSV or JSON Lines file (plain or gzip), checksumming it as it is read:
    /// with `options.threads` threads when there are several (`ParallelFileReader`, the same
    /// result), else — or when that reader gives up — with one.
    func readFile(
        _ path: String, format: EventFormat, into state: inout ReaderState, progress: (Int, Int) -> Void
    ) throws(IngestError) -> DataUsage.FileUsage {
        if options.threads > 1 {
            let parallel = ParallelFileReader(
                path: path, format: format, options: options, registry: registry, threads: options.threads,
                blockBytes: options.blockBytes)
            if let outcome = parallel.read(after: state, progress: progress) {
                state = outcome.state
                return outcome.file
            }
        }
        return try readFileInOneThread(path, format: format, into: &state, progress: progress)
    }

    private func readFileInOneThread(
        _ path: String, format: EventFormat, into state: inout ReaderState, progress: (Int, Int) -> Void
    ) throws(IngestError) -> DataUsage.FileUsage {
        let (source, gzip) = try ByteSources.open(path)
        let reader = RowReader(path: path, format: format, source: source, ignoredColumns: options.ignoredColumns)
        try reader.readHeader()
        if !gzip, let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int {
            state.reserve(rows: size / 48)  // event rows are rarely shorter than 48 bytes
        }
        let rowsBefore = state.log.usage.rowsRead
        try state.readRows(reader, progress: progress)
        return .init(path: path, format: format, gzip: gzip, rows: state.log.usage.rowsRead - rowsBefore,
                     blankLines: reader.blankLines, sha256: reader.storedBytesDigest, contentSHA256: reader.contentDigest)
    }
}
