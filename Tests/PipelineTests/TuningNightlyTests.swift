import Consent
import Evaluation
import Foundation
import Interactions
@testable import Pipeline
import Publishing
import TestSupport
import XCTest

/// `[recommenders.X.tune]` in the nightly: tuned per bucket, recorded, and covered by consent.
final class TuningNightlyTests: XCTestCase {
    func tunedConfig(_ f: NightlyFixture, asOf: String = "2026-11-20T00:00:00Z") -> String {
        f.config("[recommenders.channel.tune]\ntrials = 3\nseed = 5\n[recommenders.emoji.tune]\ntrials = 2", asOf: asOf)
    }

    func testTunedNightly_recordsEachBucketsChoice_inTheReportManifestAndFiles() throws {
        let f = try NightlyFixture(workspaces: 14, events: 30_000)
        let report = try NightlyRun(config: try f.load(tunedConfig(f))).execute(logger: .quiet)
        XCTAssertEqual(report.status, .published, report.text)
        let channel = try XCTUnwrap(report.recommenders.first { $0.recommender == .channel })
        let tuning = try XCTUnwrap(channel.tuning)
        XCTAssertFalse(tuning.isEmpty)
        XCTAssertTrue(tuning.allSatisfy { $0.configuration.factors == 8 && $0.configuration.iterations == 5 }, "the als table's values stay fixed")
        XCTAssertTrue(report.text.contains("tuned for workspaces with"), report.text)

        let run = try PublishedRun.open(try XCTUnwrap(report.runDirectory), seal: ManifestSeal(pseudonymiser: f.pseudonymiser))
        let recorded = try XCTUnwrap(run.manifest.recommenders.first { $0.definition.target == .channel }?.tuning)
        XCTAssertEqual(recorded.map(\.bucket), tuning.map(\.bucket))
        XCTAssertEqual(recorded.map(\.hyperparameters.regularizationExponent), tuning.map { c in c.configuration.regularizationExponent == 0 ? nil : c.configuration.regularizationExponent })
        // Every tuned channel model was trained with its bucket's values and names the bucket's workspaces.
        let byWorkspaces = Dictionary(tuning.map { ($0.workspaces, $0) }) { a, _ in a }
        var tuned = 0
        for entry in run.manifest.models where entry.recommender == "channel" {
            guard let on = entry.tunedOn else { continue }
            let choice = try XCTUnwrap(byWorkspaces[on])
            let file = try run.model(entry)
            XCTAssertEqual(file.tunedOn, on)
            XCTAssertEqual(file.hyperparameters.alpha, choice.configuration.alpha)
            XCTAssertEqual(file.hyperparameters.unobservedWeight ?? 1, choice.configuration.unobservedWeight)
            tuned += 1
        }
        XCTAssertGreaterThan(tuned, 3)
        // The global model was tuned on workspaces that shaped it anyway.
        let global = try XCTUnwrap(run.manifest.models.first { $0.scope == "global" })
        XCTAssertTrue(Set(try XCTUnwrap(global.tunedOn)).isSubset(of: Set(global.provenance.workspaces)))
        XCTAssertEqual(try f.audit().check(run), [])

        // Reproducible: the same config gives the same bytes.
        let again = try NightlyRun(config: try f.load(tunedConfig(f).replacingOccurrences(of: "root = \"out\"", with: "root = \"out2\""), name: "2.toml"))
            .execute(logger: .quiet)
        let second = try PublishedRun.open(try XCTUnwrap(again.runDirectory))
        XCTAssertEqual(second.manifest.models.map(\.sha256), run.manifest.models.map(\.sha256))
    }

    func testAnOptOut_reachesEveryModelTunedOnThatWorkspace() throws {
        let f = try NightlyFixture(workspaces: 14, events: 30_000)
        let report = try NightlyRun(config: try f.load(tunedConfig(f))).execute(logger: .quiet)
        let run = try PublishedRun.open(try XCTUnwrap(report.runDirectory))
        // A workspace whose validation events tuned other workspaces' channel models.
        let raw = try f.rawWorkspaces()
        let entries = run.manifest.models.filter { $0.recommender == "channel" && ($0.tunedOn?.count ?? 0) > 1 }
        let victim = try XCTUnwrap(entries.first?.tunedOn?.first { tuner in entries.contains { $0.workspace != tuner } })
        let others = entries.filter { $0.tunedOn!.contains(victim) && $0.workspace != victim }
        XCTAssertFalse(others.isEmpty)
        try f.record(try XCTUnwrap(raw[victim]), "opted_out", at: "2026-11-21T00:00:00Z")

        // The audit fails for each of them, by its tuning, not its training data.
        let findings = try f.audit().check(run)
        for entry in others {
            XCTAssertTrue(findings.contains { $0.location == entry.path && $0.problem.contains("hyper-parameters tuned on events of") }, entry.path)
        }
        // None may be carried forward; the purge of the next run withdraws the run.
        let rules = ConsentRules(registry: try f.todaysRegistry(), pseudonymiser: f.pseudonymiser, policy: .optOut)
        for entry in others { XCTAssertNotNil(CarryForwardRule(rules: rules, oldestAllowed: nil).refusal(entry)) }
        let next = try NightlyRun(config: try f.load(tunedConfig(f, asOf: "2026-11-22T00:00:00Z"), name: "next.toml")).execute(logger: .quiet)
        XCTAssertTrue(next.purge.withdrawn.contains { $0.runID == run.manifest.runID }, next.text)
        let current = try PublishedRun.open(f.root.path)
        XCTAssertEqual(try f.audit().check(current), [])
        XCTAssertFalse(current.manifest.models.contains { $0.shapedBy.contains(victim) })
    }
}
