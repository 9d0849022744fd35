/// An item and its score in a ranking.
public struct ScoredItem: Sendable, Equatable, CustomStringConvertible {
    /// Row of the item in the item factors.
    public let index: Int
    public let score: Float

    public init(index: Int, score: Float) {
        self.index = index
        self.score = score
    }

    public var description: String { "\(index): \(score)" }
}

/// Partial selection of the `k` best scores.
public enum TopK {
    /// The `k` highest scores, best first; equal scores rank the lower index first, so the
    /// order is total and reproducible. Entries that are NaN or `-infinity` are never picked
    /// (callers mark excluded items with `-infinity`).
    ///
    /// A bounded min-heap: O(n log k) time, O(k) memory, no full sort of the n scores.
    public static func select(_ scores: UnsafeBufferPointer<Float>, k: Int) -> [ScoredItem] {
        guard k > 0 else { return [] }
        var heap = [ScoredItem]()
        heap.reserveCapacity(k)
        for (index, score) in scores.enumerated() where score > -Float.infinity {
            let candidate = ScoredItem(index: index, score: score)
            if heap.count < k {
                heap.append(candidate)
                siftUp(&heap, heap.count - 1)
            } else if ranksAbove(candidate, heap[0]) {
                heap[0] = candidate
                siftDown(&heap, 0)
            }
        }
        return heap.sorted(by: ranksAbove)
    }

    /// The ranking order: higher score first, then lower index.
    @inline(__always)
    static func ranksAbove(_ a: ScoredItem, _ b: ScoredItem) -> Bool {
        a.score > b.score || (a.score == b.score && a.index < b.index)
    }

    // The heap keeps the item that ranks lowest at its root.
    private static func siftUp(_ heap: inout [ScoredItem], _ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard ranksAbove(heap[parent], heap[child]) else { return }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private static func siftDown(_ heap: inout [ScoredItem], _ start: Int) {
        var parent = start
        while true {
            var lowest = parent
            for child in [2 * parent + 1, 2 * parent + 2] where child < heap.count {
                if ranksAbove(heap[lowest], heap[child]) { lowest = child }
            }
            if lowest == parent { return }
            heap.swapAt(parent, lowest)
            parent = lowest
        }
    }
}
