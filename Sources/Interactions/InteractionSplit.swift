import Linalg

/// Splits of an interaction matrix into training and held-out test entries.
public enum InteractionSplit {
    /// Puts each stored entry in the test matrix with probability `testFraction`, seeded;
    /// the same split `implicit.evaluation.train_test_split` makes. Both matrices keep the
    /// full shape, and every entry lands in exactly one of them.
    public static func random(
        _ matrix: SparseMatrix, testFraction: Double, seed: UInt64
    ) -> (train: SparseMatrix, test: SparseMatrix) {
        precondition((0...1).contains(testFraction), "test fraction must be in 0…1")
        var rng = SeededGenerator(seed: seed)
        let inTest = (0..<matrix.nonZeros).map { _ in rng.nextUnit() < testFraction }
        var k = -1
        let train = matrix.compactMapValues { v in k += 1; return inTest[k] ? nil : v }
        k = -1
        let test = matrix.compactMapValues { v in k += 1; return inTest[k] ? v : nil }
        return (train, test)
    }
}
