import Factorization
import Interactions

/// A model the nightly trained on a matrix's training part to judge it, kept with the ids of
/// its rows and columns so that the full model can start from its factors.
public struct HeldOutModel: Sendable {
    public let model: ALSModel
    public let userIDs: [String]
    public let itemIDs: [String]

    /// Where a fit of `matrix` starts from this model: each of its users and items that this
    /// model has, by pseudonymous id; the others keep their seeded random start.
    public func warmStart(for matrix: InteractionMatrix) -> WarmStart {
        WarmStart(model: model, userRows: Self.rows(of: matrix.userIDs, in: userIDs), itemRows: Self.rows(of: matrix.itemIDs, in: itemIDs))
    }

    private static func rows(of ids: [String], in known: [String]) -> [Int32] {
        let index = Dictionary(known.enumerated().map { ($1, Int32($0)) }) { a, _ in a }
        return ids.map { index[$0] ?? -1 }
    }
}
