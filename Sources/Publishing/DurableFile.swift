import Foundation
import Platform

/// Files written so that a crash leaves the old file or the new one, never half of one, and
/// read with a bound, so a hostile file cannot take the memory.
public enum DurableFile {
    /// Writes a file so that a crash leaves either no file or the complete file: write to a
    /// temporary name in the same directory, fsync, rename.
    public static func write(_ data: Data, to path: String) throws {
        let temporary = (path as NSString).deletingLastPathComponent + "/.tmp-" + (path as NSString).lastPathComponent + "-\(POSIX.processID)"
        try? POSIX.unlink(temporary)  // a leftover of this pid's namesake, never followed if it is a link
        let file: OpenFile
        do throws(Errno) { file = try .createNew(temporary) } catch { throw PublishingError.ioFailure(path: path, reason: "cannot create: \(error)") }
        do throws(Errno) {
            defer { file.close() }
            let failure = data.withUnsafeBytes { raw -> Errno? in
                do throws(Errno) { try file.writeAll(raw) } catch { return error }
                return nil
            }
            if let failure { throw failure }
            try file.sync()
        } catch {
            try? POSIX.unlink(temporary)
            throw PublishingError.ioFailure(path: path, reason: "cannot write: \(error)")
        }
        do throws(Errno) { try POSIX.rename(temporary, to: path) } catch {
            try? POSIX.unlink(temporary)
            throw PublishingError.ioFailure(path: path, reason: "cannot write: \(error)")
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
        (try? POSIX.readSmallFile(path, maxBytes: maxBytes)).map { Data($0) }
    }
}
