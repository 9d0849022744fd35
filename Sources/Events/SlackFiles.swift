import Crypto
import Foundation
import ZIPFoundation

#if canImport(Glibc)
import Glibc
#endif

/// The files of a Slack export, from a ZIP (read entry by entry into memory, never unpacked
/// to disk) or a folder, each bounded by a size cap and checksummed as it is read.
///
/// The checksum is SHA-256 over every entry read, in the order read (channels.json,
/// users.json, then day files sorted by path), each as its path, a zero byte, its length (8
/// bytes, little-endian) and its bytes; an entry left out whole adds its path and a marker.
/// A ZIP and the folder it unpacks to have the same checksum.
final class SlackFiles {
    enum Content {
        case data(Data)
        case missing
        /// Larger than the cap, by its declared size or once inflated.
        case tooLarge
        /// A ZIP with several entries of this name: which one is meant cannot be told.
        case duplicate(Int)
        /// A folder entry that is a directory, a FIFO, a device.
        case notAFile
    }

    let path: String
    let maxFileBytes: Int
    private let archive: Archive?
    /// ZIP entries by path (several for a duplicated name).
    private var entries: [String: [Entry]] = [:]
    private var hasher = SHA256()

    init(path: String, maxFileBytes: Int) throws(IngestError) {
        self.path = path
        self.maxFileBytes = maxFileBytes
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadableFile(path: path, reason: "no such file or folder")
        }
        if isDirectory.boolValue {
            archive = nil
            return
        }
        do {
            // `pathEncoding:` selects the throwing initializer; without it the compiler picks the
            // deprecated failable one, and a corrupt ZIP would read as an empty export.
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read, pathEncoding: nil)
        } catch {
            throw .unreadableFile(path: path, reason: "not a readable ZIP archive: \(error)")
        }
        for entry in archive! where entry.type == .file { entries[entry.path, default: []].append(entry) }
    }

    /// Day files `channel/YYYY-MM-DD.json`, sorted, each name once.
    func dayFiles() -> [String] {
        var names: [String] = []
        if archive != nil {
            names = Array(entries.keys)
        } else if let walker = FileManager.default.enumerator(atPath: path) {
            for case let name as String in walker { names.append(name) }
        }
        return names.filter { $0.split(separator: "/").count == 2 && $0.hasSuffix(".json") && !$0.hasPrefix("__MACOSX") }.sorted()
    }

    /// A file the export must have whole (channels.json, users.json).
    /// - Throws: when it is missing, duplicated, oversized or not a file.
    func required(_ name: String) throws(IngestError) -> Data {
        switch try read(name) {
        case .data(let data): return data
        case .missing: throw .unreadableFile(path: path, reason: "no \(name) in the export")
        case .tooLarge: throw .unreadableFile(path: path, reason: "\(name) is larger than \(maxFileBytes) bytes (max_slack_file_bytes)")
        case .duplicate(let n): throw .unreadableFile(path: path, reason: "the export holds \(n) entries named \(name)")
        case .notAFile: throw .unreadableFile(path: path, reason: "\(name) is not a regular file")
        }
    }

    /// One file's bytes, never more than the cap of them in memory.
    func read(_ name: String) throws(IngestError) -> Content {
        let content = archive == nil ? try readFromFolder(name) : try readFromArchive(name)
        record(name, content)
        return content
    }

    /// The checksum of everything read so far.
    func digest() -> String { Hex.encode(hasher.finalize()) }

    private func record(_ name: String, _ content: Content) {
        hasher.update(data: Data(name.utf8) + [0])
        switch content {
        case .data(let data):
            withUnsafeBytes(of: UInt64(data.count).littleEndian) { hasher.update(bufferPointer: $0) }
            hasher.update(data: data)
        case .missing: hasher.update(data: Data("missing".utf8))
        case .tooLarge, .duplicate, .notAFile: hasher.update(data: Data("left out".utf8))
        }
    }

    private struct TooLarge: Error {}

    private func readFromArchive(_ name: String) throws(IngestError) -> Content {
        guard let archive, let found = entries[name] else { return .missing }
        guard found.count == 1, let entry = found.first else { return .duplicate(found.count) }
        if entry.uncompressedSize > UInt64(maxFileBytes) { return .tooLarge }
        var data = Data()
        do {
            // The declared size can lie: the count of bytes actually inflated is what is capped.
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                guard data.count + chunk.count <= self.maxFileBytes else { throw TooLarge() }
                data.append(chunk)
            }
        } catch is TooLarge {
            return .tooLarge
        } catch {
            throw .unreadableFile(path: path, reason: "\(name): \(error)")
        }
        return .data(data)
    }

    private func readFromFolder(_ name: String) throws(IngestError) -> Content {
        let full = path + "/" + name
        var info = stat()
        guard stat(full, &info) == 0 else {
            if errno == ENOENT { return .missing }
            throw .unreadableFile(path: full, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return .notAFile }
        if info.st_size > maxFileBytes { return .tooLarge }
        let file = try PlainFile(path: full)
        var data = Data(capacity: Int(info.st_size))
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n = try file.read(into: chunk)
            if n == 0 { break }
            // A file that grows while it is read is held to the same cap.
            guard data.count + n <= maxFileBytes else { return .tooLarge }
            data.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
        }
        return .data(data)
    }
}
