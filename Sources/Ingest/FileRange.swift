import Platform

/// The bytes `[offset, end)` of an open plain file, read with pread(2) so that several
/// ranges of one descriptor can be read at once. It takes no checksum: whoever reads the
/// whole file in order does.
final class FileRange: ByteSource {
    private let file: OpenFile
    private let path: String
    private var offset: Int
    private let end: Int

    init(file: OpenFile, path: String, range: Range<Int>) {
        self.file = file
        self.path = path
        offset = range.lowerBound
        end = range.upperBound
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(IngestError) -> Int {
        let want = min(buffer.count, end - offset)
        guard want > 0 else { return 0 }
        let n: Int
        do throws(Errno) {
            n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), at: offset)
        } catch { throw .unreadableFile(path: path, reason: "\(error)") }
        offset += n
        return n
    }

    func storedBytesDigest() -> String { "" }
    func contentDigest() -> String { "" }

    /// Offsets that cut `[0, size)` into `parts` ranges of about equal size, each after a
    /// line feed (or at the end): a range then holds whole lines only.
    static func lineCuts(of file: OpenFile, size: Int, parts: Int) throws(Errno) -> [Int] {
        var cuts = [0]
        let window = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { window.deallocate() }
        for k in 1..<max(parts, 1) {
            var position = max(k * size / parts - 1, cuts.last!)
            var cut = size
            search: while position < size {
                let n = try file.read(into: window, at: position)
                if n == 0 { break }
                for i in 0..<n where window[i] == 0x0A { cut = position + i + 1; break search }
                position += n
            }
            cuts.append(max(cut, cuts.last!))
        }
        cuts.append(size)
        return cuts
    }
}
