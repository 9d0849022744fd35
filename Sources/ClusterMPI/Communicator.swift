import CMPI
import Cluster

/// The ranks of one `mpirun` job (OpenMPI), and the collectives ConsentRec uses: the one Swift
/// file that calls MPI.
///
/// Every collective is deterministic: what a rank receives, and every sum, is the same for any
/// scheduling, and sums are taken in rank order (never MPI's own reduction order), so a result
/// can be made independent of the rank count by the caller's partitioning alone.
public final class Communicator: Collective, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// The most bytes one pair moves in one MPI call: every call's counts and offsets stay
    /// below MPI's 32-bit limit however large a message is.
    public let chunkBytes: Int

    /// Initialises MPI (once per process) for the world communicator.
    /// - Parameter chunkBytes: at most `(2³¹ − 1) / ranks`, the default; smaller only to test
    ///   messages that take many rounds.
    public init(chunkBytes: Int? = nil) {
        var initialised: Int32 = 0
        MPI_Initialized(&initialised)
        if initialised == 0 { MPI_Init(nil, nil) }
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(cmpi_comm_world(), &r)
        MPI_Comm_size(cmpi_comm_world(), &s)
        rank = Int(r)
        size = Int(s)
        let most = Int(Int32.max) / Swift.max(size, 1)
        self.chunkBytes = Swift.max(1, Swift.min(chunkBytes ?? most, most))
    }

    /// Ends MPI for this process; no collective may follow.
    public func finish() { MPI_Finalize() }

    public func barrier() { MPI_Barrier(cmpi_comm_world()) }

    /// Stops every rank of the job with `status` (MPI_Abort): a rank that fails takes the
    /// others down instead of leaving them waiting in a collective.
    public func abort(status: Int32) -> Never {
        MPI_Abort(cmpi_comm_world(), status)
        fatalError("MPI_Abort returned")
    }

    /// All-to-all exchange: `outgoing[d]` goes to rank `d`; the result's element `s` is what
    /// rank `s` sent to this one. Messages of any size: MPI counts are 32-bit, so the bytes go
    /// in rounds of at most `chunkBytes` per pair (MPI_Alltoallv each), as many as the largest
    /// message anywhere needs.
    public func exchange(_ outgoing: [[UInt8]]) -> [[UInt8]] {
        precondition(outgoing.count == size, "one message per rank")
        var sendSizes = outgoing.map { Int64($0.count) }
        var receiveSizes = [Int64](repeating: 0, count: size)
        MPI_Alltoall(&sendSizes, 1, cmpi_int64(), &receiveSizes, 1, cmpi_int64(), cmpi_comm_world())
        var incoming = receiveSizes.map { [UInt8](unsafeUninitializedCapacity: Int($0)) { _, n in n = 0 } }
        // Every rank makes the same number of calls: as many as the largest message anywhere needs.
        var largest = (sendSizes + receiveSizes).max() ?? 0
        var everyLargest = [Int64](repeating: 0, count: size)
        MPI_Allgather(&largest, 1, cmpi_int64(), &everyLargest, 1, cmpi_int64(), cmpi_comm_world())
        for round in 0..<rounds(largest: everyLargest.max() ?? 0) {
            let piece = { (total: Int) in Swift.min(round * self.chunkBytes, total)..<Swift.min((round + 1) * self.chunkBytes, total) }
            var sendCounts = outgoing.map { Int32(piece($0.count).count) }
            var sendOffsets = Self.offsets(sendCounts)
            var send = outgoing.flatMap { $0[piece($0.count)] }
            var receiveCounts = receiveSizes.map { Int32(piece(Int($0)).count) }
            var receiveOffsets = Self.offsets(receiveCounts)
            var receive = [UInt8](repeating: 0, count: Swift.max(1, Int(receiveCounts.reduce(0, +))))
            if send.isEmpty { send = [0] }  // a valid pointer even when nothing is sent
            MPI_Alltoallv(&send, &sendCounts, &sendOffsets, cmpi_byte(), &receive, &receiveCounts, &receiveOffsets, cmpi_byte(), cmpi_comm_world())
            for s in 0..<size { incoming[s] += receive[Int(receiveOffsets[s])..<Int(receiveOffsets[s] + receiveCounts[s])] }
        }
        return incoming
    }

    /// Every rank's `bytes`, in rank order, on every rank: in rounds of at most `chunkBytes`
    /// per rank (MPI_Allgatherv each), as many as the largest contribution needs.
    public func gather(_ bytes: [UInt8]) -> [[UInt8]] {
        var mine = Int64(bytes.count)
        var sizes = [Int64](repeating: 0, count: size)
        MPI_Allgather(&mine, 1, cmpi_int64(), &sizes, 1, cmpi_int64(), cmpi_comm_world())
        var all = sizes.map { [UInt8](unsafeUninitializedCapacity: Int($0)) { _, n in n = 0 } }
        for round in 0..<rounds(largest: sizes.max() ?? 0) {
            let piece = { (total: Int) in Swift.min(round * self.chunkBytes, total)..<Swift.min((round + 1) * self.chunkBytes, total) }
            var send = Array(bytes[piece(bytes.count)])
            let count = Int32(send.count)
            var counts = sizes.map { Int32(piece(Int($0)).count) }
            var offsets = Self.offsets(counts)
            var receive = [UInt8](repeating: 0, count: Swift.max(1, Int(counts.reduce(0, +))))
            if send.isEmpty { send = [0] }
            MPI_Allgatherv(&send, count, cmpi_byte(), &receive, &counts, &offsets, cmpi_byte(), cmpi_comm_world())
            for s in 0..<size { all[s] += receive[Int(offsets[s])..<Int(offsets[s] + counts[s])] }
        }
        return all
    }

    /// Rounds of `chunkBytes` for the largest message (at least one, so every rank takes part
    /// in the same number of calls).
    private func rounds(largest: Int64) -> Int {
        Swift.max(1, Int((largest + Int64(chunkBytes) - 1) / Int64(chunkBytes)))
    }

    private static func offsets(_ counts: [Int32]) -> [Int32] {
        var at: Int32 = 0
        return counts.map { c in
            defer { at += c }
            return at
        }
    }
}
