import Cluster
import ClusterMPI
import Foundation

// Run under `mpirun -np N`: each rank checks every collective against what it must receive and
// prints "rank R ok"; rank 0 prints the bits of the rank-ordered sum. With `abort K`, rank K
// aborts the job with status 3 before the others reach the barrier. With `als`, the distributed
// fit against one process's (ALSProbe.swift). With `build`, the global matrix built by every
// rank from its own people against one process's build (BuildProbe.swift). With `chunk B`, every message moves in rounds of
// at most B bytes.
let arguments = Array(CommandLine.arguments.dropFirst())
let world = arguments.first == "chunk" ? Communicator(chunkBytes: Int(arguments[1])!) : Communicator()
let rank = world.rank, size = world.size
if CommandLine.arguments.dropFirst().first == "als" {
    probeALS(world)
    world.finish()
    exit(0)
}
if CommandLine.arguments.dropFirst().first == "build" {
    probeBuild(world)
    world.finish()
    exit(0)
}
func fail(_ what: String) -> Never {
    print("rank \(rank) FAILED: \(what)")
    world.abort(status: 2)
}

// exchange: rank r sends rank d the byte r·16 + d, (r + 1)·(d + 1) times (nothing to itself on odd ranks).
let outgoing = (0..<size).map { d in rank % 2 == 1 && d == rank ? [] : [UInt8](repeating: UInt8(rank * 16 + d), count: (rank + 1) * (d + 1)) }
let incoming = world.exchange(outgoing)
for s in 0..<size {
    let expected = s % 2 == 1 && s == rank ? [] : [UInt8](repeating: UInt8(s * 16 + rank), count: (s + 1) * (rank + 1))
    if incoming[s] != expected { fail("exchange from \(s)") }
}

// gather: rank r contributes r bytes of value r.
let gathered = world.gather([UInt8](repeating: UInt8(rank), count: rank))
if gathered != (0..<size).map({ [UInt8](repeating: UInt8($0), count: $0) }) { fail("gather") }

// sum: rank r contributes [0.1·(r+1), 1e16, −1e16 + r]; added in rank order.
let total = world.sum([0.1 * Double(rank + 1), 1e16, -1e16 + Double(rank)])
if rank == 0 { print("sum " + total.map { String($0.bitPattern, radix: 16) }.joined(separator: " ")) }

if CommandLine.arguments.count == 3, CommandLine.arguments[1] == "abort", Int(CommandLine.arguments[2]) == rank {
    world.abort(status: 3)
}
world.barrier()
print("rank \(rank) ok")
world.finish()
