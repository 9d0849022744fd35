import Foundation

/// What `[recommenders.emoji.privacy]` sets: the (ε, δ) target of the global model and how
/// each person's contribution is bounded. Defaults are documented in docs/privacy.md.
public struct PrivacyParameters: Sendable, Equatable, Codable {
    /// How a person's items are chosen when they have more than `maxItemsPerUser`.
    public enum Bounding: String, Sendable, Codable, CaseIterable {
        /// A uniform sample (seeded by the noise key and the person's pseudonym).
        case uniform
        /// The least popular first, by the vocabulary's noisy counts (Chien et al. 2021).
        case leastPopular = "least_popular"
    }

    /// The target ε of everything the model file holds.
    public var epsilon: Double
    /// δ; default 10⁻⁷, below 1/(number of people) for up to ten million people.
    public var delta: Double = 1e-7
    /// The most distinct items one person contributes. Default 16.
    public var maxItemsPerUser: Int = 16
    public var bounding: Bounding = .uniform
    /// The largest interaction weight `r` one person–item pair carries. Default 1 (with log
    /// scaling, log(1 + 1.7): a little under two reactions' worth).
    public var maxWeight: Double = 1
    /// The largest norm of a user vector entering the item solves. Default 1.
    public var maxNorm: Double = 1
    /// The share of the training group's Rényi budget spent on the vocabulary. Default 0.2.
    public var vocabularyBudget: Double = 0.2
    /// The share of people held out of training to judge the model (choose its ranker, pass its
    /// gate) by a separate noisy release. Default 0.1.
    public var heldOutPeople: Double = 0.1

    /// The ALS iterations of a private model whose configuration gives none: each iteration's
    /// item solves are a release of their own, and 5 reach the quality 15 do (docs/privacy.md).
    public static let defaultIterations = 5

    public init(epsilon: Double) { self.epsilon = epsilon }

    /// Why these values cannot be used, naming the key; nil when they can.
    public var problem: (key: String, reason: String)? {
        if !(epsilon > 0 && epsilon <= 100) { return ("epsilon", "must be in (0, 100]") }
        if !(delta > 0 && delta < 1e-3) { return ("delta", "must be in (0, 0.001)") }
        if !(1...10_000).contains(maxItemsPerUser) { return ("max_items_per_user", "must be in 1…10000") }
        if !(maxWeight > 0 && maxWeight <= 1e6) { return ("max_weight", "must be in (0, 10⁶]") }
        if !(maxNorm > 0 && maxNorm <= 1e3) { return ("max_norm", "must be in (0, 1000]") }
        if !(vocabularyBudget > 0 && vocabularyBudget < 1) { return ("vocabulary_budget", "must be in (0, 1)") }
        if !(heldOutPeople > 0 && heldOutPeople < 1) { return ("held_out_people", "must be in (0, 1)") }
        return nil
    }

    enum CodingKeys: String, CodingKey {
        case epsilon, delta, bounding
        case maxItemsPerUser = "max_items_per_user"
        case maxWeight = "max_weight"
        case maxNorm = "max_norm"
        case vocabularyBudget = "vocabulary_budget"
        case heldOutPeople = "held_out_people"
    }
}
