import Foundation
import TestSupport
import XCTest

final class IngestCommandTests: XCTestCase {
    let dir = TemporaryDirectory()

    override func setUpWithError() throws {
        let generated = try CommandRunner.run("consentrec", ["generate", "--out", dir.path, "--workspaces", "10", "--events", "8000", "--seed", "3"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
    }

    func args(_ extra: [String] = []) -> [String] {
        ["ingest", "--events", dir.file("events.csv"), "--consent", dir.file("consent.csv"),
         "--key-file", dir.file("pseudonym.key"), "--as-of", "2026-11-20T00:00:00Z"] + extra
    }

    func testIngest_reportsUsage_andNoRawIDAppearsInAnyOutput() throws {
        let result = try CommandRunner.run("consentrec", args(["--report", dir.file("report.json")]))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("rows read: "))
        XCTAssertTrue(result.stdout.contains("channel matrices: "))
        let report = try String(contentsOfFile: dir.file("report.json"), encoding: .utf8)
        let json = try JSONSerialization.jsonObject(with: Data(report.utf8)) as! [String: Any]
        XCTAssertGreaterThan(json["eventsKept"] as! Int, 0)
        let raw = try RawIDs.inGeneratedCSV(dir.file("events.csv"))
        let everything = result.stdout + result.stderr + report
        for id in raw { XCTAssertFalse(everything.contains(id), "raw id \(id) in the output") }
    }

    func testMissingRegistry_stopsBeforeReadingAnything() throws {
        var a = args()
        a[a.firstIndex(of: "--consent")! + 1] = dir.file("absent.csv")
        let result = try CommandRunner.run("consentrec", a)
        XCTAssertEqual(result.status, 4)
        XCTAssertTrue(result.stderr.contains("the consent registry does not exist"), result.stderr)
        XCTAssertFalse(result.stdout.contains("rows read"))
    }

    func testMissingKey_stopsTheRun() throws {
        var a = args()
        a.removeSubrange(a.firstIndex(of: "--key-file")!...(a.firstIndex(of: "--key-file")! + 1))
        let result = try CommandRunner.run("consentrec", a, environment: ["PATH": "/usr/bin:/bin"])
        XCTAssertEqual(result.status, 4)
        XCTAssertTrue(result.stderr.contains("no pseudonymisation key"), result.stderr)
    }

    func testContentColumn_refusesTheFile_unlessIgnored() throws {
        let events = try String(contentsOfFile: dir.file("events.csv"), encoding: .utf8)
        let lines = events.split(separator: "\n")
        let withText = ([lines[0] + ",text"] + lines.dropFirst().map { $0 + ",\"secret message\"" }).joined(separator: "\n") + "\n"
        dir.write("with-text.csv", withText)
        var a = args()
        a[a.firstIndex(of: "--events")! + 1] = dir.file("with-text.csv")
        let refused = try CommandRunner.run("consentrec", a)
        XCTAssertEqual(refused.status, 3)
        XCTAssertTrue(refused.stderr.contains("column 'text' is not in the event schema"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("with-text.csv"))
        let ignored = try CommandRunner.run("consentrec", a + ["--ignore-column", "text"])
        XCTAssertEqual(ignored.status, 0, ignored.stderr)
        XCTAssertFalse((ignored.stdout + ignored.stderr).contains("secret message"))
    }
}
