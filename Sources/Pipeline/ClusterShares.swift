import Evaluation
import Foundation
import Interactions
import Platform
import Publishing

/// What a rank tells rank 0 of one per-workspace recommender it judged: its matrices' usage,
/// gates, carried and dropped models, and each matrix's held-out sums — enough for rank 0 to
/// pool the figures as one process does (merged in pseudonym order).
struct JudgementShare: Codable {
    struct Result: Codable {
        let als: RankingMetrics.Accumulator
        let popularity: RankingMetrics.Accumulator
        let published: RankingMetrics.Accumulator
        let ranker: Ranker
        let judged: Bool
    }

    var usage: [MatrixUsage]
    var gates: [NightlyReport.ModelGate]
    var toCarry: [Manifest.Model]
    var dropped: [NightlyReport.DroppedModel]
    var results: [String: Result]

    init(_ j: NightlyRun.Judgement) {
        usage = j.usage
        gates = j.outcome.gates
        toCarry = j.outcome.toCarry
        dropped = j.outcome.dropped
        results = j.results.mapValues { Result(als: $0.als, popularity: $0.popularity, published: $0.published, ranker: $0.ranker, judged: $0.judged) }
    }

    var wire: [UInt8] { Array((try? JSONEncoder().encode(self)) ?? Data()) }

    /// Every rank's share of `rc` as one judgement, in the order one process lists them.
    /// `tuning` is what every rank chose alike (`ALSTuning.tuneAcrossRanks`).
    static func merged(
        _ shares: [[UInt8]], _ rc: NightlyConfig.Recommender, previous: PreviousRun, tuning: [ALSTuning.Choice]?
    ) throws(NightlyError) -> NightlyRun.Judgement {
        let decoded: [JudgementShare]
        do { decoded = try shares.map { try JSONDecoder().decode(JudgementShare.self, from: Data($0)) } } catch { throw .io(error) }
        var outcome = GateOutcome()
        outcome.gates = decoded.flatMap(\.gates).sorted { ($0.workspace ?? "") < ($1.workspace ?? "") }
        outcome.toCarry = decoded.flatMap(\.toCarry).sorted { ($0.workspace ?? "") < ($1.workspace ?? "") }
        outcome.dropped = decoded.flatMap(\.dropped).sorted { $0.path < $1.path }
        var results: [String: HeldOutEvaluation.MatrixResult] = [:]
        for share in decoded {
            for (key, r) in share.results {
                results[key] = .init(als: r.als, popularity: r.popularity, published: r.published, ranker: r.ranker, judged: r.judged)
            }
        }
        let pooled = HeldOutEvaluation(results: results, k: rc.k, models: [:]).pooled
        return NightlyRun.Judgement(
            usage: decoded.flatMap(\.usage).sorted { ($0.workspace ?? "") < ($1.workspace ?? "") }, outcome: outcome,
            summary: NightlyRun.summary(rc, pooled: pooled, gates: outcome.gates, previous: previous, tuning: tuning), results: results)
    }
}

/// What a rank tells rank 0 once it has written its models: their manifest entries, how they
/// started, and the workspaces whose events it read.
struct TrainedShare: Codable {
    var entries: [Manifest.Model]
    var tallies: [String: NightlyRun.WarmStartTally]
    var workspaces: Set<String>

    var wire: [UInt8] { Array((try? JSONEncoder().encode(self)) ?? Data()) }

    /// Every rank's share as one: entries ordered by recommender (in `order`) and workspace.
    static func merged(_ shares: [[UInt8]], order: [String]) throws -> TrainedShare {
        let decoded = try shares.map { try JSONDecoder().decode(TrainedShare.self, from: Data($0)) }
        let position = { (m: Manifest.Model) in (order.firstIndex(of: m.recommender) ?? order.count, m.workspace ?? "") }
        var merged = TrainedShare(entries: decoded.flatMap(\.entries).sorted { position($0) < position($1) }, tallies: [:], workspaces: [])
        for share in decoded {
            merged.workspaces.formUnion(share.workspaces)
            for (key, t) in share.tallies { merged.tallies[key, default: .init()].add(t) }
        }
        return merged
    }
}
