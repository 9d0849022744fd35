import Consent
import Foundation
import Ingest
import Platform
import Publishing
import TestSupport
import XCTest

/// `kill -9` at random moments of real `train` and `run` processes. After each kill the
/// output root must hold a complete, verified, compliant `current` and no visible partial run,
/// and the next run must succeed. `make test` kills 20 times; `make crash-test` 200.
final class CrashSafetyTests: XCTestCase {
    let dir = TemporaryDirectory()
    var root: String { dir.path + "/out" }
    static var kills: Int { Int(ProcessInfo.processInfo.environment["CONSENTREC_CRASH_KILLS"] ?? "") ?? 20 }

    var trainArgs: [String] {
        ["train", "--events", dir.file("events.csv"), "--consent", dir.file("consent.csv"), "--key-file", dir.file("pseudonym.key"),
         "--as-of", "2026-11-20T00:00:00Z", "--out", root, "--factors", "4", "--iterations", "3", "--keep-runs", "2"]
    }

    var runArgs: [String] { ["run", "--config", dir.file("nightly.toml")] }

    override func setUpWithError() throws {
        let generated = try CommandRunner.run("consentrec", ["generate", "--out", dir.path, "--workspaces", "8", "--events", "8000", "--seed", "3"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        dir.write("nightly.toml", """
            [input]
            events = ["events.csv"]
            [consent]
            registry = "consent.csv"
            [privacy]
            key_file = "pseudonym.key"
            as_of = "2026-11-20T00:00:00Z"
            [output]
            root = "out"
            keep_runs = 2
            [recommenders.channel.als]
            factors = 4
            iterations = 3
            [recommenders.channel.gate]
            min_lift_over_popularity = -1.0
            [recommenders.emoji]
            min_emoji_workspaces = 2
            min_emoji_users = 3
            [recommenders.emoji.gate]
            min_lift_over_popularity = -1.0
            """)
    }

    func testKill9AtRandomMoments_leavesCurrentComplete_andTheNextRunSucceeds() throws {
        // Full runs first: their durations bound the kill times, and `current` exists.
        var durations: [Double] = []
        for args in [trainArgs, runArgs] {
            let started = Date()
            let full = try CommandRunner.run("consentrec", args)
            XCTAssertEqual(full.status, 0, full.stderr)
            durations.append(Date().timeIntervalSince(started))
        }
        var random = SplitMix(seed: 20261122)
        var outcomes: [String: Int] = [:]
        for i in 0..<Self.kills {
            let args = i % 2 == 0 ? trainArgs : runArgs
            let delay = durations[i % 2] * 0.95 * random.unit()
            let process = try CommandRunner.start("consentrec", args)
            usleep(UInt32(delay * 1_000_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            outcomes[process.terminationReason == .uncaughtSignal ? "killed" : "finished first", default: 0] += 1
            try checkRoot("after kill \(i) at \(String(format: "%.3f", delay)) s")
            let next = try CommandRunner.run("consentrec", args)
            XCTAssertEqual(next.status, 0, "the run after kill \(i): \(next.stderr)")
            try checkRoot("after the run that followed kill \(i)")
        }
        print("crash safety: \(Self.kills) kills, \(outcomes)")
    }

    /// `current` is a complete run that passes its seal, its checksums and the audit; every
    /// visible run is complete; nothing else is visible under runs/.
    func checkRoot(_ label: String) throws {
        let key = try PseudonymKey.load(file: dir.file("pseudonym.key"))
        let pseudonymiser = Pseudonymiser(key: key)
        let seal = ManifestSeal(pseudonymiser: pseudonymiser)
        let output = OutputRoot(path: root)
        let current = try XCTUnwrap(output.currentRun, label)
        let run = try PublishedRun.open(current, seal: seal)
        XCTAssertEqual(run.verify(seal: seal), [], label)
        let registry = try ConsentRegistry.load(path: dir.file("consent.csv"), asOf: Timestamp.parse("2026-11-20T00:00:00Z")!)
        XCTAssertEqual(RunAudit(registry: registry, pseudonymiser: pseudonymiser, policy: .optOut).check(run), [], label)
        for name in output.runs() {
            XCTAssertEqual(try PublishedRun.open(root + "/runs/" + name, seal: seal).verify(seal: seal), [], "\(label): runs/\(name)")
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: root + "/runs") where name.hasPrefix(".") {
            XCTAssertTrue([".partial-", ".pruned-", ".purged-"].contains { name.hasPrefix($0) }, "\(label): runs/\(name)")
        }
    }
}

/// A small seeded generator, so a failing kill schedule can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
