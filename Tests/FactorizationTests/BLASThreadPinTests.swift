import Factorization
import Foundation
import Linalg
import TestSupport
import XCTest

final class BLASThreadPinTests: XCTestCase {
    func testTraining_pinsBLASToOneThread_andRestoresIt() throws {
        let before = BLASThreads.current
        BLASThreads.set(2)
        defer { BLASThreads.set(before) }
        var during = [Int]()
        let data = RandomInputs.sparse(rows: 30, columns: 10, density: 0.3, seed: 71)
        _ = try ImplicitALS(configuration: ALSConfiguration(factors: 4, iterations: 2, threads: 2)).fit(data, logger: .quiet) { _ in
            during.append(BLASThreads.current)
        }
        XCTAssertEqual(during, [1, 1])
        XCTAssertEqual(BLASThreads.current, 2)
    }

    func testTraining_warnsWhenTheEnvironmentAsksForMoreBLASThreads() throws {
        let previous = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"]
        setenv("OPENBLAS_NUM_THREADS", "4", 1)
        defer {
            if let previous { setenv("OPENBLAS_NUM_THREADS", previous, 1) } else { unsetenv("OPENBLAS_NUM_THREADS") }
        }
        let capture = LogCapture()
        let data = RandomInputs.sparse(rows: 30, columns: 10, density: 0.3, seed: 72)
        _ = try ImplicitALS(configuration: ALSConfiguration(factors: 4, iterations: 1, threads: 1))
            .fit(data, logger: capture.logger())
        let warnings = capture.records.filter { $0.level == .warning }
        XCTAssertEqual(warnings.count, 1)
        XCTAssertEqual(warnings.first?.metadata["variable"], "OPENBLAS_NUM_THREADS")
        XCTAssertEqual(warnings.first?.metadata["value"], "4")
    }
}
