import Linalg

/// What a published model ranks items by, for a user whose factors `x` were folded in:
///
/// - `als`: `x·yᵢ`, the factorisation's own score;
/// - `popularity`: `nᵢ`, how many users interacted with item `i` in the training data (no
///   factors used);
/// - `blend(β)`: `x·yᵢ + β·nᵢ / maxⱼ nⱼ`, the ALS score plus a popularity prior scaled to
///   [0, 1]. β = 0 is ALS; a large β is popularity with ALS breaking its ties.
///
/// Spelled `als`, `popularity` and `blend:β` in the config, the model file and the reports.
public enum Ranker: Sendable, Hashable, CustomStringConvertible {
    case als
    case popularity
    case blend(beta: Float)

    /// The largest β accepted: beyond it the prior swamps every ALS score anyway.
    public static let maxBeta: Float = 1_000_000

    public var description: String {
        switch self {
        case .als: "als"
        case .popularity: "popularity"
        case .blend(let beta): "blend:\(beta)"
        }
    }

    /// `als`, `popularity`, `blend` or `blend:β` with `β` a finite number in 0…1e6; nil
    /// for anything else.
    public init?(parsing text: String) {
        switch text {
        case "als": self = .als
        case "popularity": self = .popularity
        default:
            guard text.hasPrefix("blend:"), let beta = Float(text.dropFirst(6)), beta.isFinite, (0...Self.maxBeta).contains(beta) else {
                return nil
            }
            self = .blend(beta: beta)
        }
    }

    /// The kind without its weight: `als`, `popularity` or `blend`.
    public var kind: String {
        switch self {
        case .als: "als"
        case .popularity: "popularity"
        case .blend: "blend"
        }
    }

    public var beta: Float? { if case .blend(let beta) = self { beta } else { nil } }

    /// Whether the ranker needs the user's folded-in factors.
    public var usesFactors: Bool { self != .popularity }

    /// Fills `scores` with every item's score.
    /// - Parameter als: every item's `x·yᵢ` for the user (unused by `popularity`).
    public func scores(als: [Float], popularity: PopularityBaseline, into scores: inout [Float]) {
        switch self {
        case .als:
            scores = als
        case .popularity:
            scores = popularity.counts
        case .blend(let beta):
            let prior = popularity.prior
            for i in scores.indices { scores[i] = als[i] + beta * prior[i] }
        }
    }
}

extension Ranker: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let ranker = Ranker(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a ranker: \(text)"))
        }
        self = ranker
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
