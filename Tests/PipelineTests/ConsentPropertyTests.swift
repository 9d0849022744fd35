import Consent
import Foundation
import Ingest
import Linalg
@testable import Pipeline
import Platform
@_spi(Testing) import Publishing
import XCTest

/// Random sequences of nightly runs over a generated log, with random registry changes between
/// nights (opt-outs, re-opt-ins, both policies), gates forced to fail and runs killed at random
/// points. After every night, for `current` and every retained run: no model was shaped by a
/// workspace the registry excludes today, and every model's bytes equal those of a model
/// trained on the allowed rows alone — or the model is gone. The reference is a nightly run of
/// its own (gates open, nothing before it) on a log with the excluded rows physically removed:
/// the full models start from held-out models, so the split must not depend on them either.
///
/// `CONSENTREC_PROPERTY_SEQUENCES` sets how many sequences run (default 4; `make
/// consent-properties` runs 40).
final class ConsentPropertyTests: XCTestCase {
    /// What a published run was trained from, to train it again.
    struct Night {
        let asOf: Int64
        let registry: String
        let policy: ConsentPolicy
    }

    var sequences: Int { Int(ProcessInfo.processInfo.environment["CONSENTREC_PROPERTY_SEQUENCES"] ?? "") ?? 4 }
    /// Models compared with a retrained reference, and runs withdrawn, over all sequences.
    var compared = 0, withdrawn = 0, carried = 0

    func testRandomNights_neverKeepAModelOfAnExcludedWorkspace_andEveryModelIsTheAllowedRowsModel() throws {
        for seed in 1...UInt64(sequences) { try sequence(seed: seed) }
        // The sequences must exercise what they claim to.
        XCTAssertGreaterThan(compared, 10 * sequences)
        XCTAssertGreaterThan(withdrawn, 0)
        XCTAssertGreaterThan(carried, 0)
    }

    func sequence(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed &* 7919)
        let policy: ConsentPolicy = rng.nextUnit() < 0.5 ? .optOut : .optIn
        let f = try NightlyFixture(workspaces: 6, events: 5_000, optedOutShare: 0.2, seed: seed)
        let workspaces = try f.rawWorkspaces().values.sorted()
        var nights: [String: Night] = [:]
        for night in 0..<(3 + rng.nextIndex(below: 4)) {
            let asOf = f.options.end + Int64(night + 1) * 86_400
            for _ in 0..<(1 + rng.nextIndex(below: 2)) {
                let w = workspaces[rng.nextIndex(below: workspaces.count)]
                try f.record(w, rng.nextUnit() < 0.6 ? "opted_out" : "opted_in", at: Timestamp.format(asOf - 3600))
            }
            let config = f.config(
                channelGate: rng.nextUnit() < 0.3 ? NightlyFixture.impossibleGate : "min_lift_over_popularity = -1.0\nmin_test_users = 3",
                emojiGate: rng.nextUnit() < 0.3 ? NightlyFixture.impossibleGate : "min_lift_over_popularity = -1.0",
                asOf: Timestamp.format(asOf), keepRuns: 3, policy: policy)
            var run = NightlyRun(config: try f.load(config, name: "night\(night).toml"))
            let kill = rng.nextUnit()
            if kill < 0.2 { run.purgeFaults = FaultInjection(failAtStep: rng.nextIndex(below: 4)) }
            else if kill < 0.4 { run.faults = FaultInjection(failAtStep: rng.nextIndex(below: 12)) }
            let label = "seed \(seed) night \(night) (\(policy.rawValue), kill \(kill < 0.2 ? "purge" : kill < 0.4 ? "write" : "none"))"
            do {
                let report = try run.execute(logger: f.quiet)
                withdrawn += report.purge.withdrawn.count
                carried += report.carriedForward.count
                nights[report.runID] = Night(asOf: asOf, registry: try String(contentsOfFile: f.registryPath, encoding: .utf8), policy: policy)
            } catch let error as NightlyError {
                if case .gate = error {} else if case .withdrawn = error {} else if case .io = error {} else { XCTFail("\(label): \(error)") }
            }
            try checkStructure(f, label)
            // A purge killed before it finished is completed by the next night; every other
            // outcome must already hold the invariant.
            if kill >= 0.2 { try checkInvariant(f, nights: nights, policy: policy, label) }
        }
    }

    /// Every visible run is complete and verifies; `current` points at one of them.
    func checkStructure(_ f: NightlyFixture, _ label: String) throws {
        for name in f.root.runs() { XCTAssertEqual(try PublishedRun.open(f.root.path + "/runs/" + name).verify(seal: ManifestSeal(pseudonymiser: f.pseudonymiser)), [], label) }
        if let current = f.root.currentRun { XCTAssertTrue(f.root.runs().contains((current as NSString).lastPathComponent), label) }
    }

    func checkInvariant(_ f: NightlyFixture, nights: [String: Night], policy: ConsentPolicy, _ label: String) throws {
        let audit = try f.audit(policy: policy)
        let today = try f.todaysRegistry()
        var references: [String: PublishedRun] = [:]
        for (run, entry) in try f.allModels() {
            XCTAssertEqual(audit.rules.violations(entry.provenance), [], "\(label): \(run.manifest.runID) \(entry.path)")
            let origin = entry.carriedFrom ?? run.manifest.runID
            guard let night = nights[origin] else { return XCTFail("\(label): \(entry.path) comes from an unknown run \(origin)") }
            if references[origin] == nil { references[origin] = try retrain(f, night, today: today, policy: policy, id: origin) }
            let reference = references[origin]!
            compared += 1
            XCTAssertEqual(FileManager.default.contents(atPath: run.directory + "/" + entry.path),
                           FileManager.default.contents(atPath: reference.directory + "/" + entry.path),
                           "\(label): \(entry.path) of \(run.manifest.runID) differs from a model trained on the allowed rows alone")
        }
    }

    /// The run's models trained again by a nightly run with open gates and no earlier run, from
    /// a log with every row of every workspace excluded *today* physically removed, under that
    /// night's registry and as-of.
    func retrain(_ f: NightlyFixture, _ night: Night, today: ConsentRegistry, policy: ConsentPolicy, id: String) throws -> PublishedRun {
        // Today's registry changes from night to night, and with it the reference.
        let base = f.dir.path + "/reference-\(id)"
        try? FileManager.default.removeItem(atPath: base)
        try FileManager.default.createDirectory(atPath: base + "/data", withIntermediateDirectories: true)
        let text = try String(contentsOfFile: f.dir.path + "/data/events.csv", encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let kept = [lines[0]] + lines.dropFirst().filter { line in
            guard let w = line.split(separator: ",", omittingEmptySubsequences: false).dropFirst().first else { return false }
            return today.exclusion(of: String(w), policy: policy) == nil
        }
        try kept.joined(separator: "\n").write(toFile: base + "/data/events.csv", atomically: true, encoding: .utf8)
        try night.registry.write(toFile: base + "/data/consent.csv", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: f.dir.path + "/data/pseudonym.key", toPath: base + "/data/pseudonym.key")
        let open = "min_lift_over_popularity = -1.0\nmax_drop_from_last_run = 1.0\nmin_test_users = 1"
        let path = base + "/nightly.toml"
        try f.config(channelGate: open, emojiGate: open, asOf: Timestamp.format(night.asOf), policy: night.policy)
            .write(toFile: path, atomically: true, encoding: .utf8)
        let report = try NightlyRun(config: try NightlyConfig.load(path: path)).execute(logger: f.quiet)
        return try PublishedRun.open(try XCTUnwrap(report.runDirectory))
    }
}
