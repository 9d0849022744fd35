import Consent
import Evaluation
import Factorization
import Ingest
import Interactions
import Pipeline
import Publishing
import TestSupport
import XCTest

/// The stages a distributed runner will call per shard, through the public API only (no
/// `@testable`): called on a subset of the workspaces, or on one recommender, they give the
/// results the whole run gives.
final class StagesPerShardTests: XCTestCase {
    struct StageResults {
        var evaluation: HeldOutEvaluation
        var outcome: GateOutcome
        var fitted: [ALSModel]
    }

    func testWorkspaceShards_giveTheWholeRunsEvaluationGatesAndFactors() throws {
        let f = try NightlyFixture(workspaces: 12, events: 20_000)
        let config = try f.load(f.config())
        let report = try NightlyRun(config: config).execute(logger: .quiet)
        let log = try f.read(config)
        let channel = try XCTUnwrap(config.recommenders.first { $0.definition.target == .channel })
        XCTAssertEqual(channel.definition.scope, .workspace)

        // The split's cutoff is resolved once on the whole log, as the run does.
        let split = channel.split.resolved(for: log, definition: channel.definition)
        let whole = try stages(channel, log, split: split, config: config, threads: 2)
        // Three shards by workspace index, each run on one thread.
        let shards = try (0..<3).map { s in
            try stages(channel, log.subset(log.workspaces.map { Int($0) % 3 == s }), split: split, config: config, threads: 1)
        }
        XCTAssertTrue(shards.allSatisfy { !$0.outcome.gates.isEmpty }, "every shard holds workspaces")

        // Evaluation: the same metrics per workspace, and the same pooled figures once merged.
        let merged = HeldOutEvaluation.merging(shards.map(\.evaluation), k: channel.k)
        XCTAssertEqual(Set(merged.results.keys), Set(whole.evaluation.results.keys))
        for (workspace, result) in whole.evaluation.results {
            let shard = try XCTUnwrap(merged.results[workspace])
            XCTAssertEqual(shard.als.result, result.als.result, workspace)
            XCTAssertEqual(shard.popularity.result, result.popularity.result, workspace)
            XCTAssertEqual(shard.published.result, result.published.result, workspace)
            XCTAssertEqual(shard.ranker, result.ranker, workspace)
        }
        XCTAssertEqual(merged.pooled, whole.evaluation.pooled)

        // Gates and training: the union of the shards' decisions and factors is the whole's.
        let byWorkspace = { (r: [StageResults]) in
            Dictionary(uniqueKeysWithValues: r.flatMap { zip($0.outcome.toTrain.map { $0.matrix.workspace ?? "" }, $0.fitted) })
        }
        XCTAssertEqual(byWorkspace(shards), byWorkspace([whole]))
        let gates = { (r: [StageResults]) in
            Dictionary(uniqueKeysWithValues: r.flatMap { $0.outcome.gates.map { ($0.workspace ?? "", $0) } })
        }
        XCTAssertEqual(gates(shards), gates([whole]))

        // And they are what the real nightly run decided and reported.
        let reported = try XCTUnwrap(report.recommenders.first { $0.recommender == .channel })
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: reported.models.map { ($0.workspace ?? "", $0) }), gates([whole]))
        XCTAssertEqual(reported.model, merged.pooled.published)
        XCTAssertEqual(reported.als, merged.pooled.als)
        XCTAssertEqual(reported.popularity, merged.pooled.popularity)
    }

    func testOneRecommenderAlone_givesWhatTheWholeRunReported() throws {
        let f = try NightlyFixture(workspaces: 12, events: 20_000)
        let config = try f.load(f.config())
        let report = try NightlyRun(config: config).execute(logger: .quiet)
        let emoji = try XCTUnwrap(config.recommenders.first { $0.definition.target == .emoji })
        let log = try f.read(config)
        let alone = try stages(emoji, log, split: emoji.split.resolved(for: log, definition: emoji.definition), config: config, threads: 1)

        let reported = try XCTUnwrap(report.recommenders.first { $0.recommender == .emoji })
        XCTAssertEqual(reported.models, alone.outcome.gates)
        XCTAssertEqual(reported.model, alone.evaluation.pooled.published)
        // The published global model's metrics are the ones this call recorded.
        let run = try PublishedRun.open(try XCTUnwrap(report.runDirectory), seal: ManifestSeal(pseudonymiser: f.pseudonymiser))
        let published = run.manifest.models.filter { $0.recommender == "emoji" }
        XCTAssertEqual(published.map(\.metrics), alone.outcome.toTrain.map { $0.metrics.isEmpty ? nil : $0.metrics })
        XCTAssertFalse(published.isEmpty)
    }

    /// Build, evaluate, gate and train one recommender on `log`, as the nightly run does on
    /// the first night (nothing published before).
    func stages(
        _ rc: NightlyConfig.Recommender, _ log: EventLog, split: SplitStrategy, config: NightlyConfig, threads: Int
    ) throws -> StageResults {
        let matrices = InteractionMatrixBuilder(definition: rc.definition).build(log).matrices
        let evaluation = try HeldOutEvaluation.run(rc, log: log, split: split, threads: threads, logger: .quiet) { _, _ in }
        let rules = ConsentRules(registry: try ConsentRegistry.load(path: config.consentPath, asOf: config.asOf!),
                                 pseudonymiser: Pseudonymiser(key: try PseudonymKey.load(file: config.keyFile)), policy: config.policy)
        let stage = GateStage(recommender: rc, previous: PreviousRun(run: nil), carryRule: CarryForwardRule(rules: rules, oldestAllowed: nil))
        let outcome = stage.decide(matrices, evaluation: evaluation)
        let fitted = try TrainingStage.fit(outcome.toTrain, threads: threads, logger: .quiet) { _, _ in }
        return StageResults(evaluation: evaluation, outcome: outcome, fitted: fitted)
    }
}
