import Consent
import Foundation
import Ingest
import Interactions
import Logging
@testable import Pipeline
import Platform
@_spi(Testing) import Publishing
import SyntheticData
import TestSupport
import XCTest

/// Consent across time: an opt-out reaches every model that exists — the current run, every
/// run kept for rollback, every model that would be carried forward.
final class ConsentAcrossRunsTests: XCTestCase {
    var f: NightlyFixture!

    override func setUpWithError() throws { f = try NightlyFixture() }

    func run(_ text: String, name: String = "n.toml") throws -> NightlyReport {
        try NightlyRun(config: f.load(text, name: name)).execute(logger: f.quiet)
    }

    /// A workspace (raw id) that shaped both a channel model and the global model of a run.
    func contributor(of run: PublishedRun) throws -> String {
        let global = try XCTUnwrap(run.manifest.models.first { $0.scope == "global" })
        let channel = Set(run.manifest.models.compactMap(\.workspace))
        let pseudonym = try XCTUnwrap(global.provenance.workspaces.first { channel.contains($0) })
        return try XCTUnwrap(f.rawWorkspaces()[pseudonym])
    }

    /// No model in any complete run under the root was shaped by a workspace excluded today.
    func assertEveryRunCompliant(file: StaticString = #filePath, line: UInt = #line) throws {
        let audit = try f.audit()
        for name in f.root.runs() {
            let run = try PublishedRun.open(f.root.path + "/runs/" + name)
            XCTAssertEqual(audit.check(run), [], "run \(name)", file: file, line: line)
        }
        if let current = f.root.currentRun { XCTAssertEqual(audit.check(try PublishedRun.open(current)), [], file: file, line: line) }
    }

    func testProvenance_namesExactlyTheContributingWorkspaces_andTheirTimeSpan() throws {
        _ = try run(f.config())
        let run = try PublishedRun.open(f.root.path)
        // Independently, from the raw CSV: rows of allowed workspaces that carry an emoji
        // for a positively weighted event (react, post) are the global model's inputs.
        let registry = try ConsentRegistry.load(path: f.registryPath, asOf: f.options.end)
        let text = try String(contentsOfFile: f.dir.path + "/data/events.csv", encoding: .utf8)
        var workspaces = Set<String>(), oldest = Int64.max, newest = Int64.min
        for line in text.split(separator: "\n").dropFirst() {
            let c = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard registry.exclusion(of: c[1], policy: .optOut) == nil, ["react", "post"].contains(c[4]), !c[5].isEmpty,
                let t = Timestamp.parse(c[0]), t <= f.options.end else { continue }
            workspaces.insert(f.pseudonymiser.workspace(c[1]))
            oldest = min(oldest, t)
            newest = max(newest, t)
        }
        let global = try XCTUnwrap(run.manifest.models.first { $0.scope == "global" })
        XCTAssertEqual(global.provenance, Provenance(workspaces: workspaces.sorted(), oldestEvent: oldest, newestEvent: newest))
        for entry in run.manifest.models {
            XCTAssertEqual(try run.model(entry).provenance, entry.provenance, "file and manifest agree")
            if let w = entry.workspace { XCTAssertEqual(entry.provenance.workspaces, [w]) }
        }
        XCTAssertEqual(Set(run.manifest.workspacesUsed), Set(run.manifest.models.flatMap(\.provenance.workspaces)))
    }

    func testCarriedGlobalModel_ofAnOptedOutContributor_isNeverPublishedAgain() throws {
        _ = try run(f.config())
        let first = try PublishedRun.open(f.root.path)
        let w = try contributor(of: first)
        try f.record(w, "opted_out", at: "2026-11-21T00:00:00Z")
        // The new global model fails its gate: the old one must not be carried.
        let report = try run(f.config(emojiGate: NightlyFixture.impossibleGate, asOf: "2026-11-22T00:00:00Z"), name: "n2.toml")
        XCTAssertEqual(report.status, .published)
        XCTAssertFalse(report.published.contains { $0.hasPrefix("models/emoji") })
        XCTAssertFalse(report.carriedForward.contains { $0.path.hasPrefix("models/emoji") })
        XCTAssertEqual(report.purge.withdrawn.map(\.runID), [first.manifest.runID])
        XCTAssertFalse(FileManager.default.fileExists(atPath: first.directory))
        // The purge left nothing current, then this run published: the report says both.
        XCTAssertTrue(report.text.contains("NOTHING IS PUBLISHED now (current removed) — until this run published its own"), report.text)
        try assertEveryRunCompliant()
        let pseudonym = f.pseudonymiser.workspace(w)
        XCTAssertTrue(try f.allModels().allSatisfy { !$0.1.provenance.workspaces.contains(pseudonym) })
    }

    func testEveryGateFailing_afterAnOptOut_withdrawsCurrent_andSaysNothingIsPublished() throws {
        _ = try run(f.config())
        _ = try run(f.config(), name: "again.toml")
        XCTAssertEqual(f.root.runs().count, 2)
        let w = try contributor(of: try PublishedRun.open(f.root.path))
        try f.record(w, "opted_out", at: "2026-11-21T00:00:00Z")
        let hold = f.config(channelGate: NightlyFixture.impossibleGate, emojiGate: NightlyFixture.impossibleGate, asOf: "2026-11-22T00:00:00Z")
        XCTAssertThrowsError(try run(hold, name: "hold.toml")) { error in
            guard case .withdrawn(let report) = error as? NightlyError else { return XCTFail("\(error)") }
            XCTAssertEqual(report.status, .withdrawn)
            XCTAssertEqual(report.purge.withdrawn.count, 2)
            XCTAssertTrue(report.text.contains("NOTHING IS PUBLISHED"), report.text)
        }
        XCTAssertNil(f.root.currentRun)
        XCTAssertEqual(f.root.runs(), [])
        // The next night, with nothing current and still no model passing: nothing is
        // published, said the same way (not "the last run stays current").
        XCTAssertThrowsError(try run(f.config(channelGate: NightlyFixture.impossibleGate, emojiGate: NightlyFixture.impossibleGate,
                                              asOf: "2026-11-23T00:00:00Z"), name: "hold2.toml")) { error in
            guard case .withdrawn(let report) = error as? NightlyError else { return XCTFail("\(error)") }
            XCTAssertEqual(report.purge.withdrawn.count, 0)
            XCTAssertTrue("\(error)".contains("no earlier run is published: NOTHING IS PUBLISHED"), "\(error)")
        }
    }

    func testRetainedRun_failingToday_isWithdrawn_andCurrentMovesToTheNewestCompliantRun() throws {
        // W opted out on night 1, back in for night 2, out again before night 3.
        let wPseudonym = try XCTUnwrap(try PublishedRun.open(try { _ = try run(f.config()); return f.root.path }()).manifest.models.compactMap(\.workspace).first)
        let w = try XCTUnwrap(f.rawWorkspaces()[wPseudonym])
        try FileManager.default.removeItem(atPath: f.root.path)
        try f.record(w, "opted_out", at: "2026-11-19T00:00:00Z")
        let night1 = try run(f.config(asOf: "2026-11-20T00:00:00Z"), name: "1.toml")
        try f.record(w, "opted_in", at: "2026-11-20T06:00:00Z")
        let night2 = try run(f.config(asOf: "2026-11-20T12:00:00Z"), name: "2.toml")
        XCTAssertTrue(try PublishedRun.open(f.root.path).manifest.workspacesUsed.contains(wPseudonym))
        try f.record(w, "opted_out", at: "2026-11-21T00:00:00Z")
        let hold = f.config(channelGate: NightlyFixture.impossibleGate, emojiGate: NightlyFixture.impossibleGate, asOf: "2026-11-22T00:00:00Z")
        XCTAssertThrowsError(try run(hold, name: "3.toml")) { error in
            guard case .gate(let report) = error as? NightlyError else { return XCTFail("\(error)") }
            XCTAssertEqual(report.purge.withdrawn.map(\.runID), [night2.runID])
            XCTAssertEqual(report.purge.currentAfter, night1.runID)
        }
        XCTAssertEqual(f.root.currentRun, night1.runDirectory)
        XCTAssertEqual(f.root.runs(), [night1.runID])
        try assertEveryRunCompliant()
    }

    func testCarryForward_dropsModelsWhoseEventsLeftTheRetentionWindow_andKeepsOthersWithTheirAge() throws {
        _ = try run(f.config(retentionDays: 28))
        // Five days later, the channel gate fails: last run's channel models hold events from
        // before the new window and may not be carried.
        let later = try run(f.config(channelGate: NightlyFixture.impossibleGate, asOf: "2026-11-25T00:00:00Z", retentionDays: 28), name: "later.toml")
        XCTAssertTrue(later.carriedForward.isEmpty)
        XCTAssertFalse(later.dropped.isEmpty)
        XCTAssertTrue(later.dropped.allSatisfy { $0.reason.contains("before the retention window") }, "\(later.dropped)")
        XCTAssertTrue(later.text.contains("not carried forward"), later.text)
        // Without a window, the same failure carries the models, with their first metrics and age.
        let g = try NightlyFixture()
        f = g
        let first = try run(f.config(), name: "a.toml")
        let carried = try run(f.config(channelGate: NightlyFixture.impossibleGate, asOf: "2026-11-25T00:00:00Z"), name: "b.toml")
        XCTAssertFalse(carried.carriedForward.isEmpty)
        XCTAssertTrue(carried.carriedForward.allSatisfy { $0.trainedIn == first.runID })
        let manifest = try PublishedRun.open(f.root.path).manifest
        let old = try PublishedRun.open(first.runDirectory!).manifest
        for c in manifest.models where c.carriedFrom != nil {
            let original = try XCTUnwrap(old.models.first { $0.path == c.path })
            XCTAssertEqual(c.metrics, original.metrics)
            XCTAssertEqual(c.trainedAt, original.trainedAt)
        }
        XCTAssertTrue(carried.text.contains("days old"), carried.text)
    }

    func testCarryForwardRule_refusesAModelOfAWorkspaceNoLongerAllowed() throws {
        _ = try run(f.config())
        let run = try PublishedRun.open(f.root.path)
        let w = try contributor(of: run)
        try f.record(w, "opted_out", at: "2026-11-21T00:00:00Z")
        let rule = CarryForwardRule(rules: try f.audit().rules, oldestAllowed: nil)
        let global = try XCTUnwrap(run.manifest.models.first { $0.scope == "global" })
        XCTAssertTrue(rule.refusal(global)?.contains("has opted out") == true)
        let others = run.manifest.models.filter { !$0.provenance.workspaces.contains(f.pseudonymiser.workspace(w)) }
        XCTAssertFalse(others.isEmpty)
        XCTAssertTrue(others.allSatisfy { rule.refusal($0) == nil })
    }

    func testPrivacyGate_failsClosed_whenTheRegistryCannotBeReadAgain() throws {
        let config = try f.load(f.config())
        let path = f.registryPath
        XCTAssertThrowsError(try NightlyRun(config: config).execute(logger: f.quiet) { progress in
            // The registry disappears while models train: the gate must not use the old copy.
            if progress.stage == .train { try? FileManager.default.moveItem(atPath: path, toPath: path + ".gone") }
        }) { error in
            guard case .consent(let inner) = error as? NightlyError else { return XCTFail("\(error)") }
            XCTAssertEqual(inner as? ConsentError, .registryMissing(path: path))
        }
        XCTAssertNil(f.root.currentRun)
        XCTAssertEqual(f.root.runs(), [])
    }

    func testRecommend_refusesAnExcludedWorkspace_andAModelItShaped_andAppliesRetention() throws {
        _ = try run(f.config())
        let published = try PublishedRun.open(f.root.path)
        let w = try contributor(of: published)
        // A user of W with events, as the operator would name them.
        let text = try String(contentsOfFile: f.dir.path + "/data/events.csv", encoding: .utf8)
        let rows = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let userRow: [String] = try XCTUnwrap(rows.first { $0[1] == w })
        let user = userRow[2]
        func recommendation(_ workspace: String, _ user: String, _ target: RecommenderDefinition.Target = .channel) -> UserRecommendation {
            var r = UserRecommendation(runPath: f.root.path, workspace: workspace, user: user, events: [f.dir.path + "/data/events.csv"],
                                       keyFile: f.dir.path + "/data/pseudonym.key", recommender: target, k: 3, consentPath: f.registryPath)
            r.asOf = f.options.end
            return r
        }
        XCTAssertNoThrow(try recommendation(w, user).execute(logger: f.quiet))
        // Retention: only the last day's events may be folded in, and this user has none then.
        var narrow = recommendation(w, user)
        narrow.asOf = f.options.end + 40 * 86_400
        narrow.retentionDays = 1
        XCTAssertThrowsError(try narrow.execute(logger: f.quiet)) { error in
            guard case .noEvents = error as? UserRecommendation.Failure else { return XCTFail("\(error)") }
        }
        try f.record(w, "opted_out", at: "2026-11-19T00:00:00Z")
        XCTAssertThrowsError(try recommendation(w, user).execute(logger: f.quiet)) { error in
            guard case .excluded(let reason) = error as? UserRecommendation.Failure else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("opted out"))
        }
        // Another workspace's user may not be served the global model W shaped either.
        let registry = try f.todaysRegistry()
        let other = try XCTUnwrap(rows.first { $0[1] != w && registry.exclusion(of: $0[1], policy: .optOut) == nil })
        XCTAssertThrowsError(try recommendation(other[1], other[2], .emoji).execute(logger: f.quiet)) { error in
            guard case .modelNotAllowed = error as? UserRecommendation.Failure else { return XCTFail("\(error)") }
        }
    }

    func testRunOfAnotherPseudonymScheme_isRefusedByTheAudit_andWithdrawnByThePurge() throws {
        _ = try run(f.config())
        let run = try PublishedRun.open(f.root.path)
        let path = run.directory + "/manifest.json"
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        json.removeValue(forKey: "pseudonymScheme")  // what a run of ConsentRec 0.1 looks like
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try PublishedRun.open(f.root.path)) { error in
            XCTAssertEqual(error as? PublishingError, .pseudonymScheme(path: path, found: 1, expected: 2))
            XCTAssertTrue("\(error)".contains("Migrating pseudonyms"))
        }
        let outcome = try PurgeRequest(outputRoot: f.root.path, consentPath: f.registryPath, keyFile: f.dir.path + "/data/pseudonym.key")
            .execute(logger: f.quiet)
        XCTAssertTrue(outcome.withdrewEverything)
        XCTAssertTrue(outcome.withdrawn[0].reasons[0].contains("pseudonym scheme 1"))
        XCTAssertNil(f.root.currentRun)
    }

    func testPurgeKilledAtAnyStep_neverLeavesCurrentOnAFailingRun_andTheNextPurgeFinishes() throws {
        for step in 0..<5 {
            f = try NightlyFixture()
            let night1 = try run(f.config(), name: "1.toml")
            _ = try run(f.config(), name: "2.toml")
            try f.record(try contributor(of: try PublishedRun.open(f.root.path)), "opted_out", at: "2026-11-21T00:00:00Z")
            var killed = NightlyRun(config: try f.load(f.config(asOf: "2026-11-22T00:00:00Z"), name: "3.toml"))
            killed.purgeFaults = FaultInjection(failAtStep: step)
            XCTAssertThrowsError(try killed.execute(logger: f.quiet), "step \(step)")
            // Whatever step it died at, `current` is gone or on a compliant run; nothing half-done is visible.
            if step > 0 { XCTAssertNil(f.root.currentRun, "step \(step)") }
            XCTAssertTrue(f.root.runs().allSatisfy { !$0.hasPrefix(".") })
            let next = try run(f.config(asOf: "2026-11-22T00:00:00Z"), name: "4.toml")
            XCTAssertEqual(next.status, .published)
            try assertEveryRunCompliant()
            XCTAssertFalse(f.root.runs().contains(night1.runID))
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: f.root.path + "/runs").filter { $0.hasPrefix(".") }, [])
        }
    }

    func testPurge_removesLeftoverPartialRuns_whichMayHoldAnyWorkspacesModels() throws {
        _ = try run(f.config(), name: "1.toml")
        // A killed run left a partial directory behind, models and all.
        try FileManager.default.createDirectory(atPath: f.root.path + "/runs/.partial-killed/models/channel", withIntermediateDirectories: true)
        _ = f.dir.write("out/runs/.partial-killed/models/channel/x.safetensors", "model bytes")
        let outcome = try PurgeRequest(outputRoot: f.root.path, consentPath: f.registryPath, keyFile: f.dir.path + "/data/pseudonym.key")
            .execute(logger: f.quiet)
        XCTAssertEqual(outcome.withdrawn, [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: f.root.path + "/runs/.partial-killed"))
        XCTAssertNotNil(f.root.currentRun)
    }

    func testRunsTrainedUnderOptIn_areAuditedUnderOptIn_evenWhenTonightsPolicyIsOptOut() throws {
        _ = try run(f.config(policy: .optIn))
        let current = try XCTUnwrap(f.root.currentRun)
        let pseudonym = try XCTUnwrap(PublishedRun.open(current).manifest.models.compactMap(\.workspace).first)
        let w = try XCTUnwrap(f.rawWorkspaces()[pseudonym])
        // W's opt-in is withdrawn by removing its rows (not an opt-out row): under opt-in it may not be used.
        let text = try String(contentsOfFile: f.registryPath, encoding: .utf8)
        try text.split(separator: "\n").filter { !$0.hasPrefix(w + ",") }.joined(separator: "\n").appending("\n")
            .write(toFile: f.registryPath, atomically: true, encoding: .utf8)
        let report = try run(f.config(asOf: "2026-11-21T00:00:00Z"), name: "optout.toml")
        XCTAssertTrue(report.purge.withdrawn.contains { $0.reasons.joined().contains("is not opted in") }, "\(report.purge)")
    }
}
