import Foundation

/// The ranks of a distributed run and the collectives its stages use, whatever carries them:
/// `SingleRank` for a run in one process, OpenMPI (`ClusterMPI.Communicator`) across machines.
/// A stage written against this protocol runs the same code in both, which is how a
/// distributed run gives the bytes a one-process run gives.
///
/// Every collective is called by every rank, in the same order; what a rank receives does not
/// depend on scheduling. Messages are bytes (`WireWriter`); sums are never left to the
/// transport's reduction order.
public protocol Collective: Sendable {
    var rank: Int { get }
    var size: Int { get }
    /// All-to-all: `outgoing[d]` goes to rank `d`; element `s` of the result came from rank `s`.
    func exchange(_ outgoing: [[UInt8]]) -> [[UInt8]]
    /// Every rank's `bytes`, in rank order, on every rank.
    func gather(_ bytes: [UInt8]) -> [[UInt8]]
    /// Stops every rank with `status`: for a failure the others cannot be told of in order.
    func abort(status: Int32) -> Never
}

/// A run in one process: rank 0 of 1.
public struct SingleRank: Collective {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func exchange(_ outgoing: [[UInt8]]) -> [[UInt8]] { outgoing }
    public func gather(_ bytes: [UInt8]) -> [[UInt8]] { [bytes] }
    public func abort(status: Int32) -> Never { exit(status) }
}

extension Collective {
    public var isLeader: Bool { rank == 0 }

    /// Rank 0's `bytes` on every rank (the others' are ignored).
    public func broadcast(_ bytes: [UInt8]) -> [UInt8] { gather(isLeader ? bytes : [])[0] }

    /// The element-wise sum of every rank's `values`, added in rank order on every rank.
    public func sum(_ values: [Double]) -> [Double] { summed(values, zero: 0, +) }

    /// The element-wise sum of every rank's counts (exact).
    public func sum(_ values: [Int]) -> [Int] { summed(values, zero: 0, +) }

    /// Every rank's `values` gathered and added element by element, in rank order.
    private func summed<T: BitwiseCopyable>(_ values: [T], zero: T, _ add: (T, T) -> T) -> [T] {
        let width = MemoryLayout<T>.stride
        var total = [T](repeating: zero, count: values.count)
        for part in gather(values.withUnsafeBytes { Array($0) }) {
            precondition(part.count == values.count * width, "every rank sums a vector of the same length")
            part.withUnsafeBytes { raw in
                for i in total.indices { total[i] = add(total[i], raw.loadUnaligned(fromByteOffset: i * width, as: T.self)) }
            }
        }
        return total
    }

    /// Whether any rank says true.
    public func any(_ flag: Bool) -> Bool { size == 1 ? flag : !all(!flag) }

    /// Whether every rank says true.
    public func all(_ flag: Bool) -> Bool { gather([flag ? 1 : 0]).allSatisfy { $0 == [1] } }
}
