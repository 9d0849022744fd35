import Linalg
import Synchronization
import XCTest

final class ParallelForTests: XCTestCase {
    struct Failure: Error, Equatable { let chunk: Int }

    func testForEach_runsEveryChunkExactlyOnce() {
        let counts = Mutex([Int](repeating: 0, count: 1000))
        ParallelFor(threads: 4).forEach(chunks: 1000) { chunk in
            counts.withLock { $0[chunk] += 1 }
        }
        XCTAssertEqual(counts.withLock { $0 }, [Int](repeating: 1, count: 1000))
    }

    func testForEach_givesEachWorkerItsOwnScratch() {
        let made = Atomic<Int>(0)
        ParallelFor(threads: 2).forEach(chunks: 200, scratch: { () -> [Int] in
            made.wrappingAdd(1, ordering: .relaxed)
            return []
        }) { chunk, scratch in
            scratch.append(chunk)
            XCTAssertEqual(scratch.count, Set(scratch).count)
        }
        XCTAssertLessThanOrEqual(made.load(ordering: .relaxed), 2)
    }

    func testThrowingForEach_reportsLowestFailingChunk_whateverTheSchedule() {
        for threads in [1, 2, 3] {
            XCTAssertThrowsError(
                try ParallelFor(threads: threads).forEach(chunks: 500, scratch: {}) {
                    (chunk: Int, _: inout Void) throws(Failure) in
                    if chunk % 97 == 41 { throw Failure(chunk: chunk) }
                }
            ) { error in
                XCTAssertEqual(error as? Failure, Failure(chunk: 41), "threads = \(threads)")
            }
        }
    }
}
