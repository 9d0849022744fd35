import Linalg

/// Scores items at random, seeded per user: the floor any ranking should clear.
public struct RandomBaseline: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    public func scores(user: Int, into scores: inout [Float]) {
        var rng = SeededGenerator(seed: seed &+ UInt64(user) &* 0x9E37_79B9_7F4A_7C15)
        for i in scores.indices { scores[i] = Float(rng.nextUnit()) }
    }
}
