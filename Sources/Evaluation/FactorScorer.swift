import Linalg

/// Scores every item for a user as `x_u · y_i` from user and item factor matrices (one `sgemv`).
public struct FactorScorer: Sendable {
    public let userFactors: Matrix
    public let itemFactors: Matrix

    public init(userFactors: Matrix, itemFactors: Matrix) {
        precondition(userFactors.columns == itemFactors.columns, "factor counts differ")
        self.userFactors = userFactors
        self.itemFactors = itemFactors
    }

    public func scores(user: Int, into scores: inout [Float]) {
        let f = itemFactors.columns
        userFactors.storage.withUnsafeBufferPointer { x in
            itemFactors.storage.withUnsafeBufferPointer { y in
                scores.withUnsafeMutableBufferPointer { s in
                    BLAS.gemv(.none, rows: itemFactors.rows, columns: f, alpha: 1, a: y.baseAddress!, lda: f,
                              x: x.baseAddress! + user * f, beta: 0, y: s.baseAddress!)
                }
            }
        }
    }
}
