import Consent
import Linalg

/// One training matrix of a recommender: users × items of confidence weights, with the
/// pseudonymous id of every row and column.
public struct InteractionMatrix: Sendable, Equatable {
    public let recommender: RecommenderDefinition.Target
    public let scope: RecommenderDefinition.Scope
    /// The workspace's pseudonym for a per-workspace matrix; nil for a global one.
    public let workspace: String?
    /// Row ids: user pseudonyms, sorted.
    public let userIDs: [String]
    /// Column ids: channel pseudonyms, or emoji names; sorted.
    public let itemIDs: [String]
    public let matrix: SparseMatrix
    /// Global emoji: in how many workspaces each column's emoji was used (for the audit).
    public let itemWorkspaceCounts: [Int]?
    /// Global emoji: by how many users each column's emoji was used.
    public let itemUserCounts: [Int]?
    /// The workspaces and time span of the events that shaped this matrix.
    public let provenance: Provenance
}
