import Foundation
import Linalg

/// Independent reference computations in `Double`, written the naive way on purpose: dense
/// matrices, explicit loops, no BLAS. Tests compare the optimised code against these.
public enum DenseReference {
    /// Solves `A·x = b` by Gaussian elimination with partial pivoting.
    public static func solve(_ a: [[Double]], _ b: [Double]) -> [Double] {
        let n = b.count
        var m = a
        var rhs = b
        for col in 0..<n {
            let pivot = (col..<n).max { abs(m[$0][col]) < abs(m[$1][col]) }!
            m.swapAt(col, pivot)
            rhs.swapAt(col, pivot)
            for row in (col + 1)..<n {
                let factor = m[row][col] / m[col][col]
                for j in col..<n { m[row][j] -= factor * m[col][j] }
                rhs[row] -= factor * rhs[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var s = rhs[row]
            for j in (row + 1)..<n { s -= m[row][j] * x[j] }
            x[row] = s / m[row][row]
        }
        return x
    }

    /// The exact implicit-ALS solution of one row, from the normal equations written out in
    /// full: `(Σ_all yyᵀ + Σ_observed α·r·yyᵀ + λI)·x = Σ_observed (1 + α·r)·y`.
    public static func alsRow(
        fixed: Matrix, items: [Int], weights: [Float], regularization: Double, alpha: Double
    ) -> [Double] {
        let f = fixed.columns
        var a = [[Double]](repeating: [Double](repeating: 0, count: f), count: f)
        var b = [Double](repeating: 0, count: f)
        for i in 0..<fixed.rows {
            for p in 0..<f { for q in 0..<f { a[p][q] += Double(fixed[i, p]) * Double(fixed[i, q]) } }
        }
        for (item, r) in zip(items, weights) where r > 0 {
            let c = 1 + alpha * Double(r)
            for p in 0..<f {
                b[p] += c * Double(fixed[item, p])
                for q in 0..<f { a[p][q] += (c - 1) * Double(fixed[item, p]) * Double(fixed[item, q]) }
            }
        }
        for p in 0..<f { a[p][p] += regularization }
        return solve(a, b)
    }

    /// The implicit-ALS objective summed over every user–item pair of a dense view of `r`,
    /// divided by the total confidence over all pairs.
    public static func alsLoss(
        _ r: SparseMatrix, users: Matrix, items: Matrix, regularization: Double, alpha: Double
    ) -> Double {
        var dense = [[Double]](repeating: [Double](repeating: 0, count: r.columns), count: r.rows)
        for u in 0..<r.rows {
            for (i, v) in zip(r.row(u).columns, r.row(u).values) { dense[u][Int(i)] = Double(v) }
        }
        var loss = 0.0, confidence = 0.0
        for u in 0..<r.rows {
            for i in 0..<r.columns {
                var s = 0.0
                for k in 0..<users.columns { s += Double(users[u, k]) * Double(items[i, k]) }
                let c = 1 + alpha * dense[u][i]
                let p = dense[u][i] > 0 ? 1.0 : 0.0
                loss += c * (p - s) * (p - s)
                confidence += c
            }
        }
        let norms = (users.storage + items.storage).reduce(0.0) { $0 + Double($1) * Double($1) }
        return (loss + regularization * norms) / confidence
    }

    /// The exact iALS++ solution of one row, written out in full:
    /// `(α₀·Σ_all yyᵀ + Σ_observed α·r·yyᵀ + λ(n + α₀·N)^ν·I)·x = Σ_observed (α₀ + α·r)·y`, with
    /// `n` the row's observed entries and `N` the rows of `fixed`.
    public static func iALSRow(
        fixed: Matrix, items: [Int], weights: [Float], regularization: Double, alpha: Double, unobservedWeight a0: Double, exponent: Double
    ) -> [Double] {
        let f = fixed.columns
        var a = [[Double]](repeating: [Double](repeating: 0, count: f), count: f)
        var b = [Double](repeating: 0, count: f)
        for i in 0..<fixed.rows {
            for p in 0..<f { for q in 0..<f { a[p][q] += a0 * Double(fixed[i, p]) * Double(fixed[i, q]) } }
        }
        let observed = zip(items, weights).filter { $0.1 > 0 }
        for (item, r) in observed {
            for p in 0..<f {
                b[p] += (a0 + alpha * Double(r)) * Double(fixed[item, p])
                for q in 0..<f { a[p][q] += alpha * Double(r) * Double(fixed[item, p]) * Double(fixed[item, q]) }
            }
        }
        let lambda = regularization * pow(Double(observed.count) + a0 * Double(fixed.rows), exponent)
        for p in 0..<f { a[p][p] += lambda }
        return solve(a, b)
    }

    /// The iALS++ objective over every pair, divided by the total confidence:
    /// `[Σ cᵤᵢ(pᵤᵢ − sᵤᵢ)² + Σᵤ λᵤ‖xᵤ‖² + Σᵢ λᵢ‖yᵢ‖²] / Σ cᵤᵢ`, `c = α₀ + α·r` observed, `α₀`
    /// otherwise, `λᵤ = λ(nᵤ + α₀·|items|)^ν`, `λᵢ = λ(nᵢ + α₀·|users|)^ν`.
    public static func iALSLoss(
        _ r: SparseMatrix, users: Matrix, items: Matrix, regularization: Double, alpha: Double, unobservedWeight a0: Double, exponent: Double
    ) -> Double {
        var loss = 0.0, confidence = 0.0
        var userCounts = [Int](repeating: 0, count: r.rows), itemCounts = [Int](repeating: 0, count: r.columns)
        for u in 0..<r.rows {
            var dense = [Double](repeating: 0, count: r.columns)
            for (i, v) in zip(r.row(u).columns, r.row(u).values) where v > 0 {
                dense[Int(i)] = Double(v)
                userCounts[u] += 1
                itemCounts[Int(i)] += 1
            }
            for i in 0..<r.columns {
                var s = 0.0
                for k in 0..<users.columns { s += Double(users[u, k]) * Double(items[i, k]) }
                let c = dense[i] > 0 ? a0 + alpha * dense[i] : a0
                let p = dense[i] > 0 ? 1.0 : 0.0
                loss += c * (p - s) * (p - s)
                confidence += c
            }
        }
        func norm(_ m: Matrix, _ row: Int) -> Double { (0..<m.columns).reduce(0.0) { $0 + Double(m[row, $1]) * Double(m[row, $1]) } }
        for u in 0..<r.rows { loss += regularization * pow(Double(userCounts[u]) + a0 * Double(r.columns), exponent) * norm(users, u) }
        for i in 0..<r.columns { loss += regularization * pow(Double(itemCounts[i]) + a0 * Double(r.rows), exponent) * norm(items, i) }
        return loss / confidence
    }

    /// Relative error ‖x − y‖ / ‖y‖.
    public static func relativeError(_ x: [Float], _ y: [Double]) -> Double {
        var diff = 0.0, norm = 0.0
        for (a, b) in zip(x, y) {
            diff += (Double(a) - b) * (Double(a) - b)
            norm += b * b
        }
        return (diff / max(norm, 1e-300)).squareRoot()
    }
}
