import Foundation
import TestSupport
import XCTest

/// The collectives under a real `mpirun` (OpenMPI, ranks on this machine over loopback): each
/// rank receives exactly what was sent to it, sums are added in rank order (the same bits as a
/// sequential sum), and one rank's abort stops the job with a non-zero status.
final class CommunicatorTests: XCTestCase {
    func mpirun(_ ranks: Int, _ arguments: [String] = []) throws -> CommandResult {
        let probe = CommandRunner.productsDirectory.appendingPathComponent("ClusterProbe").path
        // Under a 5-minute `timeout`: a collective that deadlocks fails the test (status 124).
        return try CommandRunner.run("/usr/bin/timeout", ["300", "/usr/bin/mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)", probe] + arguments,
                                     absolute: true)
    }

    func testEveryCollective_onOneTwoAndThreeRanks() throws {
        // With 2-byte rounds, messages of up to 9 bytes take up to 5 rounds: the path of
        // messages above MPI's 2 GiB count, at a size a test can move.
        for (ranks, chunk) in [(1, []), (2, []), (3, []), (2, ["chunk", "2"]), (3, ["chunk", "2"])] {
            let result = try mpirun(ranks, chunk)
            XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
            let lines = result.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(Set(lines.filter { $0.hasSuffix(" ok") }), Set((0..<ranks).map { "rank \($0) ok" }), result.stdout)
            var expected = [0.0, 0.0, 0.0]
            for r in 0..<ranks {
                expected[0] += 0.1 * Double(r + 1)
                expected[1] += 1e16
                expected[2] += -1e16 + Double(r)
            }
            XCTAssertTrue(lines.contains("sum " + expected.map { String($0.bitPattern, radix: 16) }.joined(separator: " ")), result.stdout)
        }
    }

    /// The global model's data-parallel fit: the bits of one process's fit over the same
    /// person segments, on any number of ranks — a plain CG fit, an iALS++ Cholesky fit warm
    /// from published item factors, a matrix with fewer users and items than ranks — and one
    /// rank's bad rows stop every rank; a diverging fit names the row one process names.
    func testTheGlobalMatrix_builtByEveryRankFromItsOwnPeople_isOneProcesssRows_onOneTwoAndThreeRanks() throws {
        for ranks in 1...3 {
            let result = try mpirun(ranks, ["build"])
            XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
            XCTAssertFalse(result.stdout.contains("FAILED"), result.stdout)
            for r in 0..<ranks {
                XCTAssertTrue(result.stdout.contains("build rank \(r) done"), result.stdout)
                XCTAssertTrue(result.stdout.contains("build thresholds rank \(r):"), result.stdout)
            }
        }
    }

    func testDistributedALS_givesOneProcesssBits_onOneTwoAndThreeRanks() throws {
        for ranks in 1...3 {
            let result = try mpirun(ranks, ["als"])
            XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
            let lines = Set(result.stdout.split(separator: "\n").map(String.init))
            for name in ["cg", "ials++-from-items", "tiny"] {
                XCTAssertTrue(lines.contains("als \(name) identical"), "\(ranks) ranks, \(name): " + result.stdout)
            }
            // A diverging fit fails at the same iteration, side and row as in one process.
            XCTAssertTrue(lines.contains("als diverging same error"), "\(ranks) ranks: " + result.stdout)
            let last = ranks - 1
            let reason = "cannot train on this interaction matrix: row 699 has a negative weight -1.0; interaction weights must be ≥ 0"
            XCTAssertTrue(lines.contains("als negative rank \(last) threw: \(reason)"), result.stdout)
            for r in 0..<last {
                XCTAssertTrue(lines.contains("als negative rank \(r) threw: rank \(last) of the distributed fit: \(reason)"), result.stdout)
            }
        }
    }

    func testOneRanksAbort_stopsTheWholeJob() throws {
        let result = try mpirun(3, ["abort", "1"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertFalse(result.stdout.contains("rank 0 ok"), "no rank passes the barrier")
    }
}
