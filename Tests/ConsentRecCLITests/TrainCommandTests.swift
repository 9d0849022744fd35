import Foundation
import Publishing
import TestSupport
import XCTest

final class TrainCommandTests: XCTestCase {
    let dir = TemporaryDirectory()
    var root: String { dir.path + "/out" }

    override func setUpWithError() throws {
        let generated = try CommandRunner.run("consentrec", ["generate", "--out", dir.path, "--workspaces", "14", "--events", "16000", "--seed", "5"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
    }

    var dataArgs: [String] {
        ["--events", dir.file("events.csv"), "--consent", dir.file("consent.csv"), "--key-file", dir.file("pseudonym.key"),
         "--as-of", "2026-11-20T00:00:00Z"]
    }

    func train(_ extra: [String] = []) throws -> CommandResult {
        try CommandRunner.run("consentrec", ["train"] + dataArgs + ["--out", root, "--factors", "8", "--iterations", "4"] + extra)
    }

    /// A workspace and user with events, from a consenting workspace that has a channel model.
    func someUser() throws -> (workspace: String, user: String) {
        let events = try String(contentsOfFile: dir.file("events.csv"), encoding: .utf8)
        let consent = try String(contentsOfFile: dir.file("consent.csv"), encoding: .utf8)
        for line in events.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if !consent.contains("\(f[1]),opted_out") { return (f[1], f[2]) }
        }
        throw XCTSkip("no consenting workspace in the generated data")
    }

    func testTrain_thenInspectAuditRecommend_fromTheCommandLine() throws {
        let trained = try train()
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(trained.stdout.contains("published "), trained.stdout)
        // Not a terminal: progress comes as log lines, one per stage step.
        XCTAssertTrue(trained.stderr.contains("stage=train"), trained.stderr)

        let inspected = try CommandRunner.run("consentrec", ["inspect", root])
        XCTAssertEqual(inspected.status, 0, inspected.stderr)
        XCTAssertTrue(inspected.stdout.contains("model checksums verified"))

        let audited = try CommandRunner.run("consentrec", ["audit", root, "--consent", dir.file("consent.csv"), "--key-file", dir.file("pseudonym.key")])
        XCTAssertEqual(audited.status, 0, audited.stdout + audited.stderr)
        XCTAssertTrue(audited.stdout.contains("audit passed"))

        let (workspace, user) = try someUser()
        let recommended = try CommandRunner.run("consentrec", [
            "recommend", "--run", root, "--workspace", workspace, "--user", user, "--events", dir.file("events.csv"),
            "--key-file", dir.file("pseudonym.key"), "-k", "5", "--consent", dir.file("consent.csv"), "--as-of", "2026-11-20T00:00:00Z",
        ])
        XCTAssertEqual(recommended.status, 0, recommended.stderr)
        XCTAssertTrue(recommended.stdout.contains("channel recommendations"), recommended.stdout)
        // Raw channel ids are shown where the events resolve them.
        XCTAssertTrue(recommended.stdout.contains("  1. C"), recommended.stdout)
    }

    func testPythonReference_readsOurModels_andRecomputesTheSameRecommendation() throws {
        let python = ProcessInfo.processInfo.environment["CONSENTREC_PYTHON"] ?? "/usr/bin/python3"
        let probe = try? CommandRunner.run(python, ["-c", "import safetensors, numpy"], absolute: true)
        guard probe?.status == 0 else {
            return XCTFail("no Python with safetensors and numpy at $CONSENTREC_PYTHON: run the tests with `make test`, which installs them into .venv")
        }
        let (workspace, user) = try someUser()
        let iALS = ["--unobserved-weight", "0.3", "--regularization-exponent", "0.5", "--solver", "cholesky"]
        for (ranker, recommender, extra) in [("als", "channel", []), ("als", "emoji", []), ("blend:0.5", "channel", []), ("blend:2", "emoji", []),
                                             ("popularity", "emoji", []), ("als", "channel", iALS), ("blend:1", "emoji", iALS)] {
            let trained = try train(["--ranker", ranker] + extra)
            XCTAssertEqual(trained.status, 0, trained.stderr)
            let json = try CommandRunner.run("consentrec", [
                "recommend", "--run", root, "--workspace", workspace, "--user", user, "--events", dir.file("events.csv"),
                "--key-file", dir.file("pseudonym.key"), "-k", "8", "--json", "--recommender", recommender,
                "--consent", dir.file("consent.csv"), "--as-of", "2026-11-20T00:00:00Z",
            ])
            XCTAssertEqual(json.status, 0, json.stderr)
            let file = dir.write("rec-\(recommender).json", json.stdout)
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("scripts/check_model.py").path
            let checked = try CommandRunner.run(python, [script, "--run", root, file], absolute: true)
            XCTAssertEqual(checked.status, 0, checked.stdout + checked.stderr)
            XCTAssertTrue(checked.stdout.contains("recommendations agree"), checked.stdout)
            XCTAssertTrue(checked.stdout.contains("ranker \(ranker)"), checked.stdout)
        }
        let bad = try train(["--ranker", "blend:-1"])
        XCTAssertEqual(bad.status, 64, bad.stderr)
    }

    func testRecommend_oddlySpelledIDs_areUsageErrors_thatNeverEchoTheID() throws {
        for (flag, id) in [("--workspace", " TZK4995CDP"), ("--workspace", "TZK4995CDP\n"), ("--user", "U1\u{200B}X"), ("--user", "\"U1\"")] {
            var arguments = ["recommend", "--run", "/nonexistent", "--workspace", "T1", "--user", "U1", "--events", "e.csv", "--consent", "c.csv"]
            arguments[arguments.firstIndex(of: flag)! + 1] = id
            let result = try CommandRunner.run("consentrec", arguments)
            XCTAssertEqual(result.status, 64, "\(flag) \(id.debugDescription): " + result.stderr)
            XCTAssertTrue(result.stderr.contains("is not a valid id"), result.stderr)
            XCTAssertFalse(result.stderr.contains(id.trimmingCharacters(in: .whitespacesAndNewlines)), result.stderr)
        }
    }

    func testInspect_failsOnAFlippedByteOrATruncatedModel() throws {
        XCTAssertEqual(try train().status, 0)
        let run = try PublishedRun.open(root)
        let model = run.directory + "/" + run.manifest.models[0].path
        var bytes = FileManager.default.contents(atPath: model)!
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: model))
        let flipped = try CommandRunner.run("consentrec", ["inspect", root])
        XCTAssertEqual(flipped.status, 7)
        XCTAssertTrue(flipped.stderr.contains("checksum mismatch"), flipped.stderr)
        try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: model))
        let truncated = try CommandRunner.run("consentrec", ["inspect", model])
        XCTAssertNotEqual(truncated.status, 0)
        XCTAssertTrue(truncated.stderr.contains("not a valid model file"), truncated.stderr)
    }

    func testTrain_isRefusedWhileAnotherRunHoldsTheLock() throws {
        let lock = try OutputRoot(path: root).lock()
        let refused = try train()
        XCTAssertEqual(refused.status, 8)
        XCTAssertTrue(refused.stderr.contains("another run holds the lock"), refused.stderr)
        withExtendedLifetime(lock) {}
        XCTAssertNil(OutputRoot(path: root).currentRun)
    }

    func testAudit_failsAndNamesTheModel_afterAWorkspaceOptsOut() throws {
        XCTAssertEqual(try train().status, 0)
        let (workspace, _) = try someUser()
        let later = try String(contentsOfFile: dir.file("consent.csv"), encoding: .utf8) + "\(workspace),opted_out,2026-11-21T00:00:00Z\n"
        let path = dir.write("consent-later.csv", later)
        let audited = try CommandRunner.run("consentrec", ["audit", root, "--consent", path, "--key-file", dir.file("pseudonym.key")])
        XCTAssertEqual(audited.status, 6)
        XCTAssertTrue(audited.stdout.contains("audit FAILED"))
        XCTAssertTrue(audited.stdout.contains("models/channel/"), audited.stdout)
        XCTAssertFalse(audited.stdout.contains(workspace), "the raw workspace id must not be printed")
    }

    func testLateOptOut_recommendRefuses_auditFails_purgeWithdraws_andTheNextTrainIsClean() throws {
        XCTAssertEqual(try train().status, 0)
        let (workspace, user) = try someUser()
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dir.file("consent.csv")))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\(workspace),opted_out,2026-11-21T00:00:00Z\n".utf8))
        try handle.close()
        let consent = ["--consent", dir.file("consent.csv"), "--key-file", dir.file("pseudonym.key")]

        let recommended = try CommandRunner.run("consentrec", [
            "recommend", "--run", root, "--workspace", workspace, "--user", user, "--events", dir.file("events.csv"),
            "--as-of", "2026-11-20T00:00:00Z",
        ] + consent)
        XCTAssertEqual(recommended.status, 4, recommended.stdout + recommended.stderr)
        XCTAssertTrue(recommended.stderr.contains("refused"), recommended.stderr)
        XCTAssertFalse(recommended.stderr.contains(workspace), "no raw id in the message")

        let audited = try CommandRunner.run("consentrec", ["audit", root] + consent)
        XCTAssertEqual(audited.status, 6, audited.stdout)
        XCTAssertTrue(audited.stdout.contains("was trained on events of workspace"), audited.stdout)

        let purged = try CommandRunner.run("consentrec", ["purge", root] + consent)
        XCTAssertEqual(purged.status, 9, purged.stdout + purged.stderr)
        XCTAssertTrue(purged.stdout.contains("NOTHING IS PUBLISHED"), purged.stdout)
        XCTAssertFalse(purged.stdout.contains(workspace))
        // Found by attack: inspect and audit said 7 (I/O failure) here; nothing is published is 9.
        let inspected = try CommandRunner.run("consentrec", ["inspect", root])
        XCTAssertEqual(inspected.status, 9, inspected.stderr)
        XCTAssertTrue(inspected.stderr.contains("NOTHING IS PUBLISHED here"), inspected.stderr)
        XCTAssertEqual(try CommandRunner.run("consentrec", ["audit", root] + consent).status, 9)
        // Nothing left to withdraw, and still nothing published: the same status again, so a
        // scheduler that checks on any later purge learns it too.
        let again = try CommandRunner.run("consentrec", ["purge", root] + consent)
        XCTAssertEqual(again.status, 9, again.stdout + again.stderr)
        XCTAssertTrue(again.stdout.contains("NOTHING IS PUBLISHED"), again.stdout)

        XCTAssertEqual(try train().status, 0)
        XCTAssertEqual(try CommandRunner.run("consentrec", ["audit", root] + consent).status, 0)
    }
}
