/// A dense row-major matrix of `Float`.
///
/// Factor matrices (users × factors, items × factors) are stored this way so that one entity's
/// vector is one contiguous row: the form BLAS, safetensors and numpy all read without copies.
public struct Matrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    /// The elements, row after row: element `(r, c)` is at `r * columns + c`.
    public var storage: [Float]

    /// A `rows × columns` matrix with every element set to `value`.
    public init(rows: Int, columns: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && columns >= 0, "matrix dimensions must be non-negative")
        self.rows = rows
        self.columns = columns
        self.storage = [Float](repeating: value, count: rows * columns)
    }

    /// A matrix over existing row-major storage.
    public init(rows: Int, columns: Int, storage: [Float]) {
        precondition(storage.count == rows * columns, "storage holds \(storage.count) elements, "
            + "a \(rows) × \(columns) matrix needs \(rows * columns)")
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    public subscript(row: Int, column: Int) -> Float {
        get { storage[row * columns + column] }
        set { storage[row * columns + column] = newValue }
    }

    /// A copy of one row.
    public func row(_ index: Int) -> [Float] {
        Array(storage[index * columns..<(index + 1) * columns])
    }

    /// True when no element is NaN or infinite.
    public var isFinite: Bool {
        storage.withUnsafeBufferPointer { buffer in
            // A sum of all elements is finite iff every element is; the loop vectorises and
            // costs one pass, which matters because the trainer checks after every half-sweep.
            var acc: Float = 0
            for v in buffer { acc += v * 0 }
            return acc == 0
        }
    }

    /// The index of the first row holding a non-finite element, if any.
    public func firstNonFiniteRow() -> Int? {
        guard let i = storage.firstIndex(where: { !$0.isFinite }) else { return nil }
        return i / max(columns, 1)
    }

    /// A matrix with uniform random elements in `[0, scale)` drawn row by row from `generator`.
    public static func random(
        rows: Int, columns: Int, scale: Float, using generator: inout some RandomNumberGenerator
    ) -> Matrix {
        random(rows: rows, columns: columns, scale: scale, keeping: 0..<rows, using: &generator)
    }

    /// Rows `keeping` of `random(rows:columns:scale:using:)`, drawing every row's numbers (the
    /// generator ends where it would) but storing only those: a rank's share of a start.
    public static func random(
        rows: Int, columns: Int, scale: Float, keeping: Range<Int>, using generator: inout some RandomNumberGenerator
    ) -> Matrix {
        var m = Matrix(rows: keeping.count, columns: columns)
        let kept = keeping.lowerBound * columns..<keeping.upperBound * columns
        for i in 0..<rows * columns {
            // 24 random bits give every representable Float in [0, 1) a fair share.
            let value = Float(generator.next() >> 40) * (scale / 16_777_216)
            if kept.contains(i) { m.storage[i - kept.lowerBound] = value }
        }
        return m
    }
}
