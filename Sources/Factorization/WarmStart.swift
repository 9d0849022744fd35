import Linalg

/// Factors to start a fit from instead of seeded random ones: the rows of an earlier model
/// (the nightly's held-out model, trained on most of the same data) laid onto the new
/// matrix's rows and columns.
///
/// A row or column the earlier model lacks keeps the seeded random start a cold fit gives it,
/// so a warm fit depends only on its inputs, seed and earlier model: as reproducible as a
/// cold one. Which rows match is the caller's business (by id); this type only holds the map.
public struct WarmStart: Sendable {
    public let model: ALSModel
    /// For each row of the new matrix, the earlier model's user row, or -1.
    public let userRows: [Int32]
    /// For each column of the new matrix, the earlier model's item row, or -1.
    public let itemRows: [Int32]

    /// True for a start from item factors alone (a published model holds no user factors):
    /// the fit then solves every user against them once before its first iteration, so that
    /// the first item half-sweep starts from users that agree with the items.
    public let startsFromItems: Bool

    public init(model: ALSModel, userRows: [Int32], itemRows: [Int32]) {
        self.model = model
        self.userRows = userRows
        self.itemRows = itemRows
        startsFromItems = false
    }

    /// A start from published item factors: `itemRows` maps each column of the new matrix to a
    /// row of `itemFactors` (-1: an item the earlier model lacks, which keeps its seeded random
    /// start); items the new matrix lacks are dropped. Users are solved first.
    public init(itemFactors: Matrix, itemRows: [Int32], users: Int, configuration: ALSConfiguration) {
        model = ALSModel(configuration: configuration, userFactors: Matrix(rows: 0, columns: itemFactors.columns), itemFactors: itemFactors)
        userRows = [Int32](repeating: -1, count: users)
        self.itemRows = itemRows
        startsFromItems = true
    }

    /// Rows of the new matrix that start from the earlier model.
    public var knownUsers: Int { userRows.count { $0 >= 0 } }
    /// Columns of the new matrix that start from the earlier model.
    public var knownItems: Int { itemRows.count { $0 >= 0 } }

    /// Checks the map against the matrix being fitted and the factor count.
    func validate(rows: Int, columns: Int, factors: Int) throws(TrainingError) {
        guard userRows.count == rows, itemRows.count == columns else {
            throw .invalidInput(reason: "the warm start maps \(userRows.count) × \(itemRows.count) rows and columns "
                + "onto a \(rows) × \(columns) matrix")
        }
        guard model.itemFactors.columns == factors, model.userFactors.columns == factors else {
            throw .invalidInput(reason: "the warm start has \(model.itemFactors.columns) factors, the fit \(factors)")
        }
        guard userRows.allSatisfy({ $0 < model.userFactors.rows }), itemRows.allSatisfy({ $0 < model.itemFactors.rows })
        else { throw .invalidInput(reason: "the warm start maps onto a row its model does not have") }
    }

    /// Overwrites the mapped rows of the random start with the earlier model's factors.
    func apply(users: inout Matrix, items: inout Matrix) {
        Self.copy(model.userFactors, rows: userRows, into: &users)
        Self.copy(model.itemFactors, rows: itemRows, into: &items)
    }

    private static func copy(_ source: Matrix, rows: [Int32], into target: inout Matrix) {
        let f = target.columns
        for (row, from) in rows.enumerated() where from >= 0 {
            let start = Int(from) * f
            target.storage.replaceSubrange(row * f..<(row + 1) * f, with: source.storage[start..<start + f])
        }
    }
}
