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

    /// A train that succeeded, published, and logged every line of `expected`.
    func assertTrained(_ result: CommandResult, logging expected: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        for text in expected { XCTAssertTrue(result.stderr.contains(text), "missing: \(text)\n\(result.stderr)", file: file, line: line) }
        // The work was done once: by the restarted process, when there was a restart.
        XCTAssertEqual(result.stdout.components(separatedBy: "published ").count, 2, result.stdout, file: file, line: line)
        XCTAssertEqual(result.stderr.components(separatedBy: "] kernels\n").count - 1, 1, result.stderr, file: file, line: line)
    }

    func testAFallbackCoreIsReplacedByARestartBeforeAnyWork() throws {
        let result = try train(environment: ["LD_PRELOAD": try fallbackLibrary(ignoresRequest: false)])
        assertTrained(result, logging: [
            "OpenBLAS chose its Prescott kernels for this CPU; restarted with OPENBLAS_CORETYPE=\(rightCore)",
            "blas_core=\(rightCore)",
        ])
    }

    func testALibraryThatIgnoresTheRequestIsReportedNotLoopedOn() throws {
        let result = try train(environment: ["LD_PRELOAD": try fallbackLibrary(ignoresRequest: true)])
        assertTrained(result, logging: ["OpenBLAS ignored OPENBLAS_CORETYPE=\(rightCore) and runs its Prescott kernels"])
    }

    func testAUsersOwnOlderCoreIsKeptWithAWarning() throws {
        // No stand-in: the real library runs its Prescott kernels because the user asked.
        let result = try train(environment: ["OPENBLAS_CORETYPE": "Prescott"])
        assertTrained(result, logging: [
            "blas_core=Prescott",
            "OPENBLAS_CORETYPE=Prescott is set: OpenBLAS runs older kernels than this CPU supports (\(rightCore))",
        ])
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
