import Consent
import Evaluation
import Foundation
import Ingest
import Interactions
@testable import Pipeline
import Platform
import Privacy
import Publishing
import TestSupport
import XCTest

/// `[recommenders.emoji.privacy]` in the nightly job: the published global model carries its
/// plan, noisy counts and the run's window, the gate reads only noisy figures, the bytes are
/// reproducible, consent still reaches it, and every setting a private model cannot honour is
/// refused by name.
final class PrivateNightlyTests: XCTestCase {
    static let privacy = "[recommenders.emoji.privacy]\nepsilon = 8.0\nmax_items_per_user = 8"
    static let split = "[recommenders.emoji.evaluation]\nsplit = \"random:0.3\""

    func fixture() throws -> NightlyFixture { try NightlyFixture(workspaces: 60, events: 150_000, optedOutShare: 0.1) }

    func config(
        _ f: NightlyFixture, root: String = "out", privacy: String = privacy, asOf: String = "2026-11-20T00:00:00Z", emojiGate: String? = nil,
        retentionDays: Int? = 60
    ) -> String {
        f.config(privacy + "\n" + Self.split, emojiGate: emojiGate ?? "min_lift_over_popularity = -1.0", root: root, asOf: asOf, retentionDays: retentionDays)
    }

    func testPrivateNightly_publishesTheNoisyModelWithItsPlan_reproducibly() throws {
        let f = try fixture()
        let report = try NightlyRun(config: try f.load(config(f))).execute(logger: .quiet)
        XCTAssertEqual(report.status, .published, report.text)
        let emoji = try XCTUnwrap(report.recommenders.first { $0.recommender == .emoji })
        let summary = try XCTUnwrap(emoji.privacy)
        XCTAssertGreaterThan(summary.admitted, 5, report.text)
        XCTAssertTrue(report.text.contains("private: ε = 8"), report.text)
        let run = try PublishedRun.open(try XCTUnwrap(report.runDirectory), seal: ManifestSeal(pseudonymiser: f.pseudonymiser))
        let entry = try XCTUnwrap(run.manifest.models.first { $0.scope == "global" })
        let file = try run.model(entry)
        let plan = try XCTUnwrap(file.privacy)
        XCTAssertEqual(entry.privacy, plan)
        XCTAssertLessThanOrEqual(plan.epsilon, 8 + 1e-9)
        XCTAssertEqual(plan.parameters.maxItemsPerUser, 8)
        XCTAssertEqual(plan.training.mechanisms.map(\.count), [1, 5, 5, 5], "the vocabulary once, each of 5 iterations' statistics")
        XCTAssertEqual(file.hyperparameters.solver, "cholesky")
        XCTAssertNil(file.hyperparameters.warmStartIterations, "fitted once, from seeded factors")
        // Published counts are the noisy ones, and its popularity is them.
        XCTAssertEqual(file.itemPopularity, file.support?.itemUserCounts)
        XCTAssertGreaterThanOrEqual(file.support!.itemUserCounts.min()!, Int((5 + plan.selectionMargin).rounded(.down)))
        // The provenance's span is the run's window, not one person's first and last event.
        XCTAssertEqual(file.provenance.oldestEvent, Timestamp.parse("2026-09-21T00:00:00Z"))
        XCTAssertEqual(file.provenance.newestEvent, Timestamp.parse("2026-11-20T00:00:00Z"))
        // The manifest records the noisy figures the gate judged, as the report's gate does.
        let gate = try XCTUnwrap(emoji.models.first)
        XCTAssertEqual(entry.metrics?["ndcg@10"], gate.model)
        XCTAssertEqual(entry.metrics?["popularity_ndcg@10"], gate.popularity)
        XCTAssertEqual(entry.ranker, gate.ranker.description)
        XCTAssertNotEqual(gate.model, emoji.model.textbook.ndcg, "noisy, not the exact held-out figure")
        XCTAssertEqual(gate.model ?? 0, emoji.model.textbook.ndcg, accuracy: 0.05, "but close to it at this size")
        XCTAssertEqual(try f.audit().check(run), [])

        let again = try NightlyRun(config: try f.load(config(f, root: "out2"), name: "2.toml")).execute(logger: .quiet)
        let second = try PublishedRun.open(try XCTUnwrap(again.runDirectory))
        XCTAssertEqual(second.manifest.models.first { $0.scope == "global" }?.sha256, entry.sha256, "same inputs, seed and key: same bytes")

        // An independent accountant (Google's dp-accounting) recomputes ε from the file alone.
        let python = try XCTUnwrap(ProcessInfo.processInfo.environment["CONSENTREC_PYTHON"], "run the tests with `make test`, which installs dp-accounting")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/scripts/dp_epsilon.py"
        let result = try CommandRunner.run(python, [script, run.directory + "/" + entry.path], absolute: true)
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        let line = try XCTUnwrap(out.split(separator: "\n").first { $0.hasPrefix("guarantee:") })
        let epsilon = try XCTUnwrap(Double(line.split(separator: " ")[2]))
        XCTAssertEqual(epsilon, 8, accuracy: 0.08, out)
    }

    /// `train` with the same config fits the same private model — same people, same noise —
    /// and never publishes user factors of it.
    func testHandRetrain_fitsTheNightlysPrivateModel() throws {
        let f = try fixture()
        let config = try f.load(config(f))
        let nightly = try NightlyRun(config: config).execute(logger: .quiet)
        let night = try PublishedRun.open(try XCTUnwrap(nightly.runDirectory))
        let recommenders = config.recommendersAtRunThreads.map { TrainingRequest.Recommender(definition: $0.definition, als: $0.als, privacy: $0.privacy) }
        func request(_ root: String, userFactors: Bool = false) -> TrainingRequest {
            TrainingRequest(events: config.events, consentPath: config.consentPath, keyFile: config.keyFile, ingest: config.ingestOptions(asOf: config.asOf!),
                            recommenders: recommenders, outputRoot: f.dir.path + "/" + root, includeUserFactors: userFactors)
        }
        let trained = try TrainingRun(request: request("train")).execute(logger: .quiet)
        let run = try PublishedRun.open(trained.runDirectory)
        let a = try run.model(try XCTUnwrap(run.manifest.models.first { $0.scope == "global" }))
        let b = try night.model(try XCTUnwrap(night.manifest.models.first { $0.scope == "global" }))
        XCTAssertEqual(a.privacy, b.privacy)
        XCTAssertEqual(a.itemIDs, b.itemIDs)
        XCTAssertEqual(a.itemFactors, b.itemFactors)
        XCTAssertNil(a.userFactors)
        XCTAssertThrowsError(try TrainingRun(request: request("users", userFactors: true)).execute(logger: .quiet)) {
            XCTAssertTrue("\($0)".contains("user factors"), "\($0)")
        }
    }

    /// `evaluate` of a private recommender: every row on the same held-out people, the private
    /// rows between random and (nearly) the non-private model, a vocabulary too noisy to admit
    /// anything scoring 0.
    func testEvaluate_putsThePrivateModelBesideTheNonPrivateOne_onTheSamePeople() throws {
        let f = try fixture()
        let config = try f.load(config(f))
        let emoji = try XCTUnwrap(config.recommendersAtRunThreads.first { $0.definition.target == .emoji })
        var rc = EvaluationRequest.Recommender(definition: emoji.definition, configurations: [emoji.als], split: emoji.split, k: 10,
                                               gate: emoji.gate, ranker: emoji.ranker)
        rc.privacy = emoji.privacy
        rc.epsilons = [0.05, 50]
        let request = EvaluationRequest(events: config.events, consentPath: config.consentPath, keyFile: config.keyFile,
                                        ingest: config.ingestOptions(asOf: config.asOf!), recommenders: [rc])
        let report = try EvaluationRun(request: request).execute(logger: .quiet)
        let rows = try XCTUnwrap(report.recommenders.first?.rows)
        XCTAssertEqual(rows.map { String($0.name.prefix(9)) }, ["ALS chole", "private ε", "private ε", "popularit", "random"])
        XCTAssertEqual(rows[1].name, "private ε=0.05: no emoji admitted")
        XCTAssertEqual(rows[1].metrics.textbook.ndcg, 0)
        let users = rows[0].metrics.users
        XCTAssertGreaterThan(users, 100)
        for i in [2, 3, 4] { XCTAssertEqual(rows[i].metrics.users, users, rows[i].name) }
        let ndcg = rows.map(\.metrics.textbook.ndcg)
        XCTAssertGreaterThan(ndcg[2], ndcg[4], "the private model at ε = 50 beats random")
        XCTAssertGreaterThan(ndcg[2], 0.8 * ndcg[0], "and is close to the non-private model")
        XCTAssertTrue(report.split.contains("people held out"), report.split)
    }

    /// Without a retention window the last model may be carried; with one, its provenance
    /// starts at its own run's window start, which tomorrow's window no longer covers.
    func testGate_judgesTheNoisyFigures_andAFailureCarriesTheLastModel() throws {
        let f = try fixture()
        let first = try NightlyRun(config: try f.load(config(f, retentionDays: nil))).execute(logger: .quiet)
        XCTAssertTrue(first.published.contains("models/emoji/global.safetensors"), first.text)
        let failing = config(f, asOf: "2026-11-21T00:00:00Z", emojiGate: "min_lift_over_popularity = 5.0", retentionDays: nil)
        let report = try NightlyRun(config: try f.load(failing, name: "2.toml")).execute(logger: .quiet)
        let gate = try XCTUnwrap(report.recommenders.first { $0.recommender == .emoji }?.models.first)
        guard case .failed(let reason) = gate.verdict else { return XCTFail("\(gate.verdict)") }
        XCTAssertTrue(reason.contains(String(format: "%.4f", gate.model ?? -1)), "the verdict names the noisy figure: \(reason)")
        XCTAssertTrue(report.carriedForward.contains { $0.path == "models/emoji/global.safetensors" }, report.text)
    }

    /// Turning privacy on never lets the last, non-private model be carried in place of a
    /// private one that failed its gate.
    func testANonPrivateModel_isNeverCarriedForAPrivateRecommender() throws {
        let f = try fixture()
        let plain = f.config("[recommenders.emoji.evaluation]\nsplit = \"random:0.3\"", emojiGate: "min_lift_over_popularity = -1.0")
        _ = try NightlyRun(config: try f.load(plain)).execute(logger: .quiet)
        let failing = config(f, asOf: "2026-11-21T00:00:00Z", emojiGate: "min_lift_over_popularity = 5.0", retentionDays: nil)
        let report = try NightlyRun(config: try f.load(failing, name: "2.toml")).execute(logger: .quiet)
        XCTAssertFalse(report.carriedForward.contains { $0.path == "models/emoji/global.safetensors" }, report.text)
        let dropped = try XCTUnwrap(report.dropped.first { $0.path == "models/emoji/global.safetensors" }, report.text)
        XCTAssertTrue(dropped.reason.contains("without differential privacy"), dropped.reason)
    }

    /// The noise is keyed by everything the model is made from: the same inputs and
    /// configuration give the same key; another ε, registry or data option another.
    func testNoiseContext_changesWithTheConfigurationTheRegistryAndTheData() throws {
        let f = try NightlyFixture()
        let config = try f.load(config(f))
        let log = try f.read(config)
        let rc = try XCTUnwrap(config.recommenders.first { $0.privacy != nil })
        let ingest = config.ingestOptions(asOf: config.asOf!)
        func context(_ p: PrivacyParameters? = nil, ingest i: IngestOptions? = nil, registry: String = "r", _ change: (inout NightlyConfig.Recommender) -> Void = { _ in }) -> String {
            var r = rc
            change(&r)
            return PrivateGlobalModel.noiseContext(log, ingest: i ?? ingest, registrySHA256: registry, recommender: r, parameters: p ?? rc.privacy!)
        }
        var other = rc.privacy!
        other.epsilon = 4
        var retention = ingest
        retention.retentionDays = 30
        var later = ingest
        later.asOf += 1
        let all = [context(), context(other), context(registry: "s"), context(ingest: retention), context(ingest: later),
                   context { $0.als.regularization = 2 }, context { $0.definition.minEmojiUsers += 1 }]
        XCTAssertEqual(Set(all).count, all.count)
        XCTAssertEqual(context(), context { $0.als.threads = 7 }, "threads never change a byte")
    }

    func testAnOptOut_reachesThePrivateModel() throws {
        let f = try fixture()
        _ = try NightlyRun(config: try f.load(config(f))).execute(logger: .quiet)
        let first = try PublishedRun.open(f.root.path)
        let global = try XCTUnwrap(first.manifest.models.first { $0.scope == "global" })
        let pseudonym = try XCTUnwrap(global.provenance.workspaces.first)
        try f.record(try XCTUnwrap(f.rawWorkspaces()[pseudonym]), "opted_out", at: "2026-11-21T00:00:00Z")
        let report = try NightlyRun(config: try f.load(config(f, asOf: "2026-11-22T00:00:00Z"), name: "2.toml")).execute(logger: .quiet)
        XCTAssertEqual(report.purge.withdrawn.map(\.runID), [first.manifest.runID])
        XCTAssertTrue(try f.allModels().allSatisfy { !$0.1.provenance.workspaces.contains(pseudonym) })
    }

    func testPrivacyOff_givesTheSameBytesAsNoPrivacyTable() throws {
        let f = try NightlyFixture()
        let plain = try NightlyRun(config: try f.load(f.config(root: "a"))).execute(logger: .quiet)
        let off = try NightlyRun(config: try f.load(f.config("[recommenders.emoji.privacy]\nenabled = false\nepsilon = 1.0", root: "b"), name: "b.toml"))
            .execute(logger: .quiet)
        let a = try PublishedRun.open(try XCTUnwrap(plain.runDirectory)), b = try PublishedRun.open(try XCTUnwrap(off.runDirectory))
        XCTAssertEqual(a.manifest.models.map(\.sha256), b.manifest.models.map(\.sha256))
        XCTAssertEqual(a.manifest.configDigest, b.manifest.configDigest)
        XCTAssertNil(a.manifest.models.first { $0.scope == "global" }?.privacy)
    }

    func testSettingsAPrivateModelCannotHonour_areRefusedByName() throws {
        let f = try NightlyFixture(workspaces: 2, events: 200)
        let on = "[recommenders.emoji.privacy]\nepsilon = 4.0"
        let cases: [(String, String)] = [
            ("[recommenders.emoji.privacy]\ndelta = 1e-7", "recommenders.emoji.privacy.epsilon"),
            ("[recommenders.emoji.privacy]\nepsilon = 0.0", "recommenders.emoji.privacy.epsilon"),
            ("[recommenders.emoji.privacy]\nepsilon = 4.0\ndelta = 0.5", "recommenders.emoji.privacy.delta"),
            ("[recommenders.emoji.privacy]\nepsilon = 4.0\nbounding = \"popular\"", "recommenders.emoji.privacy.bounding"),
            ("[recommenders.emoji.privacy]\nepsilon = 4.0\nmax_norm = -1", "recommenders.emoji.privacy.max_norm"),
            ("[recommenders.emoji.privacy]\nepsilon = 4.0\nsigma = 1", "recommenders.emoji.privacy.sigma"),
            (on + "\n[recommenders.emoji.evaluation]\nsplit = \"temporal:0.2\"", "recommenders.emoji.evaluation.split"),
            (on + "\n[recommenders.emoji.tune]\ntrials = 2", "recommenders.emoji.tune"),
            ("[recommenders.channel.privacy]\nepsilon = 4.0", "recommenders.channel.privacy"),
        ]
        let inTable = [
            (f.config(on).replacingOccurrences(of: "[recommenders.emoji.als]", with: "[recommenders.emoji.als]\nwarm_start_iterations = 2"),
             "recommenders.emoji.als.warm_start_iterations"),
            (f.config(on, emojiGate: "metric = \"coverage\""), "recommenders.emoji.gate.metric"),
            (f.config(on).replacingOccurrences(of: "[recommenders.emoji.als]", with: "[recommenders.emoji.als]\nsolver = \"cg\""), "recommenders.emoji.als.solver"),
        ]
        for (text, key) in cases.map({ (f.config($0.0), $0.1) }) + inTable {
            XCTAssertThrowsError(try f.load(text), key) { error in
                XCTAssertTrue("\(error)".contains("'\(key)'"), "\(key) → \(error)")
            }
        }
        let workspace = f.config(on).replacingOccurrences(of: "[recommenders.emoji]\n", with: "[recommenders.emoji]\nscope = \"workspace\"\n")
        XCTAssertThrowsError(try f.load(workspace)) { XCTAssertTrue("\($0)".contains("only for the global emoji model"), "\($0)") }
        // Without a split, a private model is judged on a random 20% of each held-out person's emoji.
        let config = try f.load(f.config(on))
        let emoji = try XCTUnwrap(config.recommenders.first { $0.definition.target == .emoji })
        XCTAssertEqual(emoji.split.description, SplitStrategy.random(fraction: 0.2, seed: 0).description)
        XCTAssertEqual(emoji.als.solver, .cholesky)
        XCTAssertEqual(emoji.privacy?.epsilon, 4)
    }
}
