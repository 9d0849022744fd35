import Foundation
import Publishing
import TestSupport
import XCTest

/// What `inspect` and `audit` say of a run someone edited, and the exit statuses the docs give.
final class TamperCommandTests: XCTestCase {
    let dir = TemporaryDirectory()
    var root: String { dir.path + "/out" }
    /// Without the key in the environment, so `inspect` without --key-file has no key.
    let noKeyEnvironment = ProcessInfo.processInfo.environment.filter { $0.key != "CONSENTREC_PSEUDONYM_KEY" }

    override func setUpWithError() throws {
        let generated = try CommandRunner.run("consentrec", ["generate", "--out", dir.path, "--workspaces", "6", "--events", "5000", "--seed", "8"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        let trained = try CommandRunner.run("consentrec", [
            "train", "--events", dir.file("events.csv"), "--consent", dir.file("consent.csv"), "--key-file", dir.file("pseudonym.key"),
            "--as-of", "2026-11-20T00:00:00Z", "--out", root, "--factors", "4", "--iterations", "2", "--recommender", "channel",
        ])
        XCTAssertEqual(trained.status, 0, trained.stderr)
    }

    func inspect(_ path: String, key: Bool = true) throws -> CommandResult {
        try CommandRunner.run("consentrec", ["inspect", path] + (key ? ["--key-file", dir.file("pseudonym.key")] : []), environment: noKeyEnvironment)
    }

    func audit() throws -> CommandResult {
        try CommandRunner.run("consentrec", ["audit", root, "--consent", dir.file("consent.csv"), "--key-file", dir.file("pseudonym.key")])
    }

    func testAnEditedManifest_failsInspectWith7_andAuditWith6() throws {
        XCTAssertEqual(try inspect(root).status, 0)
        XCTAssertTrue(try inspect(root).stdout.contains("seal verified"))
        XCTAssertTrue(try inspect(root, key: false).stdout.contains("seal not checked"))
        let manifestPath = OutputRoot(path: root).currentRun! + "/manifest.json"
        let original = try String(contentsOfFile: manifestPath, encoding: .utf8)
        let run = try PublishedRun.open(root)
        // Edits a reader would not notice: the run id, a count, an input checksum.
        for (from, to) in [(run.manifest.runID, "20990101T000000.000Z-0000"), ("\"rowsRead\" : \(run.manifest.usage.rowsRead)", "\"rowsRead\" : 1"),
                           (run.manifest.inputs[0].sha256, String(repeating: "0", count: 64))] {
            XCTAssertTrue(original.contains(from), from)
            try original.replacingOccurrences(of: from, with: to).write(toFile: manifestPath, atomically: true, encoding: .utf8)
            let inspected = try inspect(root)
            XCTAssertEqual(inspected.status, 7, to)
            XCTAssertTrue(inspected.stderr.contains("does not match its seal"), inspected.stderr)
            let audited = try audit()
            XCTAssertEqual(audited.status, 6, audited.stdout)
            XCTAssertTrue(audited.stdout.contains("manifest.json: manifest.json does not match its seal"), audited.stdout)
        }
        try original.write(toFile: manifestPath, atomically: true, encoding: .utf8)
        XCTAssertEqual(try audit().status, 0)
    }

    func testAnUnlistedFile_orAModelThatDoesNotMatch_failsInspect_evenWithoutTheKey() throws {
        let current = OutputRoot(path: root).currentRun!
        let model = try XCTUnwrap(try PublishedRun.open(root).manifest.models.first)
        let modelPath = current + "/" + model.path
        XCTAssertEqual(try inspect(modelPath, key: false).status, 0)
        XCTAssertTrue(try inspect(modelPath).stdout.contains("matches its entry in the manifest"))
        // A copy outside any run is checked as a file only.
        let loose = dir.file("loose.safetensors")
        try FileManager.default.copyItem(atPath: modelPath, toPath: loose)
        XCTAssertTrue(try inspect(loose).stdout.contains("checked as a file only"))
        // The same bytes under a name the manifest does not list.
        let intruder = current + "/models/channel/intruder.safetensors"
        try FileManager.default.copyItem(atPath: modelPath, toPath: intruder)
        for result in [try inspect(intruder, key: false), try inspect(root, key: false)] {
            XCTAssertEqual(result.status, 7, result.stdout)
            XCTAssertTrue(result.stderr.contains("intruder.safetensors: a file the run's manifest does not list"), result.stderr)
        }
        XCTAssertEqual(try audit().status, 6)
        try FileManager.default.removeItem(atPath: intruder)
        // A model reached through a symbolic link, or moved deeper, is still checked against its run.
        let link = dir.file("link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: current + "/models")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: modelPath))
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: modelPath))
        let viaLink = try inspect(link + "/" + String(model.path.dropFirst("models/".count)), key: false)
        XCTAssertEqual(viaLink.status, 7, viaLink.stdout)
        XCTAssertTrue(viaLink.stderr.contains("checksum mismatch"), viaLink.stderr)
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: modelPath))
        try FileManager.default.createDirectory(atPath: current + "/models/channel/sub", withIntermediateDirectories: true)
        let deeper = current + "/models/channel/sub/deeper.safetensors"
        try FileManager.default.copyItem(atPath: modelPath, toPath: deeper)
        XCTAssertEqual(try inspect(deeper, key: false).status, 7)
        try FileManager.default.removeItem(atPath: current + "/models/channel/sub")
        // Another valid model file put in place of a listed one.
        let other = try XCTUnwrap(try PublishedRun.open(root).manifest.models.first { $0.path != model.path })
        try FileManager.default.removeItem(atPath: modelPath)
        try FileManager.default.copyItem(atPath: current + "/" + other.path, toPath: modelPath)
        let swapped = try inspect(modelPath, key: false)
        XCTAssertEqual(swapped.status, 7)
        XCTAssertTrue(swapped.stderr.contains("checksum mismatch"), swapped.stderr)
    }

    func testRecommendForNoSuchUser_isAnInputError_3_notAnIOError() throws {
        let events = try String(contentsOfFile: dir.file("events.csv"), encoding: .utf8)
        let consent = try String(contentsOfFile: dir.file("consent.csv"), encoding: .utf8)
        let workspace = try XCTUnwrap(events.split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[1]) }
            .first { !consent.contains("\($0),opted_out") })
        let result = try CommandRunner.run("consentrec", [
            "recommend", "--run", root, "--workspace", workspace, "--user", "U-NOBODY", "--events", dir.file("events.csv"),
            "--consent", dir.file("consent.csv"), "--key-file", dir.file("pseudonym.key"), "--as-of", "2026-11-20T00:00:00Z",
        ])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertFalse(result.stderr.contains("U-NOBODY"), "no raw id in an error")
    }

    func testASlackExportFolder_trains_withTheChecksumOfWhatWasRead() throws {
        let out = dir.path + "/slack-out"
        let trained = try CommandRunner.run("consentrec", [
            "train", "--events", Fixtures.slackExport, "--consent", dir.file("consent.csv"), "--key-file", dir.file("pseudonym.key"),
            "--as-of", "2026-11-20T00:00:00Z", "--out", out, "--recommender", "channel", "--factors", "2", "--iterations", "2",
            "--max-bad-fraction", "1",
        ])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let input = try XCTUnwrap(try PublishedRun.open(out).manifest.inputs.first)
        XCTAssertEqual(input.format, "slack-export")
        XCTAssertEqual(input.sha256.count, 64)
    }
}
