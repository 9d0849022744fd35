import Linalg

/// Ranks every user's items by how many training users interacted with them: the baseline a
/// personalised model must beat.
public struct PopularityBaseline: Sendable {
    /// Items from most to least popular; ties by lower index.
    public let ranking: [Int]

    public init(train: SparseMatrix) {
        var users = [Int](repeating: 0, count: train.columns)
        for c in train.columnIndices { users[Int(c)] += 1 }
        ranking = users.indices.sorted { (users[$0], -$0) > (users[$1], -$1) }
    }

    /// The `k` most popular items not in `exclude`.
    public func recommend(k: Int, excluding exclude: some Sequence<Int32>) -> [Int] {
        let excluded = Set(exclude.map(Int.init))
        var result = [Int]()
        result.reserveCapacity(k)
        for item in ranking where !excluded.contains(item) {
            result.append(item)
            if result.count == k { break }
        }
        return result
    }
}
