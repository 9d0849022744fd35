import Consent
import Foundation
import Platform

/// Reads one CSV, TSV or JSON Lines file (plain or gzip) with several threads, giving exactly
/// what the one-thread reader gives: the same events in the same order, the same id numbering,
/// bad-row counts and examples, line numbers and checksums.
///
/// Rows never span lines (an unclosed quote ends with its line), so any stretch of whole lines
/// reads exactly as it would inside the whole file. Each stretch is parsed into a fresh
/// `ReaderState` and the states are merged in file order (`ReaderState.absorb`).
/// - A plain file is cut into one range of whole lines per thread, each read with pread(2),
///   while one more thread reads the file in order for its checksum.
/// - A gzip file is inflated by one thread, in order, into blocks that end at line ends
///   (`LineBlocks`); while it inflates the next round of blocks, the others parse this round's.
///
/// Anything unusual — an error anywhere, a line too long to cut, too many bad rows, a file
/// that changed size while read — gives up and returns nil, leaving the caller's state as it
/// was; the caller then reads the file with one thread, which gives the outcome exactly as it
/// always has.
struct ParallelFileReader {
    let path: String
    let format: EventFormat
    let options: IngestOptions
    let registry: ConsentRegistry
    let threads: Int
    let blockBytes: Int

    struct Outcome {
        var state: ReaderState
        let file: DataUsage.FileUsage
    }

    /// A stretch of the file as parsed: its state, the reader's blank lines, and the last line
    /// number it used (so the next range's line numbers can be set right).
    struct ParsedStretch {
        let state: ReaderState
        let blankLines: Int
        let lines: Int
    }

    /// Reads the file into a copy of `state`; nil to say "read it with one thread".
    func read(after state: ReaderState, progress: (Int, Int) -> Void) -> Outcome? {
        guard let (source, gzip) = try? ByteSources.open(path) else { return nil }
        if gzip { return readBlocks(source, after: state, progress: progress) }
        guard let file = source as? PlainFile else { return nil }
        return readRanges(file, after: state, progress: progress)
    }

    // MARK: Plain files: ranges

    private func readRanges(_ file: PlainFile, after state: ReaderState, progress: (Int, Int) -> Void) -> Outcome? {
        guard let size = try? file.descriptor.status().size,
            let cuts = try? FileRange.lineCuts(of: file.descriptor, size: size, parts: threads)
        else { return nil }
        let ranges = zip(cuts, cuts.dropFirst()).map { $0..<$1 }
        let header = RowReader(
            path: path, format: format, source: FileRange(file: file.descriptor, path: path, range: ranges[0]),
            ignoredColumns: options.ignoredColumns)
        guard (try? header.readHeader()) != nil else { return nil }
        let results = TaskResults<ParsedStretch>(count: ranges.count)
        var checksummed = -1
        var tasks: [() -> Void] = ranges.enumerated().map { (i, range) in
            {
                let reader = i == 0 ? header : RowReader(
                    continuing: header, source: FileRange(file: file.descriptor, path: path, range: range), firstLine: 1)
                if let parsed = parse(reader) { results.set(i, parsed) }
            }
        }
        tasks.append { checksummed = Self.readToEnd(file) }
        SystemThreads.run(tasks: tasks)
        guard checksummed == size, let stretches = results.all else { return nil }
        // Each range after the first was numbered from 1: it lacks the lines before it.
        guard let merged = merge(stretches, into: state, renumber: true, progress: progress) else { return nil }
        return Outcome(state: merged.state, file: usage(merged, gzip: false, file))
    }

    /// Reads the whole file in order, for its checksum; the bytes read, or −1 on an error.
    private static func readToEnd(_ file: PlainFile) -> Int {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        var total = 0
        while true {
            guard let n = try? file.read(into: chunk) else { return -1 }
            if n == 0 { return total }
            total += n
        }
    }

    // MARK: Gzip files: blocks, inflated in order

    private func readBlocks(_ source: any ByteSource, after state: ReaderState, progress: (Int, Int) -> Void) -> Outcome? {
        let blocks = LineBlocks(source: source, blockBytes: blockBytes)
        guard var round = try? nextRound(blocks), let first = round.first else { return nil }
        let header = RowReader(path: path, format: format, source: MemorySource(first.bytes), ignoredColumns: options.ignoredColumns)
        guard (try? header.readHeader()) != nil else { return nil }
        var merged = Merged(state: state, rowsBefore: state.log.usage.rowsRead)
        var isFirstRound = true
        while !round.isEmpty {
            let results = TaskResults<ParsedStretch>(count: round.count)
            var next: [LineBlocks.Block]?
            var tasks: [() -> Void] = round.enumerated().map { (i, block) in
                {
                    let reader = i == 0 && isFirstRound
                        ? header : RowReader(continuing: header, source: MemorySource(block.bytes), firstLine: block.firstLine)
                    if let parsed = parse(reader) { results.set(i, parsed) }
                }
            }
            tasks.append { next = try? nextRound(blocks) }
            SystemThreads.run(tasks: tasks)
            // Blocks are numbered from their own first lines already.
            guard let stretches = results.all, let following = next,
                let after = merge(stretches, into: merged, renumber: false, progress: progress)
            else { return nil }
            merged = after
            round = following
            isFirstRound = false
        }
        return Outcome(state: merged.state, file: usage(merged, gzip: true, source))
    }

    /// Up to `threads` blocks.
    private func nextRound(_ blocks: LineBlocks) throws -> [LineBlocks.Block] {
        var round: [LineBlocks.Block] = []
        while round.count < threads, let block = try blocks.next() { round.append(block) }
        return round
    }

    // MARK: Parsing and merging

    /// Parses the rest of `reader`'s stretch into a fresh state; nil on any error (too many
    /// bad rows included: the one-thread reader then reports it as it always has).
    private func parse(_ reader: RowReader) -> ParsedStretch? {
        var state = ReaderState(options: options, registry: registry)
        do throws(IngestError) {
            try state.readRows(reader) { _, _ in }
        } catch { return nil }
        // Lines are numbered from 1 in each range (the first from the file's start, header
        // included), so `line − 1` is the lines the stretch spanned.
        return ParsedStretch(state: state, blankLines: reader.blankLines, lines: reader.line - 1)
    }

    struct Merged {
        var state: ReaderState
        let rowsBefore: Int
        var blankLines = 0
        var lines = 0
    }

    private func merge(_ stretches: [ParsedStretch], into state: ReaderState, renumber: Bool, progress: (Int, Int) -> Void) -> Merged? {
        merge(stretches, into: Merged(state: state, rowsBefore: state.log.usage.rowsRead), renumber: renumber, progress: progress)
    }

    /// Absorbs the stretches in file order; nil once the bad rows pass the absolute limit.
    private func merge(_ stretches: [ParsedStretch], into start: Merged, renumber: Bool, progress: (Int, Int) -> Void) -> Merged? {
        var merged = start
        for stretch in stretches {
            merged.state.absorb(stretch.state, lineOffset: renumber ? merged.lines : 0)
            merged.blankLines += stretch.blankLines
            merged.lines += stretch.lines
            if let maxCount = options.badRowLimit.maxCount, merged.state.log.usage.badRows.total > maxCount { return nil }
        }
        progress(merged.state.log.usage.rowsRead, merged.state.log.count)
        return merged
    }

    private func usage(_ merged: Merged, gzip: Bool, _ source: any ByteSource) -> DataUsage.FileUsage {
        .init(
            path: path, format: format, gzip: gzip, rows: merged.state.log.usage.rowsRead - merged.rowsBefore,
            blankLines: merged.blankLines, sha256: source.storedBytesDigest(), contentSHA256: source.contentDigest())
    }
}

/// One result per task, each written by its own task only; read after all have finished.
final class TaskResults<T>: @unchecked Sendable {
    private var values: [T?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: T) { values[i] = value }
    /// Every result, or nil if one is missing.
    var all: [T]? { values.contains { $0 == nil } ? nil : values.map { $0! } }
}
