import Consent
import Linalg

/// One training matrix of a recommender: users × items of confidence weights, with the
/// pseudonymous id of every row and column.
public struct InteractionMatrix: Sendable, Equatable {
    public let recommender: RecommenderDefinition.Target
    public let scope: RecommenderDefinition.Scope
    /// The workspace's pseudonym for a per-workspace matrix; nil for a global one.
    public let workspace: String?
    /// Row ids: user pseudonyms, sorted (a global matrix's: by person segment, then pseudonym).
    public let userIDs: [String]
    /// Column ids: channel pseudonyms, or emoji names; sorted.
    public let itemIDs: [String]
    /// The rows held here: all of them, or a rank's share of a global matrix (`persons`).
    public let matrix: SparseMatrix
    /// Global emoji: in how many workspaces each column's emoji was used (for the audit).
    public let itemWorkspaceCounts: [Int]?
    /// Global emoji: by how many users each column's emoji was used.
    public let itemUserCounts: [Int]?
    /// The workspaces and time span of the events that shaped this matrix (all of it).
    public let provenance: Provenance
    /// A global matrix's person segments and the whole matrix's figures; nil for a workspace's.
    public var persons: PersonRows? = nil

    /// Users of the whole matrix (every rank's rows of a global one).
    public var totalUsers: Int { persons?.totalRows ?? matrix.rows }
    /// Non-zeros of the whole matrix.
    public var totalNonZeros: Int { persons?.totalNonZeros ?? matrix.nonZeros }
    /// Users per column over the whole matrix: the popularity baseline's counts.
    public var columnUsers: [Int] { persons?.columnUsers ?? matrix.columnCounts }
}

/// A global matrix's rows as one holder has them — every row in one process, a rank's run of
/// person segments in a distributed run (`PersonSegments`) — and what the whole matrix holds.
public struct PersonRows: Sendable, Equatable {
    /// The segments held, in order.
    public let segments: Range<Int>
    /// Each held segment's rows, in the holder's row numbers: consecutive, covering its rows.
    public let rows: [Range<Int>]
    /// The whole matrix's row of the holder's first.
    public let firstRow: Int
    public let totalRows: Int
    public let totalNonZeros: Int
    /// Users per column over the whole matrix.
    public let columnUsers: [Int]

    public init(segments: Range<Int>, rows: [Range<Int>], firstRow: Int, totalRows: Int, totalNonZeros: Int, columnUsers: [Int]) {
        self.segments = segments
        self.rows = rows
        self.firstRow = firstRow
        self.totalRows = totalRows
        self.totalNonZeros = totalNonZeros
        self.columnUsers = columnUsers
    }

    /// Rows of the same people over other columns (a held-out part laid on its training matrix).
    public func with(totalNonZeros: Int, columnUsers: [Int]) -> PersonRows {
        PersonRows(segments: segments, rows: rows, firstRow: firstRow, totalRows: totalRows, totalNonZeros: totalNonZeros, columnUsers: columnUsers)
    }
}
