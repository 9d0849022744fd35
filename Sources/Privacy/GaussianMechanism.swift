import Foundation

/// One Gaussian mechanism as the accountant sees it: a release of a statistic with L2
/// sensitivity `sensitivity` plus independent `N(0, (noiseMultiplier·sensitivity)²)` noise on
/// every coordinate, made `count` times on the same people's data.
///
/// Its Rényi-DP at order α is `count·α / (2·noiseMultiplier²)` (Mironov 2017, Prop. 7): the
/// sensitivity cancels, so ε follows from the multipliers and counts alone. That list is what
/// a model file records, so anyone can recompute ε with another accountant.
public struct GaussianMechanism: Sendable, Equatable, Codable {
    /// What is released: `vocabulary_counts`, `global_gram`, `item_grams`, `item_rhs`, `decision_sums`.
    public var name: String
    /// σ/Δ: the noise's standard deviation over the statistic's L2 sensitivity.
    public var noiseMultiplier: Double
    /// How many times the mechanism runs (once per iteration for the item solves).
    public var count: Int
    /// Δ, the L2 sensitivity: how far one person can move the released statistic.
    public var sensitivity: Double

    public init(name: String, noiseMultiplier: Double, count: Int, sensitivity: Double) {
        self.name = name
        self.noiseMultiplier = noiseMultiplier
        self.count = count
        self.sensitivity = sensitivity
    }

    /// The standard deviation of the noise on each coordinate: `noiseMultiplier·sensitivity`.
    public var noiseScale: Double { noiseMultiplier * sensitivity }

    /// Rényi divergence of order `order` between the outputs on neighbouring data, over all runs.
    public func renyi(order: Double) -> Double { Double(count) * order / (2 * noiseMultiplier * noiseMultiplier) }

    /// `ρ` with `renyi(order:) = ρ·order`: a Gaussian mechanism's RDP is linear in the order.
    public var rho: Double { Double(count) / (2 * noiseMultiplier * noiseMultiplier) }

    enum CodingKeys: String, CodingKey {
        case name, count, sensitivity
        case noiseMultiplier = "noise_multiplier"
    }
}
