import Linalg

/// Small random inputs for tests, reproducible from a seed.
public enum RandomInputs {
    /// A matrix with elements uniform in `[-1, 1)`.
    public static func matrix(rows: Int, columns: Int, seed: UInt64) -> Matrix {
        var rng = SeededGenerator(seed: seed)
        var m = Matrix(rows: rows, columns: columns)
        for i in m.storage.indices { m.storage[i] = Float(rng.nextUnit() * 2 - 1) }
        return m
    }

    /// A sparse matrix where each entry is present with probability `density`, with values
    /// in `1…5` (interaction counts).
    public static func sparse(rows: Int, columns: Int, density: Double, seed: UInt64) -> SparseMatrix {
        var rng = SeededGenerator(seed: seed)
        var r = [Int32](), c = [Int32](), v = [Float]()
        for i in 0..<rows {
            for j in 0..<columns where rng.nextUnit() < density {
                r.append(Int32(i))
                c.append(Int32(j))
                v.append(Float(1 + rng.nextIndex(below: 5)))
            }
        }
        return try! SparseMatrix(rows: rows, columns: columns, rowIndices: r, columnIndices: c, values: v)
    }

    /// Every element of a sparse matrix, densely, in `Double`.
    public static func dense(_ m: SparseMatrix) -> [[Double]] {
        var d = [[Double]](repeating: [Double](repeating: 0, count: m.columns), count: m.rows)
        for u in 0..<m.rows {
            for (i, v) in zip(m.row(u).columns, m.row(u).values) { d[u][Int(i)] += Double(v) }
        }
        return d
    }
}
