import Foundation
import Linalg

/// A seeded search over named hyper-parameters: random search, or successive halving
/// (Jamieson & Talwalkar 2016) with the fidelity — the share of the full training effort a
/// trial gets — cut by `reduction` per rung. The caller scores a candidate at a fidelity; the
/// search only samples, schedules and keeps the best. Same seed and scores → same trials and
/// the same choice; a time budget (`seconds`) makes how many trials run depend on the machine,
/// and the outcome says how many did.
public struct HyperparameterSearch: Sendable, Equatable, Codable {
    public enum Strategy: String, Sendable, Codable, CaseIterable {
        case random
        /// Successive halving: all candidates at low fidelity, the best 1/`reduction` promoted.
        case halving
    }

    /// One dimension: a range, sampled uniformly (or log-uniformly), or a list of values.
    public struct Dimension: Sendable, Equatable, Codable {
        public let name: String
        public let low: Double
        public let high: Double
        public let logScale: Bool
        /// When set, the dimension takes one of these values (uniformly) instead of a range.
        public let values: [Double]?

        public static func range(_ name: String, _ low: Double, _ high: Double, log: Bool) -> Dimension {
            Dimension(name: name, low: low, high: high, logScale: log, values: nil)
        }

        public static func choice(_ name: String, _ values: [Double]) -> Dimension {
            Dimension(name: name, low: values.min() ?? 0, high: values.max() ?? 0, logScale: false, values: values)
        }

        func sample(_ rng: inout SeededGenerator) -> Double {
            if let values { return values[rng.nextIndex(below: values.count)] }
            let u = rng.nextUnit()
            return logScale ? exp(log(low) + u * (log(high) - log(low))) : low + u * (high - low)
        }
    }

    public struct Trial: Sendable, Equatable, Codable {
        public let values: [String: Double]
        /// The share of the full training effort this trial had (1 for a full trial).
        public let fidelity: Double
        public let score: Double
    }

    public struct Outcome: Sendable, Equatable, Codable {
        /// The best candidate among those scored at the highest fidelity reached.
        public let best: [String: Double]
        public let score: Double
        public let trials: [Trial]
        /// Distinct candidates scored (halving scores some several times, at rising fidelity).
        public let candidates: Int
        /// Whether the time budget stopped the search before its planned trials.
        public let stoppedByTime: Bool
    }

    public var dimensions: [Dimension]
    public var strategy: Strategy
    /// Candidates (for halving, scored at the lowest rung; the best third and `initial` go on).
    public var trials: Int
    /// Wall-clock budget; no trial starts after it (at least one always runs).
    public var seconds: Double?
    public var seed: UInt64
    /// η: the share of candidates promoted per halving rung is 1/η, the fidelity grows η-fold.
    public var reduction: Int
    /// Candidates tried first, before the sampled ones (and counted in `trials`): the
    /// configured values, so that a search never chooses worse than them on its own score.
    public var initial: [[String: Double]] = []

    public init(dimensions: [Dimension], strategy: Strategy = .random, trials: Int = 20, seconds: Double? = nil, seed: UInt64 = 0,
                reduction: Int = 3) {
        self.dimensions = dimensions
        self.strategy = strategy
        self.trials = trials
        self.seconds = seconds
        self.seed = seed
        self.reduction = reduction
    }

    /// The candidates: `initial`, then samples, each drawing its dimensions in the order given
    /// from one generator seeded by `seed`; `trials` in all.
    public func candidates() -> [[String: Double]] {
        var rng = SeededGenerator(seed: seed)
        let sampled = (0..<max(0, trials - initial.count)).map { _ in Dictionary(uniqueKeysWithValues: dimensions.map { ($0.name, $0.sample(&rng)) }) }
        return Array(initial.prefix(trials)) + sampled
    }

    /// The fidelities of the halving rungs, lowest first, ending at 1.
    public var rungs: [Double] {
        guard strategy == .halving, trials > 1 else { return [1] }
        precondition(reduction >= 2, "successive halving needs a reduction of at least 2")
        var count = 1, n = trials
        while n > 1 { n = (n + reduction - 1) / reduction; count += 1 }
        return (0..<count).map { pow(Double(reduction), Double($0 - count + 1)) }
    }

    /// Runs the search. Higher scores are better; on a tie the earlier candidate wins.
    /// - Parameter outOfTime: decides, given the seconds since the search began, whether the
    ///   budget is spent (by default `seconds` on this machine's clock; a distributed search
    ///   asks one rank, so that every rank stops at the same trial).
    public func run(
        outOfTime: ((Double) -> Bool)? = nil, _ score: (_ values: [String: Double], _ fidelity: Double) throws -> Double
    ) rethrows -> Outcome {
        let start = Date()
        let all = candidates()
        var alive = Array(all.enumerated())
        var done: [Trial] = []
        var stopped = false
        var best: (index: Int, values: [String: Double], score: Double)?
        for (rung, fidelity) in rungs.enumerated() {
            var scored: [(index: Int, values: [String: Double], score: Double)] = []
            for (index, values) in alive {
                if let seconds, !done.isEmpty, (outOfTime ?? { $0 > seconds })(Date().timeIntervalSince(start)) { stopped = true; break }
                let s = try score(values, fidelity)
                done.append(Trial(values: values, fidelity: fidelity, score: s))
                scored.append((index, values, s))
            }
            // Best first; ties by sampling order. NaN scores (a failed fit) rank last.
            scored.sort { ($0.score.isNaN ? -Double.infinity : $0.score, -$0.index) > ($1.score.isNaN ? -Double.infinity : $1.score, -$1.index) }
            if let top = scored.first { best = top }
            if stopped || rung == rungs.count - 1 { break }
            // The best 1/η go on, and so do the `initial` candidates: they are always scored at
            // full fidelity, so a search never ends below them on its own score.
            let keep = max(1, (scored.count + reduction - 1) / reduction)
            let promoted = scored.prefix(keep).map(\.index) + scored.map(\.index).filter { $0 < initial.count }
            alive = Set(promoted).sorted().map { ($0, all[$0]) }
        }
        let distinct = Set(done.map { $0.values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }).count
        return Outcome(best: best?.values ?? [:], score: best?.score ?? .nan, trials: done, candidates: distinct, stoppedByTime: stopped)
    }
}
