import Cluster
import Linalg
import Platform

/// Which user factors travel where in a `DistributedALS` fit, fixed once per fit: each rank
/// solves one slice of the items and needs the factors of exactly the users with an entry in
/// it. Built by one all-to-all of the entries themselves, so that every rank holds its slice's
/// item-major weights, its users in global row order — the order one process reads them in.
struct ItemSlicePlan {
    /// The items this rank solves.
    let items: Range<Int>
    /// The slice's weights, item-major; column `k` is the `k`-th user shipped to this rank
    /// (senders in rank order, each sender's rows in order).
    let itemMajor: SparseMatrix
    /// For each rank, this rank's rows with an entry in that rank's slice.
    let outgoing: [[Int]]

    /// The items rank `rank` of `ranks` solves: consecutive slices, as equal as they come.
    static func slice(of rank: Int, ranks: Int, items: Int) -> Range<Int> {
        rank * items / ranks..<(rank + 1) * items / ranks
    }

    init(weights: SparseMatrix, collective: any Collective) throws(TrainingError) {
        let ranks = collective.size
        let slices = (0..<ranks).map { Self.slice(of: $0, ranks: ranks, items: weights.columns) }
        var owner = [Int](repeating: 0, count: weights.columns)
        for (d, s) in slices.enumerated() { for c in s { owner[c] = d } }
        var outgoing = [[Int]](repeating: [], count: ranks)
        var pointers = [[Int]](repeating: [0], count: ranks)
        var indices = [[Int32]](repeating: [], count: ranks)
        var values = [[Float]](repeating: [], count: ranks)
        for row in 0..<weights.rows {
            let (columns, rowValues) = weights.row(row)
            for (c, v) in zip(columns, rowValues) {
                let d = owner[Int(c)]
                if outgoing[d].last != row {
                    outgoing[d].append(row)
                    pointers[d].append(pointers[d].last!)
                }
                indices[d].append(c - Int32(slices[d].lowerBound))
                values[d].append(v)
                pointers[d][pointers[d].count - 1] += 1
            }
        }
        let messages = (0..<ranks).map { d in
            var w = WireWriter()
            w.column(pointers[d])
            w.column(indices[d])
            w.floats(values[d])
            return w.bytes
        }
        self.items = slices[collective.rank]
        self.outgoing = outgoing
        self.itemMajor = try Self.received(collective.exchange(messages), items: items.count).transposed()
    }

    /// The senders' user rows, one after another, as one user-major matrix over the slice.
    private static func received(_ messages: [[UInt8]], items: Int) throws(TrainingError) -> SparseMatrix {
        var pointers = [0], indices: [Int32] = [], values: [Float] = []
        do {
            for message in messages {
                var r = WireReader(message)
                let base = indices.count
                pointers += try r.column(Int.self).dropFirst().map { base + $0 }
                indices += try r.column(Int32.self)
                values += try r.floats()
                try r.finish()
            }
            return try SparseMatrix(rows: pointers.count - 1, columns: items, rowPointers: pointers, columnIndices: indices, values: values)
        } catch {
            throw .invalidInput(reason: "another rank's rows for this rank's items are malformed: \(error)")
        }
    }

    /// The factors of the users each rank's slice needs, shipped: what this rank receives, as
    /// the fixed side of its item half-sweep (row `k` for column `k` of `itemMajor`).
    func shipUsers(_ users: Matrix, collective: any Collective) -> Matrix {
        let f = users.columns
        let messages = outgoing.map { rows in
            var block = [Float]()
            block.reserveCapacity(rows.count * f)
            for row in rows { block += users.storage[row * f..<(row + 1) * f] }
            var w = WireWriter()
            w.floats(block)
            return w.bytes
        }
        var storage = [Float]()
        storage.reserveCapacity(itemMajor.columns * f)
        for message in collective.exchange(messages) {
            var r = WireReader(message)
            guard let block = try? r.floats() else { preconditionFailure("a rank shipped malformed user factors") }
            storage += block
        }
        precondition(storage.count == itemMajor.columns * f, "the ranks shipped \(storage.count / max(f, 1)) users, the plan says \(itemMajor.columns)")
        return Matrix(rows: itemMajor.columns, columns: f, storage: storage)
    }
}
