@testable import Factorization
import XCTest

/// How a distributed fit cuts the items among the ranks: consecutive slices covering every
/// item once, of about equal work even when a few items hold most entries.
final class ItemSlicePlanTests: XCTestCase {
    func testSlices_coverEveryItemOnce_inOrder_withAboutEqualWork() {
        // A power law: item k holds about 100000 / (k + 1) entries, in a shuffled order.
        var entries = (0..<500).map { 100_000 / ($0 + 1) }
        var generator = SystemRandomNumberGenerator()
        entries.shuffle(using: &generator)
        for ranks in [1, 2, 3, 7] {
            let slices = ItemSlicePlan.slices(entries: entries, ranks: ranks)
            XCTAssertEqual(slices.count, ranks)
            XCTAssertEqual(slices.first?.lowerBound, 0)
            XCTAssertEqual(slices.last?.upperBound, entries.count)
            for (a, b) in zip(slices, slices.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound, "consecutive") }
            let work = slices.map { s in s.reduce(0) { $0 + entries[$1] + 64 } }
            let total = work.reduce(0, +), largestItem = entries.max()! + 64
            for w in work {
                XCTAssertLessThanOrEqual(w, total / ranks + largestItem, "\(ranks) ranks: \(work)")
            }
        }
    }

    func testSlices_withMoreRanksThanItems_leaveSomeEmpty() {
        let slices = ItemSlicePlan.slices(entries: [5, 1], ranks: 4)
        XCTAssertEqual(slices.count, 4)
        XCTAssertEqual(slices.map(\.count).reduce(0, +), 2)
        XCTAssertEqual(slices.last?.upperBound, 2)
        XCTAssertEqual(ItemSlicePlan.slices(entries: [], ranks: 3), [0..<0, 0..<0, 0..<0])
    }
}
