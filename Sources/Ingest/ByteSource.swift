import CompressNIO
import Foundation
import NIOCore
import Platform

/// A stream of bytes from one input file, decompressed if it is gzip.
protocol ByteSource {
    /// Fills up to `buffer.count` bytes; 0 means the end of the data.
    /// - Throws: `IngestError` for a read failure or a corrupt or truncated gzip stream.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(IngestError) -> Int
    /// SHA-256 (hex) of the bytes taken from the file so far, as stored (compressed for
    /// gzip): once the source is read to its end, the checksum of exactly what was read.
    func storedBytesDigest() -> String
    /// SHA-256 (hex) of the content read so far, decompressed: equal for a file and its
    /// gzip copy, so the same data cannot be read twice in two encodings.
    func contentDigest() -> String
}

enum ByteSources {
    /// Opens `path`, choosing plain or gzip by the first two bytes (`1f 8b`), not by the name.
    static func open(_ path: String) throws(IngestError) -> (source: any ByteSource, gzip: Bool) {
        let file = try PlainFile(path: path)
        if file.descriptor.read(count: 2, at: 0) == [0x1F, 0x8B] { return (try GzipStream(file: file, path: path), true) }
        return (file, false)
    }
}

/// A file read with `read(2)`, checksummed as it is read.
final class PlainFile: ByteSource {
    let descriptor: OpenFile
    let path: String
    private var digest = StreamingDigest()

    /// Opens a regular file. Anything else — a directory, a FIFO that would block forever, a
    /// device such as /dev/zero that never ends — is refused by what it is, checked on the
    /// opened descriptor (non-blocking, so a FIFO cannot stall the open).
    init(path: String) throws(IngestError) {
        do throws(Errno) {
            descriptor = try .openForReading(path)
        } catch { throw .unreadableFile(path: path, reason: "\(error)") }
        let status: FileStatus
        do throws(Errno) {
            status = try descriptor.status()
        } catch {
            descriptor.close()
            throw .unreadableFile(path: path, reason: "\(error)")
        }
        guard status.kind == .regular else {
            descriptor.close()
            throw .unreadableFile(path: path, reason: "not a regular file but \(status.kind)")
        }
        self.path = path
    }

    /// The whole file, for small inputs read at once (the consent registry, the key).
    /// - Throws: when it holds more than `maxBytes`.
    func readAll(maxBytes: Int) throws(IngestError) -> Data {
        var data = Data()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n = try read(into: chunk)
            if n == 0 { return data }
            guard data.count + n <= maxBytes else { throw .unreadableFile(path: path, reason: "larger than \(maxBytes) bytes") }
            data.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
        }
    }

    deinit { descriptor.close() }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(IngestError) -> Int {
        let n: Int
        do throws(Errno) { n = try descriptor.read(into: buffer) } catch { throw .unreadableFile(path: path, reason: "\(error)") }
        digest.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        return n
    }

    func storedBytesDigest() -> String { digest.hex() }
    func contentDigest() -> String { storedBytesDigest() }
}

/// A gzip file inflated as it is read (zlib through compress-nio), including files made of
/// several concatenated gzip members. The end of the compressed data must be the end of a
/// gzip member: a stream that stops early is an error, never a short read.
final class GzipStream: ByteSource {
    private let file: PlainFile
    private let path: String
    private let decompressor: ZlibDecompressor
    private var input: ByteBuffer
    private var output: ByteBuffer
    private var inputEnded = false
    private var finished = false
    private var contentHash = StreamingDigest()

    static let chunk = 1 << 20

    init(file: PlainFile, path: String) throws(IngestError) {
        self.file = file
        self.path = path
        do {
            decompressor = try ZlibDecompressor(algorithm: .gzip)
        } catch {
            throw .unreadableFile(path: path, reason: "cannot start gzip decompression: \(error)")
        }
        input = ByteBufferAllocator().buffer(capacity: Self.chunk)
        output = ByteBufferAllocator().buffer(capacity: Self.chunk)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(IngestError) -> Int {
        while output.readableBytes == 0 {
            if finished { return 0 }
            try inflateSome()
        }
        let n = min(buffer.count, output.readableBytes)
        output.withUnsafeReadableBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
        contentHash.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        output.moveReaderIndex(forwardBy: n)
        return n
    }

    func storedBytesDigest() -> String { file.storedBytesDigest() }
    func contentDigest() -> String { contentHash.hex() }

    private func refillInput() throws(IngestError) {
        input.discardReadBytes()
        let free = input.writableBytes
        let n = try input.withUnsafeMutableWritableBytes { (raw) throws(IngestError) -> Int in
            try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<free]))
        }
        if n == 0 { inputEnded = true } else { input.moveWriterIndex(forwardBy: n) }
    }

    /// Inflates the next piece into `output`. zlib's answers through compress-nio:
    /// a normal return means the member ended or all input was used; `bufferOverflow` means
    /// the output is full; `inputBufferOverflow` means no progress without more input.
    private func inflateSome() throws(IngestError) {
        if input.readableBytes == 0 && !inputEnded { try refillInput() }
        output.clear()
        do {
            try decompressor.inflate(from: &input, to: &output)
            if input.readableBytes > 0 {
                // Input left over after a normal return: the member ended. Another member may
                // follow (`cat a.gz b.gz`); anything else is corrupt.
                try startNextMember()
            } else if inputEnded && output.readableBytes == 0 {
                // No input left, nothing produced, no complaint: the last member is complete.
                finished = true
            }
        } catch let error as CompressNIOError where error == .bufferOverflow {
            // Output full: the caller takes it and calls again.
        } catch let error as CompressNIOError where error == .inputBufferOverflow {
            // zlib needs more input; at the end of the file that means the stream was cut.
            if inputEnded { throw .truncatedGzip(file: path) }
        } catch let error as IngestError {
            throw error
        } catch {
            throw .corruptGzip(file: path)
        }
    }

    private func startNextMember() throws(IngestError) {
        let magic = input.getBytes(at: input.readerIndex, length: min(2, input.readableBytes)) ?? []
        guard magic == [0x1F, 0x8B] || (magic == [0x1F] && !inputEnded) else { throw .corruptGzip(file: path) }
        do { try decompressor.reset() } catch { throw .corruptGzip(file: path) }
    }
}

/// Bytes already in memory (the consent registry, which is checksummed whole).
final class MemorySource: ByteSource {
    private let data: Data
    private var offset = 0

    init(_ data: Data) { self.data = data }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(IngestError) -> Int {
        let n = min(buffer.count, data.count - offset)
        guard n > 0 else { return 0 }
        data.copyBytes(to: buffer.bindMemory(to: UInt8.self), from: offset..<(offset + n))
        offset += n
        return n
    }

    func storedBytesDigest() -> String { Digest.sha256(data.prefix(offset)) }
    func contentDigest() -> String { storedBytesDigest() }
}
