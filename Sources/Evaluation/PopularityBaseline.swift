import Linalg

/// Scores every item by how many training users interacted with it: the baseline a
/// personalised model must beat. Built per matrix, so for channels it is per workspace.
public struct PopularityBaseline: Sendable, Equatable {
    /// Users per item.
    public let counts: [Float]
    /// `counts` divided by the largest count: the prior a blend adds (all 0 when no item has a
    /// user).
    public let prior: [Float]

    public init(train: SparseMatrix) {
        var users = [Float](repeating: 0, count: train.columns)
        for c in train.columnIndices { users[Int(c)] += 1 }
        self.init(counts: users)
    }

    /// From the users per item a model file records.
    public init(counts: [Float]) {
        self.counts = counts
        let top = counts.max() ?? 0
        prior = top > 0 ? counts.map { $0 / top } : counts.map { _ in 0 }
    }

    public func scores(user: Int, into scores: inout [Float]) {
        for i in scores.indices { scores[i] = counts[i] }
    }

    /// The `k` most popular items not in `exclude`, most popular first (ties: lower index).
    public func recommend(k: Int, excluding exclude: some Sequence<Int32>) -> [Int] {
        var scores = counts
        for i in exclude { scores[Int(i)] = -.infinity }
        return scores.withUnsafeBufferPointer { TopK.select($0, k: k) }.map(\.index)
    }
}
