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

    /// Initialises MPI (once per process) for the world communicator.
    public init() {
        var initialised: Int32 = 0
        MPI_Initialized(&initialised)
        if initialised == 0 { MPI_Init(nil, nil) }
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(cmpi_comm_world(), &r)
        MPI_Comm_size(cmpi_comm_world(), &s)
        rank = Int(r)
        size = Int(s)
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
    /// rank `s` sent to this one (MPI_Alltoallv). Each message is below 2 GiB.
    public func exchange(_ outgoing: [[UInt8]]) -> [[UInt8]] {
        precondition(outgoing.count == size, "one message per rank")
        var sendCounts = outgoing.map { Self.count($0.count) }
        var sendOffsets = Self.offsets(sendCounts)
        var send = Array(outgoing.joined())
        var receiveCounts = [Int32](repeating: 0, count: size)
        MPI_Alltoall(&sendCounts, 1, cmpi_int32(), &receiveCounts, 1, cmpi_int32(), cmpi_comm_world())
        var receiveOffsets = Self.offsets(receiveCounts)
        var receive = [UInt8](repeating: 0, count: Int(receiveCounts.reduce(0, +)))
        if send.isEmpty { send = [0] }  // a valid pointer even when nothing is sent
        if receive.isEmpty { receive = [0] }
        MPI_Alltoallv(&send, &sendCounts, &sendOffsets, cmpi_byte(), &receive, &receiveCounts, &receiveOffsets, cmpi_byte(), cmpi_comm_world())
        return (0..<size).map { s in Array(receive[Int(receiveOffsets[s])..<Int(receiveOffsets[s] + receiveCounts[s])]) }
    }

    /// Every rank's `bytes`, in rank order, on every rank (MPI_Allgatherv).
    public func gather(_ bytes: [UInt8]) -> [[UInt8]] {
        var mine = Self.count(bytes.count)
        var counts = [Int32](repeating: 0, count: size)
        MPI_Allgather(&mine, 1, cmpi_int32(), &counts, 1, cmpi_int32(), cmpi_comm_world())
        var offsets = Self.offsets(counts)
        var send = bytes.isEmpty ? [0] : bytes
        var receive = [UInt8](repeating: 0, count: max(1, Int(counts.reduce(0, +))))
        MPI_Allgatherv(&send, mine, cmpi_byte(), &receive, &counts, &offsets, cmpi_byte(), cmpi_comm_world())
        return (0..<size).map { s in Array(receive[Int(offsets[s])..<Int(offsets[s] + counts[s])]) }
    }

    private static func count(_ n: Int) -> Int32 {
        precondition(n < Int(Int32.max), "one message of \(n) bytes: above MPI's 2 GiB count")
        return Int32(n)
    }

    private static func offsets(_ counts: [Int32]) -> [Int32] {
        var at: Int64 = 0
        return counts.map { c in
            defer { at += Int64(c) }
            precondition(at < Int64(Int32.max), "messages above 2 GiB in all")
            return Int32(at)
        }
    }
}
