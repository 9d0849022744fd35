import Foundation

/// Hyper-parameters of implicit-feedback ALS (Hu, Koren & Volinsky 2008), with the two
/// parameters of iALS++ (Rendle et al., "Revisiting the Performance of iALS on Item
/// Recommendation Benchmarks", RecSys 2022).
///
/// The objective, for an interaction matrix `R` of non-negative weights, is
/// `Σᵤᵢ cᵤᵢ (pᵤᵢ − xᵤ·yᵢ)² + Σᵤ λᵤ‖xᵤ‖² + Σᵢ λᵢ‖yᵢ‖²` with preference `pᵤᵢ = 1` where
/// `rᵤᵢ > 0`, else 0, and confidence `cᵤᵢ = α₀ + α·rᵤᵢ` where `rᵤᵢ > 0`, else `α₀` (the
/// unobserved weight). The penalty is frequency-scaled: `λᵤ = λ·(nᵤ + α₀·|items|)^ν` with
/// `nᵤ` the row's interactions (and `λᵢ = λ·(nᵢ + α₀·|users|)^ν` for items).
///
/// With the defaults α₀ = 1 and ν = 0 this is the classic objective of the paper and
/// `implicit`: `cᵤᵢ = 1 + α·rᵤᵢ`, λ not scaled by a row's interaction count (Spark's ALS-WR
/// scales it). In general, ν = 0 is `implicit`'s problem with its regularization `λ/α₀` and
/// confidences `1 + (α/α₀)·r`: the objective divided by α₀, with the same minimiser.
///
/// Note for comparisons: `implicit` treats its input values as the confidence itself, so the
/// same problem there is `fit(1 + (α/α₀)·R)` with its `alpha = 1` and `regularization = λ/α₀`.
public struct ALSConfiguration: Sendable, Hashable, Codable {
    /// How each row's least-squares problem is solved.
    public enum Solver: String, Sendable, Hashable, Codable, CaseIterable {
        /// A fixed number of conjugate-gradient steps per row, warm-started from the previous
        /// factors (Takács et al. 2011). Never forms the per-row matrix; the fast default.
        case conjugateGradient = "cg"
        /// The exact solution per row by Cholesky factorisation (LAPACK `sposv`).
        case cholesky
    }

    /// Length of every user and item vector. Default 64.
    public var factors: Int
    /// λ, the L2 penalty on every factor vector. Default 0.01 (as `implicit`).
    public var regularization: Float
    /// α in the confidence `α₀ + α·r`. Default 1 (as `implicit` and Spark).
    public var alpha: Float
    /// Full sweeps; each solves all items, then all users. Default 15.
    public var iterations: Int
    /// The per-row solver. Default `.conjugateGradient`.
    public var solver: Solver
    /// Conjugate-gradient steps per row per sweep (`.conjugateGradient` only). Default 3.
    public var cgSteps: Int
    /// Worker threads. The output does not depend on it: any count gives the same bytes.
    /// Default: the machine's active processor count.
    public var threads: Int
    /// Seed of the initial factors. Default 0.
    public var seed: UInt64
    /// α₀, the weight of every unobserved pair (and the base of an observed one's). Default 1.
    public var unobservedWeight: Float = 1
    /// ν, the exponent of the frequency-scaled penalty `λ·(n + α₀·N)^ν`. Default 0 (λ as given).
    public var regularizationExponent: Float = 0

    public init(
        factors: Int = 64, regularization: Float = 0.01, alpha: Float = 1,
        iterations: Int = 15, solver: Solver = .conjugateGradient, cgSteps: Int = 3,
        threads: Int = ALSConfiguration.defaultThreads, seed: UInt64 = 0,
        unobservedWeight: Float = 1, regularizationExponent: Float = 0
    ) {
        self.unobservedWeight = unobservedWeight
        self.regularizationExponent = regularizationExponent
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.solver = solver
        self.cgSteps = cgSteps
        self.threads = threads
        self.seed = seed
    }

    /// The most worker threads a fit takes.
    public static let maxThreads = 1_024
    /// The machine's active processor count, up to `maxThreads`.
    public static var defaultThreads: Int { min(ProcessInfo.processInfo.activeProcessorCount, maxThreads) }

    /// Checks every field; called once when training starts.
    /// - Throws: `TrainingError.invalidConfiguration` naming the field.
    public func validate() throws(TrainingError) {
        func fail(_ field: String, _ reason: String) -> TrainingError {
            .invalidConfiguration(field: field, reason: reason)
        }
        guard (1...4096).contains(factors) else { throw fail("factors", "must be 1…4096") }
        guard regularization.isFinite, regularization >= 0 else {
            throw fail("regularization", "must be a finite number ≥ 0")
        }
        guard solver != .cholesky || regularization > 0 else {
            throw fail("regularization", "must be > 0 with the Cholesky solver")
        }
        guard alpha.isFinite, alpha >= 0 else { throw fail("alpha", "must be a finite number ≥ 0") }
        guard unobservedWeight.isFinite, unobservedWeight > 0, unobservedWeight <= 1e6 else {
            throw fail("unobservedWeight", "must be a number > 0 and ≤ 1e6")
        }
        guard regularizationExponent.isFinite, (0...2).contains(regularizationExponent) else {
            throw fail("regularizationExponent", "must be 0…2")
        }
        guard (0...10_000).contains(iterations) else { throw fail("iterations", "must be 0…10000") }
        guard (1...1_000).contains(cgSteps) else { throw fail("cgSteps", "must be 1…1000") }
        guard (1...Self.maxThreads).contains(threads) else { throw fail("threads", "must be 1…\(Self.maxThreads)") }
    }
}
