import Foundation

/// Cuts a file's bytes into blocks that end at line ends, numbering each block's first line,
/// for readers that parse blocks on several threads. Reading goes through the file's
/// `ByteSource`, in order, so its checksums are the sequential reader's.
final class LineBlocks {
    struct Block {
        let bytes: Data
        /// The line number of the block's first line (the file's first line is 1).
        let firstLine: Int
    }

    /// A line longer than this cannot be cut into blocks; the caller reads the file in one
    /// piece instead (where such a line is a bad row).
    static let maxLineBytes = RowReader.maxRowBytes

    private var source: any ByteSource
    private let blockBytes: Int
    private var pending = Data()
    private var nextLine = 1
    private var ended = false

    init(source: any ByteSource, blockBytes: Int) {
        self.source = source
        self.blockBytes = max(blockBytes, 1)
    }

    /// The next block, or nil at the end of the file. Every block but the last ends with a
    /// line feed.
    /// - Throws: the source's read errors, or `LineBlocks.LineTooLong`.
    func next() throws -> Block? {
        var searchedUpTo = 0
        while true {
            if let cut = lastLineFeed(from: searchedUpTo) { return take(cut + 1) }
            searchedUpTo = pending.count
            if ended { return pending.isEmpty ? nil : take(pending.count) }
            if pending.count > Self.maxLineBytes + blockBytes { throw LineTooLong() }
            try readMore()
        }
    }

    struct LineTooLong: Error {}

    /// The last line feed in `pending`, if there is one at or after `from` and `pending`
    /// holds a block's worth (or the file has ended).
    private func lastLineFeed(from: Int) -> Int? {
        guard pending.count >= blockBytes || ended, pending.count > from else { return nil }
        return pending.withUnsafeBytes { raw -> Int? in
            let bytes = raw.bindMemory(to: UInt8.self)
            var i = bytes.count - 1
            while i >= from { if bytes[i] == 0x0A { return i }; i -= 1 }
            return nil
        }
    }

    private func take(_ count: Int) -> Block {
        let bytes = pending.prefix(count)
        pending = Data(pending.dropFirst(count))
        let block = Block(bytes: Data(bytes), firstLine: nextLine)
        nextLine += block.bytes.withUnsafeBytes { raw in
            var feeds = 0
            for b in raw.bindMemory(to: UInt8.self) where b == 0x0A { feeds += 1 }
            return feeds
        }
        return block
    }

    private func readMore() throws {
        let want = max(blockBytes - pending.count, 1 << 16)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: want, alignment: 16)
        defer { chunk.deallocate() }
        let n = try source.read(into: chunk)
        if n == 0 { ended = true } else { pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<n])) }
    }
}
