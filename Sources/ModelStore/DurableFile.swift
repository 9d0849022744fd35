import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Files written so that a crash leaves the old file or the new one, never half of one, and
/// read with a bound, so a hostile file cannot take the memory.
public enum DurableFile {
    /// Writes a file so that a crash leaves either no file or the complete file: write to a
    /// temporary name in the same directory, fsync, rename.
    public static func write(_ data: Data, to path: String) throws {
        let temporary = (path as NSString).deletingLastPathComponent + "/.tmp-" + (path as NSString).lastPathComponent + "-\(getpid())"
        unlink(temporary)  // a leftover of this pid's namesake, never followed if it is a link
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ModelStoreError.ioFailure(path: path, reason: "cannot create: \(String(cString: strerror(errno)))") }
        var ok = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ModelStoreError.ioFailure(path: path, reason: "cannot write: \(reason)")
        }
    }


    /// Temporary files a killed writer left in `folder` (hidden `.tmp-` names), once older
    /// than `age` seconds: a younger one may belong to a writer still at work.
    public static func removeLeftovers(in folder: String, olderThan age: TimeInterval = 0) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix(".tmp-") {
            let path = folder + "/" + name
            let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast
            if Date().timeIntervalSince(modified) >= age { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    /// A regular file's bytes, or nil when it is missing, not a regular file (a FIFO, a
    /// device, a directory) or larger than `maxBytes`.
    public static func read(_ path: String, maxBytes: Int) -> Data? {
        // Opened non-blocking and checked on the descriptor: a FIFO swapped in cannot stall.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size <= maxBytes else { return nil }
        var data = Data(count: Int(info.st_size) + 1)
        var filled = 0
        while filled < data.count {
            let n = data.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { break }
            filled += n
        }
        guard filled <= maxBytes else { return nil }  // grew while being read
        return data.prefix(filled)
    }
}
