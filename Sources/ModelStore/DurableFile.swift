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
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
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


    /// Temporary files a killed writer left in `folder` (hidden `.tmp-` names).
    public static func removeLeftovers(in folder: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix(".tmp-") {
            try? FileManager.default.removeItem(atPath: folder + "/" + name)
        }
    }

    /// A regular file's bytes, or nil when it is missing, not a regular file (a FIFO, a
    /// device, a directory) or larger than `maxBytes`.
    public static func read(_ path: String, maxBytes: Int) -> Data? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: URL(fileURLWithPath: path).resolvingSymlinksInPath().path),
            attributes[.type] as? FileAttributeType == .typeRegular, let size = attributes[.size] as? Int, size <= maxBytes,
            let handle = FileHandle(forReadingAtPath: path)
        else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: maxBytes + 1), data.count <= maxBytes else { return nil }
        return data
    }
}
