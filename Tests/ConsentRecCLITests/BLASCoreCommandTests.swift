import Foundation
import TestSupport
import XCTest

/// The restart onto the right BLAS kernels, end to end. OpenBLAS's choice of kernels cannot be
/// changed on a machine it knows, so the fallback is forced: a preloaded library answers
/// `openblas_get_corename` with "Prescott" unless OPENBLAS_CORETYPE is set — what Debian's
/// OpenBLAS does on a CPU newer than its table — and the real library does the work.
final class BLASCoreCommandTests: XCTestCase {
    let dir = TemporaryDirectory()

    override func setUpWithError() throws {
        let generated = try CommandRunner.run("consentrec", ["generate", "--out", dir.path, "--workspaces", "6", "--events", "4000", "--seed", "3"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
    }

    /// Builds the stand-in for a library that falls back to an old core.
    func fallbackLibrary(ignoresRequest: Bool) throws -> String {
        let source = dir.file("fallback.c")
        try """
            #include <stdlib.h>
            #include <string.h>
            static const char *chosen;
            /* Chosen once, as OpenBLAS chooses when it loads. */
            char *openblas_get_corename(void) {
                if (!chosen) {
                    const char *requested = getenv("OPENBLAS_CORETYPE");
                    chosen = strdup(requested && !\(ignoresRequest ? 1 : 0) ? requested : "Prescott");
                }
                return (char *)chosen;
            }
            """.write(toFile: source, atomically: true, encoding: .utf8)
        let library = dir.file("fallback-\(ignoresRequest).so")
        let compiled = try CommandRunner.run("/usr/bin/env", ["cc", "-shared", "-fPIC", "-o", library, source], absolute: true)
        XCTAssertEqual(compiled.status, 0, compiled.stderr)
        return library
    }

    func train(environment extra: [String: String]) throws -> CommandResult {
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_CORETYPE"] = nil
        environment.merge(extra) { $1 }
        return try CommandRunner.run("consentrec", [
            "train", "--events", dir.file("events.csv"), "--consent", dir.file("consent.csv"),
            "--key-file", dir.file("pseudonym.key"), "--as-of", "2026-11-20T00:00:00Z",
            "--out", dir.file("out"), "--factors", "8", "--iterations", "2",
        ], environment: environment)
    }

    var rightCore: String { CPUTier.expectedCore }

    func testAFallbackCoreIsReplacedByARestartBeforeAnyWork() throws {
        let result = try train(environment: ["LD_PRELOAD": try fallbackLibrary(ignoresRequest: false)])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(
            result.stderr.contains("OpenBLAS chose its Prescott kernels for this CPU; restarted with OPENBLAS_CORETYPE=\(rightCore)"),
            result.stderr)
        XCTAssertTrue(result.stderr.contains("blas_core=\(rightCore)"), result.stderr)
        // The work was done once, by the restarted process.
        XCTAssertEqual(result.stdout.components(separatedBy: "published ").count, 2, result.stdout)
        XCTAssertEqual(result.stderr.components(separatedBy: "] kernels\n").count - 1, 1, result.stderr)
    }

    func testALibraryThatIgnoresTheRequestIsReportedNotLoopedOn() throws {
        let result = try train(environment: ["LD_PRELOAD": try fallbackLibrary(ignoresRequest: true)])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(
            result.stderr.contains("OpenBLAS ignored OPENBLAS_CORETYPE=\(rightCore) and runs its Prescott kernels"),
            result.stderr)
        XCTAssertTrue(result.stdout.contains("published "), result.stdout)
    }

    func testAUsersOwnOlderCoreIsKeptWithAWarning() throws {
        // No stand-in: the real library runs its Prescott kernels because the user asked.
        let result = try train(environment: ["OPENBLAS_CORETYPE": "Prescott"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("blas_core=Prescott"), result.stderr)
        XCTAssertTrue(
            result.stderr.contains("OPENBLAS_CORETYPE=Prescott is set: OpenBLAS runs older kernels than this CPU supports (\(rightCore))"),
            result.stderr)
        XCTAssertTrue(result.stdout.contains("published "), result.stdout)
    }
}

/// The OpenBLAS family the restart asks for on this machine, from /proc/cpuinfo (not from the
/// code under test).
enum CPUTier {
    static var expectedCore: String {
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? []
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return "Sandybridge"
    }
}
