import Foundation
import Ingest
@testable import Pipeline
import Platform
import Publishing
import TestSupport
import XCTest

/// A nightly run that stops still says why, in a report; configs that would quietly disable a
/// check are refused.
final class RunFailureTests: XCTestCase {
    var fixture: NightlyFixture!

    override func setUpWithError() throws { fixture = try NightlyFixture(workspaces: 4, events: 3_000) }

    func reports() throws -> [NightlyReport] {
        let folder = fixture.dir.path + "/out/reports"
        return try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted().map {
            try JSONDecoder().decode(NightlyReport.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/" + $0)))
        }
    }

    func testAnInputError_stillWritesAReport_sayingNothingWasPublished() throws {
        try FileManager.default.removeItem(atPath: fixture.dir.path + "/data/events.csv")
        XCTAssertThrowsError(try NightlyRun(config: fixture.load(fixture.config())).execute(logger: fixture.quiet)) { error in
            guard case .input = error as? NightlyError else { return XCTFail("\(error)") }
        }
        let report = try XCTUnwrap(try reports().first)
        XCTAssertEqual(report.status, .failed)
        XCTAssertTrue(report.error?.contains("events.csv") == true, report.error ?? "")
        XCTAssertTrue(report.text.contains("nothing was published"), report.text)
        let text = try String(contentsOfFile: fixture.dir.path + "/out/reports/\(report.runID).txt", encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("run \(report.runID): failed"), text)
    }

    func testAKeyError_andALockedRoot_writeReportsToo() throws {
        let config = try fixture.load(fixture.config())
        let lock = try fixture.root.lock()
        XCTAssertThrowsError(try NightlyRun(config: config).execute(logger: fixture.quiet))
        withExtendedLifetime(lock) {}
        try FileManager.default.removeItem(atPath: fixture.dir.path + "/data/pseudonym.key")
        XCTAssertThrowsError(try NightlyRun(config: config).execute(logger: fixture.quiet))
        XCTAssertEqual(try reports().map(\.status), [.failed, .failed])
        XCTAssertTrue(try reports().allSatisfy { $0.error != nil })
    }

    func testNonFiniteNumbers_areRefused_notAGateSwitchedOff() throws {
        for value in ["nan", "inf", "-inf", "+nan"] {
            XCTAssertThrowsError(try fixture.load(fixture.config(channelGate: "min_lift_over_popularity = \(value)")), value) { error in
                guard case .invalid(_, let key, let reason) = error as? ConfigError else { return XCTFail("\(error)") }
                XCTAssertEqual(key, "recommenders.channel.gate.min_lift_over_popularity")
                XCTAssertTrue(reason.contains("finite"), reason)
            }
        }
        XCTAssertThrowsError(try fixture.load(fixture.config(channelGate: "max_drop_from_last_run = nan")))
    }

    func testNumbersBeyondTheirRange_areRefused_notAnOverflowTrap() throws {
        let cases = [
            fixture.config(retentionDays: 106_751_991_167_301): "privacy.retention_days",
            fixture.config("[recommenders.channel.evaluation]\nk = 9223372036854775807"): "recommenders.channel.evaluation.k",
            fixture.config("[recommenders.channel.weights]\njoin = 1e39"): "recommenders.channel.weights.join",
        ]
        for (text, key) in cases {
            XCTAssertThrowsError(try fixture.load(text), key) { error in
                guard case .invalid(_, let k, _) = error as? ConfigError else { return XCTFail("\(error)") }
                XCTAssertEqual(k, key)
            }
        }
        XCTAssertThrowsError(try NightlyRun(config: fixture.load(fixture.config().replacingOccurrences(of: "iterations = 5", with: "iterations = 9223372036854775807")))
            .execute(logger: fixture.quiet))
    }

    func testAsOf_asATomlInteger_isUnixSeconds() throws {
        let text = fixture.config().replacingOccurrences(of: "as_of = \"2026-11-20T00:00:00Z\"", with: "as_of = 1795132800")
        XCTAssertEqual(try fixture.load(text).asOf, Timestamp.parse("2026-11-20T00:00:00Z"))
        XCTAssertThrowsError(try fixture.load(text.replacingOccurrences(of: "1795132800", with: "-1")))
    }

    func testTemporalSplitsNamedByANumber_mustBeAFraction_never1970() throws {
        for split in ["temporal:0", "temporal:1", "temporal:1.5", "temporal:-0.2", "temporal:1795132800"] {
            XCTAssertThrowsError(try fixture.load(fixture.config("[recommenders.channel.evaluation]\nsplit = \"\(split)\"")), split)
        }
        XCTAssertNoThrow(try fixture.load(fixture.config("[recommenders.channel.evaluation]\nsplit = \"temporal:0.25\"")))
        XCTAssertNoThrow(try fixture.load(fixture.config("[recommenders.channel.evaluation]\nsplit = \"temporal:2026-11-10T00:00:00Z\"")))
    }

    func testACurrentLinkOutsideRuns_isNeverReadNorCarriedFrom_andIsWithdrawn() throws {
        let config = try fixture.load(fixture.config())
        let first = try NightlyRun(config: config).execute(logger: fixture.quiet)
        // An attacker copies the run elsewhere, edits it, and points `current` at the copy.
        let evil = fixture.dir.path + "/evil/" + first.runID
        try FileManager.default.createDirectory(atPath: fixture.dir.path + "/evil", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: first.runDirectory!, toPath: evil)
        let current = fixture.dir.path + "/out/current"
        try FileManager.default.removeItem(atPath: current)
        try FileManager.default.createSymbolicLink(atPath: current, withDestinationPath: evil)
        XCTAssertNil(fixture.root.currentRun, "a link outside runs/ is not a published run")
        let second = try NightlyRun(config: config).execute(logger: fixture.quiet)
        XCTAssertEqual(second.purge.currentBefore, PurgeOutcome.foreignCurrent)
        XCTAssertEqual(second.carriedForward, [])
        XCTAssertEqual(fixture.root.currentRunName, second.runID)
        XCTAssertEqual(try fixture.audit().check(try PublishedRun.open(fixture.root.path)), [])
    }

    func testARunDirectoryWhoseNameIsNotItsRunID_isWithdrawn() throws {
        let config = try fixture.load(fixture.config())
        let first = try NightlyRun(config: config).execute(logger: fixture.quiet)
        let renamed = fixture.dir.path + "/out/runs/99991231T235959.999Z-ffff"
        try FileManager.default.copyItem(atPath: first.runDirectory!, toPath: renamed)
        let second = try NightlyRun(config: config).execute(logger: fixture.quiet)
        XCTAssertEqual(second.purge.withdrawn.map(\.runID), ["99991231T235959.999Z-ffff"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: renamed))
    }

    func testATemporaryReportLeftByAKill_isRemovedByTheNextRun() throws {
        let leftover = fixture.dir.path + "/out/reports/.tmp-20261122T000000.000Z-dead.json-123"
        try FileManager.default.createDirectory(atPath: fixture.dir.path + "/out/reports", withIntermediateDirectories: true)
        try Data("{\"half".utf8).write(to: URL(fileURLWithPath: leftover))
        let young = fixture.dir.path + "/out/reports/.tmp-20261122T000000.000Z-live.json-456"
        try Data("{\"half".utf8).write(to: URL(fileURLWithPath: young))
        // Old enough that no writer can still be at work on it; the young one may be another's.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: leftover)
        _ = try NightlyRun(config: fixture.load(fixture.config())).execute(logger: fixture.quiet)
        XCTAssertFalse(FileManager.default.fileExists(atPath: leftover))
        XCTAssertTrue(FileManager.default.fileExists(atPath: young))
    }

    func testATableNameStartingWithAnOddCharacter_isASyntaxError_notAnAbort() {
        // Found by fuzzing: the TOML library asserts (SIGABRT) on `[%x]` instead of reporting it.
        for header in ["[%recommenders.channel]", "  [ %x]", "[[%x]]", "[\u{1}x]", "[", "[[  ", "\u{FEFF}[\u{A1}", "[ \ro"] {
            XCTAssertThrowsError(try NightlyConfig.parse(header + "\na = 1\n", path: "n.toml"), header) { error in
                guard case .syntax(_, 1, _, let reason) = error as? ConfigError else { return XCTFail("\(error)") }
                XCTAssertTrue(reason.contains("table name"), reason)
            }
        }
        for value in ["as_of = 1979-05-27T07:32:00Z", "x = [07:32:00]", "y = 2026-11-20"] {
            XCTAssertThrowsError(try NightlyConfig.parse("[privacy]\n" + value + "\n", path: "n.toml"), value) { error in
                guard case .syntax(_, 2, _, let reason) = error as? ConfigError else { return XCTFail("\(error)") }
                XCTAssertTrue(reason.contains("date or time"), reason)
            }
        }
        for value in ["x = [}", "x = [1,,2]", "x = [,1]", "w = { , a = 1 }", "w = { a = 1, }", "w = { %a = 1 }", "w = { , }", "w = { a = 1 , }"] {
            XCTAssertNotNil(TOMLPrecheck.misplacedSeparator("[input]\n" + value + "\n"), value)
        }
        XCTAssertNil(TOMLPrecheck.misplacedSeparator("[input]\nevents = [\n  \"a,}\", # c, }\n  \"b\",\n]\nw = { join = 1.0, post = 2 }\ne = {}\nf = { }\ng = {\t}\n[[x]]\n"))
        // An empty inline table with a space in it is valid TOML, and an empty weights table
        // is accepted either way (found by an attack: `{ }` was refused, `{}` accepted).
        for empty in ["{}", "{ }"] {
            XCTAssertNoThrow(try NightlyConfig.parse("[input]\nevents = [\"e.csv\"]\n[consent]\nregistry = \"c.csv\"\n[output]\nroot = \"o\"\n"
                + "[recommenders.channel]\nweights = \(empty)\n", path: "n.toml"), empty)
        }
        XCTAssertNil(TOMLPrecheck.dateTimeValue("as_of = \"2026-11-20T00:00:00Z\" # at 00:00\nk = 10\nx = 1e10\nname = 'a 12:00'\nt = \"\"\"\n2026-11-20\"\"\"\n"))
        XCTAssertNil(TOMLPrecheck.badTableHeader("[recommenders.channel]\n[\"quoted\"]\n[[x]]\nevents = [\n  \"a\",\n]\n"))
    }

    func testAConfigThatIsNotARegularFile_isRefused_notReadForever() {
        XCTAssertThrowsError(try NightlyConfig.load(path: "/dev/zero")) { error in
            XCTAssertEqual(error as? ConfigError, .unreadable(path: "/dev/zero"))
        }
    }
}
