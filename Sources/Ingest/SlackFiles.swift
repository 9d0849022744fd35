import Foundation
import Platform
import ZIPFoundation

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
        /// A folder entry that is a symbolic link, a FIFO, a device; a ZIP entry that is a link.
        case notAFile
        /// A ZIP entry whose bytes do not match its CRC-32.
        case corrupt
    }

    let path: String
    let maxFileBytes: Int
    private let archive: Archive?
    /// Every file of the export by its normalised path (`/` separators, no empty, `.` or
    /// leading components): its ZIP entries (several for a duplicated name), or nil for a
    /// folder's regular file. Symbolic links and other non-files are in `notFiles`.
    private var listing: [String: [Entry]] = [:]
    private var notFiles: Set<String> = []
    private var hasher = StreamingDigest()

    init(path: String, maxFileBytes: Int) throws(IngestError) {
        self.path = path
        self.maxFileBytes = maxFileBytes
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadableFile(path: path, reason: "no such file or folder")
        }
        if isDirectory.boolValue {
            archive = nil
            try listFolder()
            return
        }
        do {
            // `pathEncoding:` selects the throwing initializer; without it the compiler picks the
            // deprecated failable one, and a corrupt ZIP would read as an empty export.
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read, pathEncoding: nil)
        } catch {
            throw .unreadableFile(path: path, reason: "not a readable ZIP archive: \(error)")
        }
        for entry in archive! where entry.type != .directory {
            let name = Self.normalised(entry.path)
            if entry.type == .file { listing[name, default: []].append(entry) } else { notFiles.insert(name) }
        }
    }

    /// `a\b`, `/a//b`, `./a/b` → `a/b`: names that differ only in spelling are one file (so a
    /// duplicate cannot hide behind another spelling). A `..` component is kept, and the name
    /// then matches no file the reader looks for.
    static func normalised(_ name: String) -> String {
        name.replacingOccurrences(of: "\\", with: "/").split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }

    /// A folder export: regular files listed, symbolic links and other non-files noted (never
    /// followed: the export must not reach outside itself, and a folder must read like its ZIP).
    /// A folder deeper than a channel's holds nothing the reader takes: one bad entry, its
    /// contents unread, as its ZIP would count it.
    private func listFolder() throws(IngestError) {
        let folder = FolderListing(path) { !$0.contains("/") }
        guard folder.unreadable.isEmpty else {
            throw .unreadableFile(path: path, reason: "cannot list \(folder.unreadable.count) of its folders (permissions?); nothing of the export is read")
        }
        for (name, kind) in folder.entries {
            switch kind {
            case .file: listing[name] = []
            case .folder: if name.contains("/") { notFiles.insert(name) }
            case .link, .other: notFiles.insert(name)
            }
        }
    }

    /// True for an entry that is not a regular file (a link, a device, a nested folder).
    func isNotAFile(_ name: String) -> Bool { notFiles.contains(name) }

    /// Every file the export holds, sorted: day files and anything else (see `SlackExport`).
    func allFiles() -> [String] { Set(listing.keys).union(notFiles).sorted() }

    /// `CHANNEL/YYYY-MM-DD.json`.
    static func isDayFile(_ name: String) -> Bool {
        let parts = name.split(separator: "/")
        guard parts.count == 2, parts[1].utf8.count == 15, parts[1].hasSuffix(".json") else { return false }
        let digits = Array(parts[1].utf8.prefix(10))
        return digits.enumerated().allSatisfy { i, b in (i == 4 || i == 7) ? b == 0x2D : (b >= 0x30 && b <= 0x39) }
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
        case .corrupt: throw .unreadableFile(path: path, reason: "\(name) does not match its CRC-32 (a corrupt ZIP)")
        }
    }

    /// One file's bytes, never more than the cap of them in memory.
    func read(_ name: String) throws(IngestError) -> Content {
        let content: Content
        if notFiles.contains(name) {
            content = .notAFile
        } else if let entries = listing[name] {
            content = archive == nil ? try readFromFolder(name) : try readFromArchive(entries, name: name)
        } else {
            content = .missing
        }
        record(name, content)
        return content
    }

    /// The checksum of everything read so far.
    func digest() -> String { hasher.hex() }

    private func update(_ data: Data) { data.withUnsafeBytes { hasher.update($0) } }

    private func record(_ name: String, _ content: Content) {
        update(Data(name.utf8) + [0])
        switch content {
        case .data(let data):
            withUnsafeBytes(of: UInt64(data.count).littleEndian) { hasher.update($0) }
            update(data)
        case .missing: update(Data("missing".utf8))
        case .tooLarge, .duplicate, .notAFile, .corrupt: update(Data("left out".utf8))
        }
    }

    private struct TooLarge: Error {}

    private func readFromArchive(_ found: [Entry], name: String) throws(IngestError) -> Content {
        guard let archive, found.count == 1, let entry = found.first else { return .duplicate(found.count) }
        if entry.uncompressedSize > UInt64(maxFileBytes) { return .tooLarge }
        var data = Data()
        let checksum: CRC32
        do {
            // The declared size can lie: the count of bytes actually inflated is what is capped.
            checksum = try archive.extract(entry, skipCRC32: false) { chunk in
                guard data.count + chunk.count <= self.maxFileBytes else { throw TooLarge() }
                data.append(chunk)
            }
        } catch is TooLarge {
            return .tooLarge
        } catch {
            throw .unreadableFile(path: path, reason: "\(name): \(error)")
        }
        // ZIPFoundation computes the CRC-32 but does not compare it for every storage method.
        guard checksum == entry.checksum else { return .corrupt }
        return .data(data)
    }

    private func readFromFolder(_ name: String) throws(IngestError) -> Content {
        let full = path + "/" + name
        let status: FileStatus
        do throws(Errno) {
            status = try POSIX.linkStatus(full)
        } catch {
            if error == .noSuchFile { return .missing }
            throw .unreadableFile(path: full, reason: "\(error)")
        }
        guard status.kind == .regular else { return .notAFile }
        if status.size > maxFileBytes { return .tooLarge }
        let file = try PlainFile(path: full)
        var data = Data(capacity: status.size)
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
