import Foundation

/// The calibrated noise of one private model, and the proof of its ε.
///
/// People are split by a keyed hash of their pseudonym into a **training** group (the model is
/// fitted on them) and a **held-out** group (the model is judged on them). The two are
/// disjoint and each person's group depends on their own pseudonym alone, so the guarantee is
/// the worse of the two groups' (parallel composition):
///
/// - training: the vocabulary's noisy counts once, then per iteration the global Gram matrix,
///   the items' Gram matrices and the items' right-hand sides — composed in Rényi-DP and
///   converted at `δ − selectionDelta`; `selectionDelta` pays for the partition selection's
///   threshold (an emoji that one person's presence pushes over the hard k/m rule is released
///   with probability at most `selectionDelta / maxItemsPerUser`).
/// - held-out: one release of the judging sums (each scored ranker's metric sum and the count
///   of people), converted at δ.
///
/// Noise is calibrated by search: the largest Rényi budget ρ with ε(ρ) ≤ the target, split
/// `vocabularyBudget : rest` and the rest evenly over the training mechanisms.
public struct PrivacyPlan: Sendable, Equatable, Codable {
    public struct Group: Sendable, Equatable, Codable {
        public var mechanisms: [GaussianMechanism]
        /// The δ the group's Rényi divergence is converted at.
        public var delta: Double
        public var epsilon: Double

        public init(mechanisms: [GaussianMechanism], delta: Double) {
            self.mechanisms = mechanisms
            self.delta = delta
            epsilon = RenyiAccountant.epsilon(mechanisms, delta: delta).epsilon
        }

        public func mechanism(_ name: String) -> GaussianMechanism { mechanisms.first { $0.name == name }! }
    }

    public var parameters: PrivacyParameters
    public var training: Group
    public var heldOut: Group
    /// The part of δ spent on the partition selection's threshold.
    public var selectionDelta: Double
    /// τ: an emoji enters the vocabulary when its noisy workspace and user counts are at least
    /// `k + τ` and `m + τ` (and its bounded counts at least k and m).
    public var selectionMargin: Double

    /// The guarantee: the worse group's ε, at `parameters.delta`.
    public var epsilon: Double { max(training.epsilon, heldOut.epsilon) }

    /// - Parameters:
    ///   - iterations: ALS iterations, each one private item solve.
    ///   - alpha, unobservedWeight: the confidence `α₀ + α·r` the item solves use.
    ///   - judgingSums: the metric sums the held-out release holds (one per scored ranker).
    public init(parameters p: PrivacyParameters, iterations: Int, alpha: Double, unobservedWeight: Double, judgingSums: Int) {
        precondition(p.problem == nil && iterations > 0 && judgingSums > 0)
        parameters = p
        let m = Double(p.maxItemsPerUser), gamma = p.maxNorm, w = p.maxWeight
        selectionDelta = p.delta / 2
        let rho = RenyiAccountant.rho(forEpsilon: p.epsilon, delta: p.delta - selectionDelta)
        let vocabulary = 1 / (2 * p.vocabularyBudget * rho).squareRoot()
        let perTraining = (1 - p.vocabularyBudget) * rho / 3
        let trainingMultiplier = (Double(iterations) / (2 * perTraining)).squareRoot()
        training = Group(mechanisms: [
            GaussianMechanism(name: "vocabulary_counts", noiseMultiplier: vocabulary, count: 1, sensitivity: (2 * m).squareRoot()),
            GaussianMechanism(name: "global_gram", noiseMultiplier: trainingMultiplier, count: iterations,
                              sensitivity: unobservedWeight * gamma * gamma),
            GaussianMechanism(name: "item_grams", noiseMultiplier: trainingMultiplier, count: iterations,
                              sensitivity: m.squareRoot() * alpha * w * gamma * gamma),
            GaussianMechanism(name: "item_rhs", noiseMultiplier: trainingMultiplier, count: iterations,
                              sensitivity: m.squareRoot() * (unobservedWeight + alpha * w) * gamma),
        ], delta: p.delta - selectionDelta)
        let judging = 1 / (2 * RenyiAccountant.rho(forEpsilon: p.epsilon, delta: p.delta)).squareRoot()
        heldOut = Group(mechanisms: [
            GaussianMechanism(name: "judging_sums", noiseMultiplier: judging, count: 1, sensitivity: Double(judgingSums + 1).squareRoot())
        ], delta: p.delta)
        let countNoise = training.mechanism("vocabulary_counts").noiseScale
        selectionMargin = countNoise * NormalTail.quantile(upperTail: selectionDelta / m)
    }

    enum CodingKeys: String, CodingKey {
        case parameters, training
        case heldOut = "held_out"
        case selectionDelta = "selection_delta"
        case selectionMargin = "selection_margin"
    }
}
