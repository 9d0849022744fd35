import Foundation

/// The iALS++ weighting of one half-sweep in the form the row solvers take: each row's normal
/// equations `(α₀·YᵀY + Σₖ α·rₖ·yₖyₖᵀ + λᵣ·I)·x = Σₖ (α₀ + α·rₖ)·yₖ` divided by α₀, so that
/// they read `(YᵀY + ridge·I + Σₖ wₖ·yₖyₖᵀ)·x = Σₖ (1 + wₖ)·yₖ` with `wₖ = (α/α₀)·rₖ` — the
/// classic implicit-ALS row, which every solver and kernel already solves.
///
/// The ridge `λᵣ/α₀` is folded into the Gram matrix when ν = 0 (it is the same for every row);
/// with ν > 0 the Gram matrix carries none and each row adds its own. With α₀ = 1 and ν = 0
/// every value is the configuration's own, bit for bit.
struct SweepWeighting: Sendable {
    /// `α/α₀`: an observed entry's weight relative to the unobserved weight.
    let alpha: Float
    /// The ridge added to the Gram matrix: `λ/α₀` when ν = 0, else 0.
    let gramRidge: Float
    let regularization: Float
    let unobservedWeight: Float
    let exponent: Float
    /// The size of the other side: `|items|` when users are solved, `|users|` when items are.
    let others: Int

    init(_ c: ALSConfiguration, others: Int) {
        regularization = c.regularization
        unobservedWeight = c.unobservedWeight
        exponent = c.regularizationExponent
        self.others = others
        alpha = c.unobservedWeight == 1 ? c.alpha : c.alpha / c.unobservedWeight
        gramRidge = c.regularizationExponent != 0 ? 0 : (c.unobservedWeight == 1 ? c.regularization : c.regularization / c.unobservedWeight)
    }

    /// The ridge a row with `count` interactions adds beyond `gramRidge`:
    /// `λ·(count + α₀·others)^ν / α₀` when ν > 0, else 0.
    @inline(__always)
    func rowRidge(count: Int) -> Float {
        exponent == 0 ? 0 : Float(penalty(count: count) / Double(unobservedWeight))
    }

    /// `λ·(count + α₀·others)^ν`, the row's penalty in the undivided objective.
    func penalty(count: Int) -> Double {
        Double(regularization) * pow(Double(count) + Double(unobservedWeight) * Double(others), Double(exponent))
    }
}
