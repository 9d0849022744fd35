import Ingest

/// One trained matrix: its shape and what its thresholds removed.
public struct MatrixUsage: Sendable, Equatable, Codable {
    public let recommender: RecommenderDefinition.Target
    public let scope: RecommenderDefinition.Scope
    /// The workspace's pseudonym for a per-workspace matrix; nil for a global one.
    public let workspace: String?
    public let users: Int
    public let items: Int
    public let nonZeros: Int
    public let usersRemovedByThresholds: Int
    public let itemsRemovedByThresholds: Int
    public let interactionsRemovedByThresholds: Int
    /// Global emoji only: emoji left out for too few workspaces or users.
    public let itemsRemovedBySupport: Int
}

/// What went into a run: the read (`DataUsage`) and every matrix built from it. Encoded as one
/// flat object — the read's fields and `matrices` side by side — as the run manifest's `usage`.
@dynamicMemberLookup
public struct RunUsage: Sendable, Equatable, Codable {
    public var read: DataUsage
    public var matrices: [MatrixUsage]

    public init(read: DataUsage, matrices: [MatrixUsage] = []) {
        self.read = read
        self.matrices = matrices
    }

    public subscript<T>(dynamicMember keyPath: WritableKeyPath<DataUsage, T>) -> T {
        get { read[keyPath: keyPath] }
        set { read[keyPath: keyPath] = newValue }
    }

    enum CodingKeys: String, CodingKey { case matrices }

    public init(from decoder: any Decoder) throws {
        read = try DataUsage(from: decoder)
        matrices = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent([MatrixUsage].self, forKey: .matrices) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        try read.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(matrices, forKey: .matrices)
    }
}
