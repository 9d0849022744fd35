#if canImport(Glibc)
import Glibc
#endif

/// The one place ConsentRec calls the C library's POSIX functions. Every failure becomes an
/// `Errno`, so each module reports an error its own way from one mapping (as swift-system's
/// `Errno` does), and no other file formats `strerror(errno)`.
///
/// A value with the error number a system call set.
public struct Errno: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Int32

    public init(code: Int32) { self.code = code }

    /// The error number the last failed call set.
    static var current: Errno { Errno(code: errno) }

    public static let noSuchFile = Errno(code: ENOENT)
    public static let interrupted = Errno(code: EINTR)

    /// The C library's message, e.g. "No such file or directory".
    public var description: String { String(cString: strerror(code)) }
}

/// What a path or descriptor is, from `lstat` or `fstat`.
public enum FileKind: Sendable, Equatable, CustomStringConvertible {
    case regular, directory, symbolicLink, fifo, characterDevice, blockDevice, socket, other

    init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symbolicLink
        case S_IFIFO: self = .fifo
        case S_IFCHR: self = .characterDevice
        case S_IFBLK: self = .blockDevice
        case S_IFSOCK: self = .socket
        default: self = .other
        }
    }

    /// In words, for an error message: "a FIFO (named pipe)".
    public var description: String {
        switch self {
        case .regular: "a regular file"
        case .directory: "a directory"
        case .symbolicLink: "a symbolic link"
        case .fifo: "a FIFO (named pipe)"
        case .characterDevice: "a character device"
        case .blockDevice: "a block device"
        case .socket: "a socket"
        case .other: "not a file"
        }
    }
}

/// The kind and size of a file.
public struct FileStatus: Sendable {
    public let kind: FileKind
    public let size: Int
}

/// An open file descriptor. Closed explicitly, or by its owner's `deinit`.
public struct OpenFile: Sendable {
    public let rawValue: Int32

    /// Opens for reading: non-blocking, so a FIFO swapped in for a file cannot stall the open.
    public static func openForReading(_ path: String) throws(Errno) -> OpenFile {
        try open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    }

    /// Creates a new file for writing; never follows a link, never opens an existing file.
    public static func createNew(_ path: String, permissions: mode_t = 0o644) throws(Errno) -> OpenFile {
        try open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, permissions)
    }

    /// Opens (creating if missing) a file for reading and writing: a lock file.
    public static func openLockFile(_ path: String) throws(Errno) -> OpenFile {
        try open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    }

    /// Opens a directory, to sync it.
    public static func openDirectory(_ path: String) throws(Errno) -> OpenFile {
        try open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    }

    private static func open(_ path: String, _ flags: Int32, _ permissions: mode_t = 0) throws(Errno) -> OpenFile {
        let fd = Glibc.open(path, flags, permissions)
        guard fd >= 0 else { throw .current }
        return OpenFile(rawValue: fd)
    }

    public func close() { _ = Glibc.close(rawValue) }

    public func status() throws(Errno) -> FileStatus {
        var info = stat()
        guard fstat(rawValue, &info) == 0 else { throw .current }
        return FileStatus(kind: FileKind(mode: info.st_mode), size: Int(info.st_size))
    }

    /// Reads up to `buffer.count` bytes; 0 at the end. Retries when interrupted.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        while true {
            let n = Glibc.read(rawValue, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw .current }
        }
    }

    /// Reads up to `buffer.count` bytes at `offset` without moving the file position (so
    /// threads may read one descriptor at once); 0 at the end. Retries when interrupted.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(Errno) -> Int {
        while true {
            let n = pread(rawValue, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { throw .current }
        }
    }

    /// Reads up to `count` bytes at `offset` without moving the file position.
    public func read(count: Int, at offset: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let n = pread(rawValue, &bytes, count, off_t(offset))
        return n > 0 ? Array(bytes[0..<n]) : []
    }

    /// Writes every byte, retrying short and interrupted writes.
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws(Errno) {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(rawValue, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw .current
            }
            offset += n
        }
    }

    /// Replaces the whole content with `text` (a lock file's note).
    public func replaceContent(with text: String) {
        _ = ftruncate(rawValue, 0)
        _ = text.withCString { pwrite(rawValue, $0, strlen($0), 0) }
    }

    public func sync() throws(Errno) {
        guard fsync(rawValue) == 0 else { throw .current }
    }

    /// Takes an exclusive advisory lock without waiting; false when another holds it.
    public func tryLockExclusive() -> Bool { flock(rawValue, LOCK_EX | LOCK_NB) == 0 }

    public func unlock() { _ = flock(rawValue, LOCK_UN) }
}

/// Why a small file could not be read whole.
public enum SmallFileError: Error, Equatable, Sendable, CustomStringConvertible {
    case system(Errno)
    case notARegularFile(FileKind)
    case tooLarge(maxBytes: Int)

    public var description: String {
        switch self {
        case .system(let e): "\(e)"
        case .notARegularFile(let kind): "not a regular file but \(kind)"
        case .tooLarge(let maxBytes): "larger than \(maxBytes) bytes"
        }
    }
}

/// Calls on paths.
public enum POSIX {
    /// The bytes of a regular file of at most `maxBytes` (a key, a seal, a manifest), checked
    /// on the opened descriptor; a file that grows past the bound while read is refused too.
    public static func readSmallFile(_ path: String, maxBytes: Int) throws(SmallFileError) -> [UInt8] {
        let file: OpenFile
        do { file = try .openForReading(path) } catch { throw .system(error) }
        defer { file.close() }
        let status: FileStatus
        do { status = try file.status() } catch { throw .system(error) }
        guard status.kind == .regular else { throw .notARegularFile(status.kind) }
        guard status.size <= maxBytes else { throw .tooLarge(maxBytes: maxBytes) }
        // Read in pieces to the end: a file that grows past the bound while read is refused.
        var bytes = [UInt8]()
        bytes.reserveCapacity(status.size)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n: Int
            do { n = try file.read(into: chunk) } catch { throw .system(error) }
            if n == 0 { return bytes }
            guard bytes.count + n <= maxBytes else { throw .tooLarge(maxBytes: maxBytes) }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
        }
    }

    /// The kind and size of what is at `path`, without following a final symbolic link.
    public static func linkStatus(_ path: String) throws(Errno) -> FileStatus {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw .current }
        return FileStatus(kind: FileKind(mode: info.st_mode), size: Int(info.st_size))
    }

    /// True when anything, even a dangling link, is at `path`.
    public static func exists(_ path: String) -> Bool { (try? linkStatus(path)) != nil }

    public static func rename(_ from: String, to: String) throws(Errno) {
        guard Glibc.rename(from, to) == 0 else { throw .current }
    }

    /// Removes a file or link (never follows it); a missing one is not an error.
    public static func unlink(_ path: String) throws(Errno) {
        guard Glibc.unlink(path) == 0 || errno == ENOENT else { throw .current }
    }

    public static func symlink(_ target: String, at path: String) throws(Errno) {
        guard Glibc.symlink(target, path) == 0 else { throw .current }
    }

    /// Flushes a directory's entries (new, renamed or removed names) to the disk.
    public static func syncDirectory(_ path: String) throws(Errno) {
        let directory = try OpenFile.openDirectory(path)
        defer { directory.close() }
        try directory.sync()
    }

    /// Paths matching a shell pattern (`*`, `?`, `[…]`), in the C library's order; nil when
    /// nothing matches.
    public static func glob(_ pattern: String) -> [String]? {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard Glibc.glob(pattern, 0, nil, &matches) == 0, matches.gl_pathc > 0 else { return nil }
        return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }
    }

    public static var processID: Int32 { getpid() }

    /// True when standard error is a terminal (progress bars are drawn only then).
    public static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// The peak resident set size of this process so far, in bytes (`getrusage`).
    public static var peakResidentBytes: Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024  // Linux reports KiB
    }

    /// Byte-wise equality of two regions (`memcmp`), for hot loops.
    @inlinable
    public static func equalBytes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        count == 0 || memcmp(a, b, count) == 0
    }
}

/// Runs work on operating-system threads that are joined before returning.
public enum SystemThreads {
    fileprivate final class Work {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `body` on `count` threads: `count − 1` new ones and the calling thread. When no
    /// thread can be had the work is still done, by the calling thread.
    public static func run(count: Int, _ body: @escaping () -> Void) {
        run(tasks: Array(repeating: body, count: max(count, 1)))
    }
}

/// This process's environment and its image.
public enum ProcessImage {
    /// Sets (or with `nil` removes) an environment variable of this process.
    public static func setEnvironment(_ name: String, _ value: String?) {
        if let value { setenv(name, value, 1) } else { unsetenv(name) }
    }

    /// Replaces this process by a new run of its own executable with the same arguments, byte
    /// for byte (`CommandLine.unsafeArgv`, so a path that is not UTF-8 survives), and the
    /// current environment (`execv` of `/proc/self/exe`). Returns only on failure.
    public static func reexecute() -> Errno {
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        return .current
    }
}

extension SystemThreads {
    /// Runs each task on its own thread (the first on the calling thread) and returns when
    /// all have finished. Tasks that cannot get a thread run on the calling thread in turn.
    public static func run(tasks: [() -> Void]) {
        guard let first = tasks.first else { return }
        var threads = [pthread_t]()
        var unstarted = [() -> Void]()
        for task in tasks.dropFirst() {
            let context = Unmanaged.passRetained(Work(task)).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { context in
                Unmanaged<Work>.fromOpaque(context!).takeRetainedValue().body()
                return nil
            }, context)
            if rc != 0 {
                Unmanaged<Work>.fromOpaque(context).release()
                unstarted.append(task)
                continue
            }
            threads.append(thread)
        }
        first()
        for task in unstarted { task() }
        for thread in threads { pthread_join(thread, nil) }
    }
}
