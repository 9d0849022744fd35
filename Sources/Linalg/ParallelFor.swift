import Platform
import Synchronization

/// A deterministic parallel loop over a fixed list of chunks.
///
/// Determinism comes from the partition, not the schedule: callers cut their work into chunks
/// by the data alone (never by the thread count), every chunk writes only its own outputs, and
/// any reduction is summed over chunks in chunk order. Threads claim chunks dynamically, which
/// balances power-law row lengths, but which thread ran a chunk never changes a bit of output.
public struct ParallelFor: Sendable {
    /// How many threads run chunks at once.
    public let threads: Int

    public init(threads: Int) {
        precondition(threads >= 1, "a parallel loop needs at least one thread")
        self.threads = threads
    }

    /// Runs `body` once for every chunk in `0..<chunks`.
    public func forEach(chunks: Int, _ body: @escaping (Int) -> Void) {
        forEach(chunks: chunks, scratch: { () }) { chunk, _ in body(chunk) }
    }

    /// Runs `body` once for every chunk, giving each worker thread its own scratch value.
    ///
    /// - Parameters:
    ///   - chunks: how many chunks there are.
    ///   - scratch: makes one worker's scratch (buffers reused across that worker's chunks).
    ///   - body: the work of one chunk.
    public func forEach<Scratch>(
        chunks: Int, scratch: @escaping () -> Scratch,
        _ body: @escaping (Int, inout Scratch) -> Void
    ) {
        let workers = Swift.min(threads, chunks)
        if workers <= 1 {
            var s = scratch()
            for chunk in 0..<chunks { body(chunk, &s) }
            return
        }
        let next = Atomic<Int>(0)
        // Joined POSIX threads rather than `DispatchQueue.concurrentPerform`: on Linux, libdispatch
        // can release the work block after `concurrentPerform` returned (seen here under load).
        SystemThreads.run(count: workers) {
            var s = scratch()
            while true {
                let chunk = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if chunk >= chunks { break }
                body(chunk, &s)
            }
        }
    }

    /// Runs a throwing `body` for every chunk and rethrows the error of the lowest-numbered
    /// failing chunk, so the error a caller sees does not depend on the schedule either.
    /// Once a chunk has failed, chunks numbered above it are skipped; those below still run,
    /// since one of them may fail too and its error is the one to report.
    public func forEach<Scratch, Failure: Error>(
        chunks: Int, scratch: @escaping () -> Scratch,
        throwing body: @escaping (Int, inout Scratch) throws(Failure) -> Void
    ) throws(Failure) {
        let failure = Mutex<(chunk: Int, error: Failure)?>(nil)
        let lowestFailed = Atomic<Int>(Int.max)
        forEach(chunks: chunks, scratch: scratch) { chunk, s in
            if chunk > lowestFailed.load(ordering: .relaxed) { return }
            do throws(Failure) {
                try body(chunk, &s)
            } catch {
                lowestFailed.min(chunk, ordering: .relaxed)
                failure.withLock { current in
                    if current == nil || chunk < current!.chunk { current = (chunk, error) }
                }
            }
        }
        if let (_, error) = failure.withLock({ $0 }) { throw error }
    }
}

/// A read-only pointer shared by the workers of one parallel loop, all of which finish
/// before the buffer it points into goes away.
public struct SendablePointer<Pointee>: @unchecked Sendable {
    public let pointer: UnsafePointer<Pointee>
    public init(_ pointer: UnsafePointer<Pointee>) { self.pointer = pointer }
}

/// A mutable pointer shared by the workers of one parallel loop; each worker writes a part
/// no other worker touches.
public struct SendableMutablePointer<Pointee>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Pointee>
    public init(_ pointer: UnsafeMutablePointer<Pointee>) { self.pointer = pointer }
}
