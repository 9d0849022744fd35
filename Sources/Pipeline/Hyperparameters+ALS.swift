import Factorization
import Publishing

extension ModelFile.Hyperparameters {
    /// What a model file records of the ALS configuration it was trained with (not the thread
    /// count, which does not change a model), and the iterations and split of a warm start. α₀
    /// and ν are recorded only when they differ from 1 and 0, so classic models keep their bytes.
    public init(_ c: ALSConfiguration, warmStartIterations: Int? = nil, warmStartSplit: String? = nil) {
        self.init(
            factors: c.factors, regularization: c.regularization, alpha: c.alpha, iterations: c.iterations,
            solver: c.solver.rawValue, cgSteps: c.cgSteps, seed: c.seed, warmStartIterations: warmStartIterations,
            warmStartSplit: warmStartSplit, unobservedWeight: c.unobservedWeight == 1 ? nil : c.unobservedWeight,
            regularizationExponent: c.regularizationExponent == 0 ? nil : c.regularizationExponent)
    }
}
