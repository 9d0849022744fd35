/// The person segments of a global matrix: its rows fall into `count` segments by their
/// workspace's pseudonym, and a distributed run gives each rank a run of consecutive segments —
/// the segments of the workspaces whose events it reads and owns. Rows are laid out segment
/// by segment, so each rank's people are consecutive rows, and every sum over people (the
/// users' Gram matrix, held-out metrics) is added segment by segment in segment order: the
/// same numbers on any number of ranks.
public enum PersonSegments {
    /// Enough that many ranks each hold some, few enough that a fit's per-segment Gram
    /// products are cheap to gather (256 × f² floats an iteration).
    public static let count = 256

    /// The segment of the people of a workspace, from its pseudonym (a keyed hash, so segments
    /// are balanced and say nothing about the ids).
    public static func segment(ofWorkspace pseudonym: String) -> Int {
        Int((UInt64(pseudonym.prefix(16), radix: 16) ?? fnv1a(pseudonym)) % UInt64(count))
    }

    /// The rank holding segment `s`: consecutive segments to each rank, stable for a rank count.
    public static func owner(ofSegment s: Int, ranks: Int) -> Int { s * ranks / count }

    /// The segments rank `rank` of `ranks` holds, in order.
    public static func held(by rank: Int, of ranks: Int) -> Range<Int> {
        let first = (0..<count).first { owner(ofSegment: $0, ranks: ranks) == rank } ?? count
        let end = (first..<count).first { owner(ofSegment: $0, ranks: ranks) != rank } ?? count
        return first..<end
    }

    private static func fnv1a(_ s: String) -> UInt64 {
        s.utf8.reduce(0xCBF2_9CE4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
    }
}
