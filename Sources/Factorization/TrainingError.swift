import Linalg

/// Errors from training and using factor models, each readable without the source code.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// Which factor matrix a half-sweep was solving.
    public enum Side: String, Sendable { case users, items }

    case invalidConfiguration(field: String, reason: String)
    /// The interaction matrix cannot be trained on (negative values, wrong shape).
    case invalidInput(reason: String)
    /// A factor became NaN or infinite: divergence, usually from extreme α or λ = 0.
    case nonFiniteFactors(iteration: Int, side: Side, row: Int)
    /// A row's exact solve failed (its matrix was not positive definite).
    case solveFailed(iteration: Int, side: Side, row: Int, underlying: LinalgError)
    /// Another rank of a distributed fit (`DistributedALS`) failed; its reason.
    case otherRank(rank: Int, reason: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let field, let reason):
            "invalid ALS configuration: \(field) \(reason)"
        case .invalidInput(let reason):
            "cannot train on this interaction matrix: \(reason)"
        case .nonFiniteFactors(let iteration, let side, let row):
            "training diverged: \(side) factor row \(row) is not finite after iteration "
                + "\(iteration); lower alpha or raise regularization"
        case .solveFailed(let iteration, let side, let row, let underlying):
            "iteration \(iteration), \(side) row \(row): \(underlying)"
        case .otherRank(let rank, let reason):
            "rank \(rank) of the distributed fit: \(reason)"
        }
    }
}
