import Foundation
import Pipeline
import TestSupport
import XCTest

/// One exit-status table (`ExitStatus.table`): the README, the table of docs/nightly.md and the
/// binaries' help texts must say the same statuses with the same words.
final class ExitStatusTableTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func text(_ path: String) throws -> String {
        try String(contentsOf: Self.repository.appendingPathComponent(path), encoding: .utf8)
    }

    /// Whitespace runs as one space: help texts wrap at the terminal's width.
    func flat(_ s: String) -> String { s.split(whereSeparator: \.isWhitespace).joined(separator: " ") }

    func testEveryStatusTheCodeReturns_isInTheTable() {
        let listed = Set(ExitStatus.table.map(\.status))
        let e = ExitStatus.self
        for status in [e.trainingFailed, e.configError, e.inputError, e.consentOrKey, e.gateFailed, e.auditFailed, e.ioFailure,
                       e.verificationFailed, e.locked, e.nothingPublished, e.usage] {
            XCTAssertTrue(listed.contains(status), "status \(status)")
        }
        XCTAssertEqual(ExitStatus.table.map(\.status), ExitStatus.table.map(\.status).sorted(), "in order")
        XCTAssertEqual(listed.count, ExitStatus.table.count, "each once")
    }

    func testTheDocsTable_isTheCodesTable() throws {
        let section = try text("docs/nightly.md").components(separatedBy: "## Exit statuses\n")[1].components(separatedBy: "\n## ")[0]
        let rows = section.split(separator: "\n").compactMap { line -> (Int32, String)? in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count > 3, let status = Int32(cells[1]) else { return nil }
            return (status, cells[2])
        }
        XCTAssertEqual(rows.map(\.0), ExitStatus.table.map(\.status))
        for (row, entry) in zip(rows, ExitStatus.table) {
            XCTAssertTrue(row.1.hasPrefix(entry.meaning), "docs/nightly.md, status \(row.0): \"\(row.1)\" does not begin \"\(entry.meaning)\"")
        }
    }

    func testTheREADMEsList_isTheCodesTable() throws {
        let readme = try text("README.md")
        let marker = "<!-- exit statuses: kept equal to ExitStatus.table by a test -->\n"
        let after = try XCTUnwrap(readme.components(separatedBy: marker).dropFirst().first, "the README marks its list")
        XCTAssertEqual(after.prefix { $0 != "\n" }, Substring(ExitStatus.summary))
        XCTAssertFalse(readme.contains("../"), "the README points only inside the repository")
    }

    func testTheBinariesHelp_givesTheCodesTable() throws {
        for binary in ["consentrec", "consentrec-mpi"] {
            let help = try CommandRunner.run(binary, ["run", "--help"])
            XCTAssertEqual(help.status, 0, help.stderr)
            XCTAssertTrue(flat(help.stdout).contains(ExitStatus.summary), "\(binary) run --help: " + help.stdout)
        }
    }
}
