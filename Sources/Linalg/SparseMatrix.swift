/// A sparse matrix in compressed sparse row (CSR) form, `Float` values.
///
/// Row `r` holds the entries `rowPointers[r]..<rowPointers[r + 1]` of `columnIndices` and
/// `values`, with strictly increasing column indices. ALS reads the user-major form for the
/// user half-sweep and the item-major form (`transposed()`) for the item half-sweep.
public struct SparseMatrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public private(set) var rowPointers: [Int]
    public private(set) var columnIndices: [Int32]
    public private(set) var values: [Float]

    /// Wraps CSR arrays after checking that they describe a valid matrix.
    /// - Throws: `LinalgError.invalidSparseMatrix` naming the first problem found.
    public init(
        rows: Int, columns: Int, rowPointers: [Int], columnIndices: [Int32], values: [Float]
    ) throws(LinalgError) {
        guard rows >= 0, columns >= 0, columns <= Int(Int32.max) else {
            throw .invalidSparseMatrix(reason: "dimensions \(rows) × \(columns) are out of range")
        }
        guard rowPointers.count == rows + 1, rowPointers.first == 0 else {
            throw .invalidSparseMatrix(reason: "row pointers must hold rows + 1 entries from 0")
        }
        guard columnIndices.count == values.count, rowPointers[rows] == values.count else {
            throw .invalidSparseMatrix(reason: "the last row pointer must equal the entry count")
        }
        for r in 0..<rows {
            let start = rowPointers[r], end = rowPointers[r + 1]
            guard start <= end else {
                throw .invalidSparseMatrix(reason: "row pointers decrease at row \(r)")
            }
            var previous: Int32 = -1
            for k in start..<end {
                let c = columnIndices[k]
                guard c > previous, Int(c) < columns else {
                    throw .invalidSparseMatrix(
                        reason: "row \(r): column \(c) is out of range, repeated or out of order")
                }
                guard values[k].isFinite else {
                    throw .invalidSparseMatrix(reason: "row \(r), column \(c): value is not finite")
                }
                previous = c
            }
        }
        self.init(
            unchecked: rows, columns: columns, rowPointers: rowPointers,
            columnIndices: columnIndices, values: values)
    }

    init(unchecked rows: Int, columns: Int, rowPointers: [Int], columnIndices: [Int32], values: [Float]) {
        self.rows = rows
        self.columns = columns
        self.rowPointers = rowPointers
        self.columnIndices = columnIndices
        self.values = values
    }

    /// Builds a matrix from coordinate triplets; entries at the same position are summed, in
    /// ascending order of value — so the sum's bits do not depend on the order of the triplets
    /// (float addition is not associative: 0.1 + 0.1 + 2 and 2 + 0.1 + 0.1 differ).
    ///
    /// A counting sort by row, then a sort of each row by column and value: O(nnz log(row length)).
    /// - Throws: `LinalgError.invalidSparseMatrix` for an index out of range or a non-finite
    ///   value.
    public init(
        rows: Int, columns: Int, rowIndices: [Int32], columnIndices: [Int32], values: [Float]
    ) throws(LinalgError) {
        guard rowIndices.count == columnIndices.count, rowIndices.count == values.count else {
            throw .invalidSparseMatrix(reason: "coordinate arrays differ in length")
        }
        var counts = [Int](repeating: 0, count: rows + 1)
        for k in rowIndices.indices {
            let r = Int(rowIndices[k]), c = Int(columnIndices[k])
            guard r >= 0, r < rows, c >= 0, c < columns else {
                throw .invalidSparseMatrix(reason: "entry \(k) at (\(r), \(c)) is outside "
                    + "\(rows) × \(columns)")
            }
            guard values[k].isFinite else {
                throw .invalidSparseMatrix(reason: "entry \(k) at (\(r), \(c)) is not finite")
            }
            counts[r + 1] += 1
        }
        for r in 0..<rows { counts[r + 1] += counts[r] }
        var order = [Int](repeating: 0, count: values.count)
        var fill = counts
        for k in rowIndices.indices {
            let r = Int(rowIndices[k])
            order[fill[r]] = k
            fill[r] += 1
        }
        var pointers = [Int](repeating: 0, count: rows + 1)
        var outColumns = [Int32]()
        var outValues = [Float]()
        outColumns.reserveCapacity(values.count)
        outValues.reserveCapacity(values.count)
        var keys = [UInt64]()
        for r in 0..<rows {
            // Sort by (column, value), packed into one integer: duplicates then always add up
            // in the same order, to the same bits, whatever order they came in.
            keys.removeAll(keepingCapacity: true)
            for k in order[counts[r]..<counts[r + 1]] {
                keys.append(UInt64(UInt32(columnIndices[k])) << 32 | UInt64(Self.orderedBits(values[k])))
            }
            keys.sort()
            for key in keys {
                let c = Int32(truncatingIfNeeded: key >> 32)
                let value = Self.value(orderedBits: UInt32(truncatingIfNeeded: key))
                if outColumns.count > pointers[r], outColumns[outColumns.count - 1] == c {
                    outValues[outValues.count - 1] += value
                } else {
                    outColumns.append(c)
                    outValues.append(value)
                }
            }
            pointers[r + 1] = outColumns.count
        }
        self.init(
            unchecked: rows, columns: columns, rowPointers: pointers, columnIndices: outColumns,
            values: outValues)
    }

    /// A float's bits mapped so that unsigned integer order is the numbers' order (−0 just
    /// before +0): flip every bit of a negative, the sign bit of a positive.
    @inline(__always)
    static func orderedBits(_ value: Float) -> UInt32 {
        let bits = value.bitPattern
        return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    }

    /// The inverse of `orderedBits`.
    @inline(__always)
    static func value(orderedBits bits: UInt32) -> Float {
        Float(bitPattern: bits & 0x8000_0000 != 0 ? bits & 0x7FFF_FFFF : ~bits)
    }

    /// The number of stored entries.
    public var nonZeros: Int { values.count }

    /// The number of stored entries in one row.
    public func count(ofRow row: Int) -> Int { rowPointers[row + 1] - rowPointers[row] }

    /// Entries per column.
    public var columnCounts: [Int] {
        var counts = [Int](repeating: 0, count: columns)
        for c in columnIndices { counts[Int(c)] += 1 }
        return counts
    }

    /// The column indices and values of one row.
    public func row(_ r: Int) -> (columns: ArraySlice<Int32>, values: ArraySlice<Float>) {
        let range = rowPointers[r]..<rowPointers[r + 1]
        return (columnIndices[range], values[range])
    }

    /// The rows `range`, every column: a matrix of `range.count` rows.
    public func rows(_ range: Range<Int>) -> SparseMatrix {
        let entries = rowPointers[range.lowerBound]..<rowPointers[range.upperBound]
        return SparseMatrix(
            unchecked: range.count, columns: columns, rowPointers: rowPointers[range.lowerBound...range.upperBound].map { $0 - entries.lowerBound },
            columnIndices: Array(columnIndices[entries]), values: Array(values[entries]))
    }

    /// The transpose, in CSR form: for a user × item matrix, the item-major form.
    ///
    /// A counting sort over columns; visiting rows in order leaves each output row sorted.
    public func transposed() -> SparseMatrix {
        var pointers = [Int](repeating: 0, count: columns + 1)
        for c in columnIndices { pointers[Int(c) + 1] += 1 }
        for c in 0..<columns { pointers[c + 1] += pointers[c] }
        var fill = pointers
        var outColumns = [Int32](repeating: 0, count: nonZeros)
        var outValues = [Float](repeating: 0, count: nonZeros)
        for r in 0..<rows {
            for k in rowPointers[r]..<rowPointers[r + 1] {
                let c = Int(columnIndices[k])
                outColumns[fill[c]] = Int32(r)
                outValues[fill[c]] = values[k]
                fill[c] += 1
            }
        }
        return SparseMatrix(
            unchecked: columns, columns: rows, rowPointers: pointers, columnIndices: outColumns,
            values: outValues)
    }

    /// The same sparsity pattern with `transform` applied to every value, dropping entries for
    /// which it returns `nil`.
    public func compactMapValues(_ transform: (Float) -> Float?) -> SparseMatrix {
        var pointers = [Int](repeating: 0, count: rows + 1)
        var outColumns = [Int32]()
        var outValues = [Float]()
        outColumns.reserveCapacity(nonZeros)
        outValues.reserveCapacity(nonZeros)
        for r in 0..<rows {
            for k in rowPointers[r]..<rowPointers[r + 1] {
                if let v = transform(values[k]) {
                    outColumns.append(columnIndices[k])
                    outValues.append(v)
                }
            }
            pointers[r + 1] = outColumns.count
        }
        return SparseMatrix(
            unchecked: rows, columns: columns, rowPointers: pointers, columnIndices: outColumns,
            values: outValues)
    }

    /// Cuts the rows into consecutive ranges of roughly `targetWork` units, where a row costs
    /// its entry count plus `rowCost`.
    ///
    /// The cut depends on the matrix alone, never on a thread count, which is what lets a
    /// `ParallelFor` over these ranges produce the same bytes with any number of threads.
    public func rowChunks(targetWork: Int, rowCost: Int) -> [Range<Int>] {
        var chunks = [Range<Int>]()
        var start = 0
        var work = 0
        for r in 0..<rows {
            work += count(ofRow: r) + rowCost
            if work >= targetWork {
                chunks.append(start..<(r + 1))
                start = r + 1
                work = 0
            }
        }
        if start < rows { chunks.append(start..<rows) }
        return chunks
    }
}
