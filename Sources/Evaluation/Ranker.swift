import Linalg
import Platform

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

    /// `als`, `popularity` or `blend:β` with `β` a plain decimal number (digits, an optional
    /// fraction and exponent: `0.3`, `3`, `1e-2`) from 0 to 1e6 that a 32-bit float holds
    /// without flushing to zero; nil for anything else (hex, signs, spaces, NUL bytes…).
    public init?(parsing text: String) {
        switch text {
        case "als": self = .als
        case "popularity": self = .popularity
        default:
            guard text.hasPrefix("blend:"), let beta = Self.decimal(text.dropFirst(6)) else { return nil }
            self = .blend(beta: beta)
        }
    }

    /// The β of `blend:β`, or nil.
    static func decimal(_ text: Substring) -> Float? {
        let allowed = Set("0123456789.eE-")
        guard let first = text.first, first.isASCII, first.isNumber, text.allSatisfy({ allowed.contains($0) }),
            let value = Float(text), value.isFinite, (0...maxBeta).contains(value)
        else { return nil }
        // A non-zero spelling must not round to 0 (1e-50 is not a weight of 0).
        let mantissa = text.prefix { $0 != "e" && $0 != "E" }
        if value == 0, mantissa.contains(where: { ("1"..."9").contains($0) }) { return nil }
        return value
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

extension Ranker: SpelledCodable {
    public init?(spelling: String) { self.init(parsing: spelling) }
    public var spelling: String { description }
}
