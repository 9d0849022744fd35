import Linalg

/// Scores every item by how many training users interacted with it: the baseline a
/// personalised model must beat. Built per matrix, so for channels it is per workspace.
public struct PopularityBaseline: Sendable {
    public let counts: [Float]

    public init(train: SparseMatrix) {
        var users = [Float](repeating: 0, count: train.columns)
        for c in train.columnIndices { users[Int(c)] += 1 }
        counts = users
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
