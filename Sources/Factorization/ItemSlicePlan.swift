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
    /// For each rank, how many users it ships to this one.
    let incomingUsers: [Int]

    /// Consecutive item slices, one per rank, of about equal work: an item costs its entries
    /// plus 64 (its f × f products, as `HalfSweep` counts a row). Item popularity follows a
    /// power law, so slices of equal item counts would leave one rank with most of the work.
    static func slices(entries: [Int], ranks: Int) -> [Range<Int>] {
        let work = entries.map { $0 + 64 }
        let total = work.reduce(0, +)
        var cuts = [0], done = 0
        for (item, w) in work.enumerated() {
            done += w
            while cuts.count < ranks, done * ranks >= total * cuts.count { cuts.append(item + 1) }
        }
        while cuts.count <= ranks { cuts.append(entries.count) }
        return (0..<ranks).map { cuts[$0]..<cuts[$0 + 1] }
    }

    init(weights: SparseMatrix, collective: any Collective) throws(TrainingError) {
        let ranks = collective.size
        var entries = [Int](repeating: 0, count: weights.columns)
        for c in weights.columnIndices { entries[Int(c)] += 1 }
        let slices = Self.slices(entries: collective.sum(entries), ranks: ranks)
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
        let (received, counts) = try Self.received(collective.exchange(messages), items: items.count)
        self.itemMajor = received.transposed()
        self.incomingUsers = counts
    }

    /// The senders' user rows, one after another, as one user-major matrix over the slice, and
    /// how many rows each sent.
    private static func received(_ messages: [[UInt8]], items: Int) throws(TrainingError) -> (SparseMatrix, [Int]) {
        var pointers = [0], indices: [Int32] = [], values: [Float] = [], counts: [Int] = []
        do {
            for message in messages {
                var r = WireReader(message)
                let base = indices.count
                let sent = try r.column(Int.self)
                counts.append(max(sent.count - 1, 0))
                pointers += sent.dropFirst().map { base + $0 }
                indices += try r.column(Int32.self)
                values += try r.floats()
                try r.finish()
            }
            return (try SparseMatrix(rows: pointers.count - 1, columns: items, rowPointers: pointers, columnIndices: indices, values: values), counts)
        } catch {
            throw .invalidInput(reason: "another rank's rows for this rank's items are malformed: \(error)")
        }
    }

    /// The factors of the users each rank's slice needs, shipped: what this rank receives, as
    /// the fixed side of its item half-sweep (row `k` for column `k` of `itemMajor`). Each
    /// message is the rows' floats alone (the plan says how many); this rank's own rows are
    /// copied, not sent.
    func shipUsers(_ users: Matrix, collective: any Collective) -> Matrix {
        let f = users.columns, rank = collective.rank
        let messages = outgoing.enumerated().map { d, rows in d == rank ? [] : Self.bytes(of: rows, in: users) }
        let incoming = collective.exchange(messages)
        var fixed = Matrix(rows: itemMajor.columns, columns: f)
        fixed.storage.withUnsafeMutableBytes { out in
            var at = 0
            for s in incoming.indices {
                if s == rank {
                    users.storage.withUnsafeBytes { from in
                        for row in outgoing[rank] {
                            out.baseAddress!.advanced(by: at).copyMemory(from: from.baseAddress! + row * f * 4, byteCount: f * 4)
                            at += f * 4
                        }
                    }
                } else {
                    precondition(incoming[s].count == incomingUsers[s] * f * 4, "rank \(s) shipped \(incoming[s].count) bytes of user factors, the plan says \(incomingUsers[s]) users")
                    incoming[s].withUnsafeBytes { out.baseAddress!.advanced(by: at).copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, byteCount: $0.count) }
                    at += incoming[s].count
                }
            }
        }
        return fixed
    }

    /// The rows' floats, one after another, as bytes.
    private static func bytes(of rows: [Int], in users: Matrix) -> [UInt8] {
        let width = users.columns * MemoryLayout<Float>.size
        return [UInt8](unsafeUninitializedCapacity: rows.count * width) { out, initialised in
            users.storage.withUnsafeBytes { from in
                for (k, row) in rows.enumerated() {
                    UnsafeMutableRawPointer(out.baseAddress!).advanced(by: k * width).copyMemory(from: from.baseAddress! + row * width, byteCount: width)
                }
            }
            initialised = rows.count * width
        }
    }
}
