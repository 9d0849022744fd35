import Linalg

/// A trained implicit-ALS model: one factor row per user and per item.
public struct ALSModel: Sendable, Equatable {
    /// The hyper-parameters it was trained with.
    public let configuration: ALSConfiguration
    /// `users × factors`. Published models leave this out (users are folded in at
    /// recommendation time); evaluation uses it.
    public var userFactors: Matrix
    /// `items × factors`: what is published.
    public var itemFactors: Matrix

    public init(configuration: ALSConfiguration, userFactors: Matrix, itemFactors: Matrix) {
        self.configuration = configuration
        self.userFactors = userFactors
        self.itemFactors = itemFactors
    }
}

/// What the trainer reports after each iteration, for progress display.
public struct IterationReport: Sendable {
    /// 1-based.
    public let iteration: Int
    public let iterations: Int
    /// Wall time of this iteration (both half-sweeps), in seconds.
    public let seconds: Double
    /// The training loss after this iteration, when asked for (see `ImplicitALS.loss`).
    public let loss: Double?
}
