/// Errors from the numeric core, each with what a person needs to act on it.
public enum LinalgError: Error, Equatable, CustomStringConvertible {
    /// A LAPACK factorisation met a leading minor that is not positive: the matrix is not
    /// positive definite (with ALS, usually zero regularization or non-finite factors).
    case notPositiveDefinite(routine: String, minor: Int)
    /// LAPACK rejected an argument; a bug in ConsentRec, never bad user data.
    case invalidArgument(routine: String, position: Int)
    /// A sparse matrix's arrays do not describe a valid CSR matrix.
    case invalidSparseMatrix(reason: String)

    public var description: String {
        switch self {
        case .notPositiveDefinite(let routine, let minor):
            "\(routine): the matrix is not positive definite (leading minor \(minor) is not "
                + "positive); increase regularization or check the input for non-finite values"
        case .invalidArgument(let routine, let position):
            "\(routine): argument \(position) is invalid (a bug in ConsentRec; please report it)"
        case .invalidSparseMatrix(let reason):
            "invalid sparse matrix: \(reason)"
        }
    }
}
