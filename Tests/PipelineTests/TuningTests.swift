import Consent
import Evaluation
import Factorization
import Ingest
import Interactions
@testable import Pipeline
import SyntheticData
import TestSupport
import XCTest

final class TuningTests: XCTestCase {
    static let data: (dir: TemporaryDirectory, options: SyntheticEventLog.Options) = {
        let dir = TemporaryDirectory()
        var options = SyntheticEventLog.Options()
        options.workspaces = 14
        options.events = 30_000
        try! SyntheticEventLog(options: options).write(to: dir.path)
        return (dir, options)
    }()

    func request(_ definition: RecommenderDefinition, plan: ALSTuning.Plan?, base: ALSConfiguration) -> EvaluationRequest {
        let d = Self.data
        return EvaluationRequest(
            events: [d.dir.file("events.csv")], consentPath: d.dir.file("consent.csv"), keyFile: d.dir.file("pseudonym.key"),
            ingest: IngestOptions(policy: .optOut, asOf: d.options.end),
            recommenders: [.init(definition: definition, configurations: [base], tune: plan)])
    }

    var emoji: RecommenderDefinition {
        var e = RecommenderDefinition.emojiDefault
        e.minEmojiWorkspaces = 2
        e.minEmojiUsers = 5
        return e
    }

    func testValidation_isCarvedFromTheTrainingPartOnly() throws {
        let d = Self.data
        let registry = try ConsentRegistry.load(path: d.dir.file("consent.csv"), asOf: d.options.end)
        let log = try EventLogReader(options: IngestOptions(policy: .optOut, asOf: d.options.end), registry: registry,
                                     pseudonymiser: Pseudonymiser(key: try PseudonymKey.load(file: d.dir.file("pseudonym.key"))))
            .read([d.dir.file("events.csv")], logger: .quiet)
        for (definition, split) in [(RecommenderDefinition.channelDefault, SplitStrategy.temporal(.lastFraction(0.2))), (emoji, .leaveLast(1)),
                                    (.channelDefault, .random(fraction: 0.2, seed: 4))] {
            let outer = HeldOutSplit.make(log, definition: definition, split: split).pairs
            var trainingPairs = Set<String>()
            for (train, _) in outer {
                for u in 0..<train.matrix.rows {
                    for c in train.matrix.row(u).columns { trainingPairs.insert((train.workspace ?? "") + train.userIDs[u] + "|" + train.itemIDs[Int(c)]) }
                }
            }
            let validation = ALSTuning.validation(log, definition: definition, split: split, preSplit: false, threads: 2)
            var seen = 0
            for (train, held) in validation {
                for (m, ids) in [(train.matrix, train.itemIDs), (held.test, train.itemIDs)] {
                    for u in 0..<m.rows {
                        for c in m.row(u).columns {
                            XCTAssertTrue(trainingPairs.contains((train.workspace ?? "") + train.userIDs[u] + "|" + ids[Int(c)]), "\(split)")
                            seen += 1
                        }
                    }
                }
            }
            XCTAssertGreaterThan(seen, 1000)
            XCTAssertGreaterThan(validation.reduce(0) { $0 + $1.held.test.nonZeros }, 50, "a validation split with held-out data: \(split)")
        }
    }

    func testTuning_isReproducible_neverWorseThanConfiguredOnValidation_andKeepsGivenValues() throws {
        var plan = ALSTuning.Plan()
        plan.trials = 6
        plan.fixed = ["factors"]
        let base = ALSConfiguration(factors: 8, regularization: 0.01, iterations: 5, threads: 2)
        let a = try EvaluationRun(request: request(emoji, plan: plan, base: base)).execute(logger: .quiet).recommenders[0]
        let b = try EvaluationRun(request: request(emoji, plan: plan, base: base)).execute(logger: .quiet).recommenders[0]
        let choice = try XCTUnwrap(a.tuning?.first)
        XCTAssertEqual(a.tuning, b.tuning)
        XCTAssertEqual(choice.bucket, "global")
        XCTAssertEqual(choice.configuration.factors, 8, "a given hyper-parameter stays fixed")
        XCTAssertEqual(choice.trials, 6)
        // The configured values are the first candidate: tuning never picks worse on validation.
        let untuned = ALSTuning(definition: emoji, base: base, plan: { var p = plan; p.trials = 1; return p }(), metric: .ndcg, k: 10)
        let registry = try ConsentRegistry.load(path: Self.data.dir.file("consent.csv"), asOf: Self.data.options.end)
        let log = try EventLogReader(options: IngestOptions(policy: .optOut, asOf: Self.data.options.end), registry: registry,
                                     pseudonymiser: Pseudonymiser(key: try PseudonymKey.load(file: Self.data.dir.file("pseudonym.key"))))
            .read([Self.data.dir.file("events.csv")], logger: .quiet)
        let validation = ALSTuning.validation(log, definition: emoji, split: .temporal(.lastFraction(0.2)), preSplit: false, threads: 2)
        let configured = try XCTUnwrap(try untuned.tune(validation: validation, bucketOf: { _ in 0 }, logger: .quiet)[0])
        XCTAssertEqual(configured.configuration, base)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(choice.validationScore), try XCTUnwrap(configured.validationScore))
        // The tuned row is that configuration scored on the test split.
        let tunedRow = try XCTUnwrap(a.rows.first { $0.tuned == true })
        let direct = try EvaluationRun(request: request(emoji, plan: nil, base: choice.configuration)).execute(logger: .quiet).recommenders[0].rows[0]
        XCTAssertEqual(tunedRow.metrics, direct.metrics)
    }

    func testPerWorkspaceRecommenders_areTunedPerSizeBucket() throws {
        var plan = ALSTuning.Plan()
        plan.trials = 3
        plan.strategy = .halving
        let report = try EvaluationRun(request: request(.channelDefault, plan: plan, base: ALSConfiguration(factors: 8, iterations: 6, threads: 2)))
            .execute(logger: .quiet).recommenders[0]
        let buckets = try XCTUnwrap(report.tuning).map(\.bucket)
        XCTAssertGreaterThanOrEqual(buckets.count, 2, "\(buckets)")
        XCTAssertTrue(buckets.allSatisfy { $0.hasPrefix("workspaces with") }, "\(buckets)")
        XCTAssertTrue(report.rows.contains { $0.tuned == true && $0.name.contains("per size bucket") })
        XCTAssertEqual(ALSTuning.bucket(users: 49), 0)
        XCTAssertEqual(ALSTuning.bucket(users: 50), 1)
        XCTAssertEqual(ALSTuning.bucket(users: 500), 2)
    }
}
