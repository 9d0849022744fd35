import Consent
import Foundation
import Platform
import Publishing
import SyntheticData
import TestSupport
import XCTest

/// `consentrec-mpi run` under a real `mpirun` (ranks on this machine over loopback), against
/// `consentrec run` on the same config: the same model bytes and manifest for 1, 2 and 3
/// ranks, the same consent guarantees, and a failed or killed rank stops the job without
/// touching the published run.
final class ClusterRunTests: XCTestCase {
    /// A generated log in three inputs — a plain CSV with bad rows, read in stretches of
    /// 64 KiB by different ranks; a gzip CSV; a small CSV — with its registry, key and config.
    final class Fixture {
        let dir = TemporaryDirectory()
        let rawIDs: Set<String>
        /// Rows of a.csv that are not rows.
        private(set) var badRows = 0

        init(events: Int = 30_000, workspaces: Int = 16) throws {
            var options = SyntheticEventLog.Options()
            options.events = events
            options.workspaces = workspaces
            options.optedOutShare = 0.25
            _ = try SyntheticEventLog(options: options).write(to: dir.path + "/data")
            rawIDs = try RawIDs.inGeneratedCSV(dir.path + "/data/events.csv")
            let lines = try String(contentsOfFile: dir.path + "/data/events.csv", encoding: .utf8).split(separator: "\n").map(String.init)
            let header = lines[0], rows = Array(lines.dropFirst())
            let a = rows.count * 6 / 10, b = rows.count * 9 / 10
            var first = Array(rows[..<a])
            // Bad rows spread through the stretches: their line numbers must come out as one reader's.
            for at in stride(from: first.count - 1, to: 0, by: -(first.count / 5)) {
                first.insert("x,\(at),not a row", at: at)
                badRows += 1
            }
            try ([header] + first).joined(separator: "\n").appending("\n").write(toFile: dir.path + "/data/a.csv", atomically: true, encoding: .utf8)
            try ([header] + rows[a..<b]).joined(separator: "\n").appending("\n").write(toFile: dir.path + "/data/b.csv", atomically: true, encoding: .utf8)
            try ([header] + rows[b...]).joined(separator: "\n").appending("\n").write(toFile: dir.path + "/data/c.csv", atomically: true, encoding: .utf8)
            XCTAssertEqual(try CommandRunner.run("/usr/bin/gzip", ["-n", dir.path + "/data/b.csv"], absolute: true).status, 0)
            try FileManager.default.removeItem(atPath: dir.path + "/data/events.csv")
        }

        func config(_ extra: String = "") -> String {
            dir.write("nightly.toml", """
                [input]
                events = ["\(dir.path)/data/a.csv", "\(dir.path)/data/b.csv.gz", "\(dir.path)/data/c.csv"]
                [consent]
                registry = "\(dir.path)/data/consent.csv"
                [privacy]
                key_file = "\(dir.path)/data/pseudonym.key"
                as_of = "2026-11-20T00:00:00Z"
                [output]
                root = "\(dir.path)/out"
                [run]
                threads = 2
                [recommenders.channel.als]
                factors = 8
                iterations = 5
                warm_start_iterations = 3
                [recommenders.channel.evaluation]
                split = "temporal:0.2"
                [recommenders.channel.gate]
                min_lift_over_popularity = 0.0
                min_test_users = 3
                [recommenders.channel.ranker]
                choose = "best"
                [recommenders.emoji]
                min_emoji_workspaces = 2
                min_emoji_users = 5
                [recommenders.emoji.als]
                factors = 8
                iterations = 5
                [recommenders.emoji.gate]
                min_lift_over_popularity = -1.0
                \(extra)
                """)
        }

        func root(_ name: String) -> String { dir.path + "/" + name }

        var pseudonymiser: Pseudonymiser { get throws { Pseudonymiser(key: try PseudonymKey.load(file: dir.path + "/data/pseudonym.key")) } }
    }

    /// `consentrec-mpi` on `ranks` ranks; a job that hangs is stopped after 5 minutes (status 124).
    func mpirun(_ ranks: Int, _ arguments: [String]) throws -> CommandResult {
        try mpirun(["-np", "\(ranks)", binary] + arguments)
    }

    /// `mpirun` with these arguments (for jobs whose ranks run different commands), under a
    /// 5-minute `timeout`, so that a deadlock fails the test instead of hanging it.
    func mpirun(_ arguments: [String]) throws -> CommandResult {
        try CommandRunner.run("/usr/bin/timeout", ["300", "/usr/bin/mpirun", "--allow-run-as-root", "--oversubscribe"] + arguments, absolute: true)
    }

    var binary: String { CommandRunner.productsDirectory.appendingPathComponent("consentrec-mpi").path }

    /// Every model file of the current run, by path: its SHA-256.
    func modelDigests(_ root: String) throws -> [String: String] {
        let current = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/current").hasPrefix("/")
            ? try FileManager.default.destinationOfSymbolicLink(atPath: root + "/current")
            : root + "/" + FileManager.default.destinationOfSymbolicLink(atPath: root + "/current")
        var out: [String: String] = [:]
        let walker = try XCTUnwrap(FileManager.default.enumerator(atPath: current))
        for case let path as String in walker where path.hasSuffix(".safetensors") {
            out[path] = Digest.sha256(try Data(contentsOf: URL(fileURLWithPath: current + "/" + path)))
        }
        return out
    }

    /// The manifest's parts that do not name the run or its clock.
    func manifestContent(_ root: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: root + "/current/manifest.json"))
        var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["runID", "createdAt"] { json[key] = nil }
        json["models"] = (json["models"] as? [[String: Any]])?.map { m in m.filter { $0.key != "trainedAt" } }
        return json
    }

    /// The report's figures: everything but ids, times and paths.
    func reportFigures(_ stdout: String) -> [String] {
        stdout.split(separator: "\n").map(String.init).filter {
            !$0.hasPrefix("run ") && !$0.hasPrefix("stages:") && !$0.hasPrefix("run directory:") && !$0.hasPrefix("metrics:") && !$0.hasPrefix("report:") && !$0.contains("machine")
        }
    }

    func testOneTwoAndThreeRanks_publishTheBytesAndManifestOfConsentrecRun() throws {
        let f = try Fixture()
        // Channels tuned per size bucket: every rank walks the same search over its own
        // workspaces. Emoji (global) tuned at rank 0, its fits spread over every rank.
        let config = f.config("[recommenders.channel.tune]\ntrials = 3\n[recommenders.emoji.tune]\ntrials = 2")
        let single = try CommandRunner.run("consentrec", ["run", "--config", config, "--out", f.root("single"), "--log-level", "warning"])
        XCTAssertEqual(single.status, 0, single.stderr)
        let expected = try modelDigests(f.root("single"))
        XCTAssertTrue(expected.keys.contains("models/emoji/global.safetensors"), "the global model is in the run")
        XCTAssertGreaterThan(expected.keys.filter { $0.hasPrefix("models/channel/") }.count, 4, "per-workspace models are in the run")
        let manifest = try manifestContent(f.root("single"))
        let usage = try XCTUnwrap(manifest["usage"] as? [String: Any])
        let channel = try XCTUnwrap((manifest["recommenders"] as? [[String: Any]])?.first { ($0["definition"] as? [String: Any])?["target"] as? String == "channel" })
        XCTAssertNotNil(channel["tuning"], "the channel recommender was tuned")
        let emoji = try XCTUnwrap((manifest["recommenders"] as? [[String: Any]])?.first { ($0["definition"] as? [String: Any])?["target"] as? String == "emoji" })
        XCTAssertNotNil(emoji["tuning"], "the global emoji recommender was tuned")
        XCTAssertEqual((usage["badRows"] as? [String: Any])?["counts"] as? [String: Int], ["wrong_field_count": f.badRows], "the bad rows were counted")

        for ranks in 1...3 {
            let root = f.root("ranks\(ranks)")
            let result = try mpirun(ranks, ["run", "--config", config, "--out", root, "--log-level", "warning", "--stretch-bytes", "65536"])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(try modelDigests(root), expected, "\(ranks) ranks")
            XCTAssertEqual(NSDictionary(dictionary: try manifestContent(root)), NSDictionary(dictionary: manifest), "\(ranks) ranks: the manifest")
            XCTAssertEqual(reportFigures(result.stdout), reportFigures(single.stdout), "\(ranks) ranks: the report")
        }
    }

    func testTrainOnTwoAndThreeRanks_publishesTheBytesAndManifestOfConsentrecTrain() throws {
        let f = try Fixture(events: 20_000, workspaces: 12)
        let config = f.config()
        let single = try CommandRunner.run("consentrec", ["train", "--config", config, "--out", f.root("single")])
        XCTAssertEqual(single.status, 0, single.stderr)
        let expected = try modelDigests(f.root("single"))
        XCTAssertTrue(expected.keys.contains("models/emoji/global.safetensors"), "the global model is in the run")
        let summary = single.stdout.split(separator: "\n").filter { !$0.hasPrefix("run directory:") && !$0.hasPrefix("current:") && !$0.hasPrefix("published ") }
        for ranks in 2...3 {
            let root = f.root("ranks\(ranks)")
            let result = try mpirun(ranks, ["train", "--config", config, "--out", root, "--log-level", "warning", "--stretch-bytes", "65536"])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(try modelDigests(root), expected, "\(ranks) ranks")
            XCTAssertEqual(NSDictionary(dictionary: try manifestContent(root)), NSDictionary(dictionary: try manifestContent(f.root("single"))), "\(ranks) ranks: the manifest")
            XCTAssertEqual(result.stdout.split(separator: "\n").filter { !$0.hasPrefix("run directory:") && !$0.hasPrefix("published ") }, summary, "\(ranks) ranks: the counts")
        }
        // With user factors, rank 0 gathers every rank's people into the global model's file.
        let withUsers = try CommandRunner.run("consentrec", ["train", "--config", config, "--out", f.root("single-users"), "--user-factors"])
        XCTAssertEqual(withUsers.status, 0, withUsers.stderr)
        let users = try mpirun(3, ["train", "--config", config, "--out", f.root("ranks-users"), "--log-level", "warning", "--user-factors"])
        XCTAssertEqual(users.status, 0, users.stderr)
        let expectedWithUsers = try modelDigests(f.root("single-users"))
        XCTAssertNotEqual(expectedWithUsers["models/emoji/global.safetensors"], expected["models/emoji/global.safetensors"], "the file holds user factors")
        XCTAssertEqual(try modelDigests(f.root("ranks-users")), expectedWithUsers, "3 ranks, user factors")
    }

    func testTheDistributedRun_keepsEveryConsentGuarantee() throws {
        let f = try Fixture()
        let root = f.root("out")
        let result = try mpirun(3, ["run", "--config", f.config(), "--out", root, "--log-level", "info", "--stretch-bytes", "65536"])
        XCTAssertEqual(result.status, 0, result.stderr)
        // The audit against the registry: every model's provenance consents, the seal holds.
        let audit = try CommandRunner.run("consentrec", ["audit", root, "--consent", f.dir.path + "/data/consent.csv", "--key-file", f.dir.path + "/data/pseudonym.key"])
        XCTAssertEqual(audit.status, 0, audit.stdout + audit.stderr)
        // No raw id in any file the run wrote, nor in any rank's log.
        let walker = try XCTUnwrap(FileManager.default.enumerator(atPath: root))
        var checked = 0
        for case let path as String in walker {
            guard let data = FileManager.default.contents(atPath: root + "/" + path) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            for id in f.rawIDs where text.contains(id) { XCTFail("\(path) holds the raw id \(id)") }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 5)
        for id in f.rawIDs where (result.stdout + result.stderr).contains(id) { XCTFail("a rank logged the raw id \(id)") }
        XCTAssertTrue(result.stderr.contains("rank=2") || result.stdout.contains("rank=2"), "log lines carry the rank")
        // No opted-out workspace was used, though all their rows were read.
        let opted = try String(contentsOfFile: f.dir.path + "/data/consent.csv", encoding: .utf8).split(separator: "\n")
            .filter { $0.contains(",opted_out,") }.map { String($0.split(separator: ",")[0]) }
        let pseudonymiser = try f.pseudonymiser
        let run = try PublishedRun.open(root + "/current", seal: ManifestSeal(pseudonymiser: pseudonymiser))
        XCTAssertGreaterThan(run.manifest.usage.eventsRemovedByConsent.values.reduce(0, +), 0)
        let excluded = Set(opted.map { pseudonymiser.pseudonym(.workspace, Array($0.utf8), workspace: [UInt8]()) })
        let used = Set(run.manifest.workspacesUsed).union(run.manifest.models.flatMap(\.provenance.workspaces))
        let registry = try ConsentRegistry.load(path: f.dir.path + "/data/consent.csv", asOf: try XCTUnwrap(Timestamp.parse("2026-11-20T00:00:00Z")))
        for w in opted where registry.exclusion(of: w, policy: .optOut) != nil {
            XCTAssertFalse(used.contains(pseudonymiser.pseudonym(.workspace, Array(w.utf8), workspace: [UInt8]())), "\(w) was used")
        }
        XCTAssertFalse(excluded.isEmpty)
    }

    func testARankKilledMidRun_failsTheJob_leavesCurrentIntact_andTheNextRunSucceeds() throws {
        let f = try Fixture(events: 200_000, workspaces: 40)
        let config = f.config(), root = f.root("out")
        let arguments = ["run", "--config", config, "--out", root, "--log-level", "warning", "--stretch-bytes", "1048576"]
        XCTAssertEqual(try mpirun(2, arguments).status, 0)
        let before = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/current")

        let job = Process()
        job.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
        job.arguments = ["--allow-run-as-root", "--oversubscribe", "-np", "3", CommandRunner.productsDirectory.appendingPathComponent("consentrec-mpi").path] + arguments
        job.standardOutput = FileHandle.nullDevice
        job.standardError = FileHandle.nullDevice
        try job.run()
        var ranks: [Int32] = []
        for _ in 0..<200 where ranks.count < 3 {
            Thread.sleep(forTimeInterval: 0.05)
            let found = try CommandRunner.run("/usr/bin/pgrep", ["-x", "consentrec-mpi"], absolute: true).stdout
            ranks = found.split(separator: "\n").compactMap { Int32($0) }
        }
        XCTAssertEqual(ranks.count, 3, "three ranks started")
        Thread.sleep(forTimeInterval: 1.0)  // well into the read or the training
        XCTAssertTrue(job.isRunning, "the run is still going when a rank is killed")
        kill(try XCTUnwrap(ranks.max()), SIGKILL)
        job.waitUntilExit()
        XCTAssertNotEqual(job.terminationStatus, 0, "a killed rank fails the job")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/current"), before, "current is untouched")
        _ = try PublishedRun.open(root + "/current", seal: ManifestSeal(pseudonymiser: try f.pseudonymiser))
        let visible = try FileManager.default.contentsOfDirectory(atPath: root + "/runs").filter { !$0.hasPrefix(".") }
        XCTAssertEqual(visible.count, 1, "no half-written run is visible")

        let next = try mpirun(3, arguments)
        XCTAssertEqual(next.status, 0, next.stderr)
        XCTAssertNotEqual(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/current"), before)
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: root + "/runs").allSatisfy { !$0.hasPrefix(".partial-") }, "the leftovers are gone")
    }

    /// Each rank given its own output root — as on machines whose output root is not shared:
    /// the rank that cannot join rank 0's run stops every rank, with the I/O status, before
    /// rank 0 leads the global model's fit; nothing is published and the lock is released.
    func testAnOutputRootNotShared_stopsEveryRank_withoutWaitingForTheGlobalFit() throws {
        let f = try Fixture(events: 20_000, workspaces: 12)
        let config = f.config()
        let result = try mpirun(["-np", "1", binary, "run", "--config", config, "--out", f.root("a"), "--log-level", "warning",
                                 ":", "-np", "1", binary, "run", "--config", config, "--out", f.root("b"), "--log-level", "warning"])
        XCTAssertEqual(result.status, 7, "the I/O status, not a hang (124): " + result.stderr)
        XCTAssertTrue(result.stderr.contains("the output root must be storage every rank shares"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: f.root("a") + "/current"), "nothing is published")
        let next = try mpirun(2, ["run", "--config", config, "--out", f.root("a"), "--log-level", "warning"])
        XCTAssertEqual(next.status, 0, "the lock was released: " + next.stderr)
        // Found by an attack: with a last run in rank 0's root only, the ranks judged the
        // global model against different last runs, and every rank crashed in a collective.
        let published = try FileManager.default.destinationOfSymbolicLink(atPath: f.root("a") + "/current")
        let apart = try mpirun(["-np", "1", binary, "run", "--config", config, "--out", f.root("a"), "--log-level", "warning",
                                ":", "-np", "1", binary, "run", "--config", config, "--out", f.root("b"), "--log-level", "warning"])
        XCTAssertEqual(apart.status, 7, "the I/O status, not a crash: " + apart.stderr)
        XCTAssertTrue(apart.stderr.contains("sees last run"), apart.stderr)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: f.root("a") + "/current"), published, "current is untouched")
    }

    func testOneRanksInputError_stopsEveryRankWithTheInputStatus() throws {
        let f = try Fixture()
        let root = f.root("out")
        XCTAssertEqual(try mpirun(2, ["run", "--config", f.config(), "--out", root, "--log-level", "warning"]).status, 0)
        let before = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/current")
        // The gzip input (piece 1: read by rank 1 of 2) cut short.
        let gz = f.dir.path + "/data/b.csv.gz"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: gz))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: gz))
        let result = try mpirun(2, ["run", "--config", f.config(), "--out", root, "--log-level", "warning"])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("b.csv.gz"), result.stderr)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/current"), before)
        // Rank 0 wrote the failed run's report, naming the rank that failed.
        let reports = try FileManager.default.contentsOfDirectory(atPath: root + "/reports").filter { $0.hasSuffix(".txt") }.sorted()
        let last = try String(contentsOfFile: root + "/reports/" + reports.last!, encoding: .utf8)
        XCTAssertTrue(last.contains("failed") && last.contains("rank 1"), last)
    }
}
