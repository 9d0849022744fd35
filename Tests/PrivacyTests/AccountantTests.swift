import Foundation
import Privacy
import TestSupport
import XCTest

/// The accountant against Google's dp-accounting (an independent implementation, from PyPI),
/// and the calibration against its target.
final class AccountantTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// ε of each case by `scripts/dp_epsilon.py` (dp-accounting's RDP accountant).
    func referenceEpsilons(_ cases: [(mechanisms: [GaussianMechanism], delta: Double)]) throws -> [Double] {
        guard let python = ProcessInfo.processInfo.environment["CONSENTREC_PYTHON"] else {
            XCTFail("CONSENTREC_PYTHON is not set: run the tests with `make test`, which installs dp-accounting")
            return []
        }
        let input = try JSONSerialization.data(withJSONObject: cases.map { c in
            ["delta": c.delta, "mechanisms": c.mechanisms.map { ["noise_multiplier": $0.noiseMultiplier, "count": $0.count] }] as [String: Any]
        })
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.repository.appendingPathComponent("scripts/dp_epsilon.py").path]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "dp_epsilon.py failed")
        return output.split(separator: "\n").compactMap { Double($0) }
    }

    func gaussian(_ z: Double, _ n: Int) -> GaussianMechanism { GaussianMechanism(name: "m", noiseMultiplier: z, count: n, sensitivity: 1) }

    func testEpsilon_matchesDPAccounting_within1Percent() throws {
        let cases: [(mechanisms: [GaussianMechanism], delta: Double)] = [
            ([gaussian(1.0, 1)], 1e-5),
            ([gaussian(4.0, 45), gaussian(1.5, 1)], 1e-6),
            ([gaussian(10, 30), gaussian(2, 1), gaussian(0.8, 1)], 1e-7),
            ([gaussian(25, 60)], 1e-6),
            ([gaussian(0.6, 3)], 1e-9),
            ([gaussian(3, 15), gaussian(3, 15), gaussian(3, 15), gaussian(2.2, 1)], 5e-8),
        ]
        let reference = try referenceEpsilons(cases)
        XCTAssertEqual(reference.count, cases.count)
        for (c, expected) in zip(cases, reference) {
            let ours = RenyiAccountant.epsilon(c.mechanisms, delta: c.delta).epsilon
            XCTAssertEqual(ours, expected, accuracy: expected * 0.01, "\(c.mechanisms.map(\.noiseMultiplier)) at δ = \(c.delta)")
            // A continuous minimum over orders is never above the minimum over a list of them.
            XCTAssertLessThanOrEqual(ours, expected * (1 + 1e-9))
        }
    }

    func testCalibration_hitsTheTarget_forEveryEpsilonOfTheSweep_andDPAccountingAgrees() throws {
        var cases: [(mechanisms: [GaussianMechanism], delta: Double)] = []
        var targets: [Double] = []
        for epsilon in [1.0, 2, 4, 8, 16] {
            var p = PrivacyParameters(epsilon: epsilon)
            p.delta = 1e-6
            let plan = PrivacyPlan(parameters: p, iterations: 15, alpha: 1, unobservedWeight: 1, judgingSums: 9)
            XCTAssertLessThanOrEqual(plan.epsilon, epsilon * (1 + 1e-9))
            XCTAssertGreaterThan(plan.training.epsilon, epsilon * 0.999, "the budget is spent, not wasted")
            XCTAssertGreaterThan(plan.heldOut.epsilon, epsilon * 0.999)
            XCTAssertEqual(plan.training.delta + plan.selectionDelta, p.delta, accuracy: 1e-18)
            cases.append((plan.training.mechanisms, plan.training.delta))
            cases.append((plan.heldOut.mechanisms, plan.heldOut.delta))
            targets += [epsilon, epsilon]
        }
        for (expected, reference) in zip(targets, try referenceEpsilons(cases)) {
            XCTAssertEqual(reference, expected, accuracy: expected * 0.01)
        }
    }

    func testMoreNoiseOrFewerIterations_costLess_andEpsilonGrowsWithRho() {
        let a = RenyiAccountant.epsilon([gaussian(4, 10)], delta: 1e-6).epsilon
        XCTAssertLessThan(RenyiAccountant.epsilon([gaussian(5, 10)], delta: 1e-6).epsilon, a)
        XCTAssertLessThan(RenyiAccountant.epsilon([gaussian(4, 5)], delta: 1e-6).epsilon, a)
        XCTAssertGreaterThan(RenyiAccountant.epsilon([gaussian(4, 10)], delta: 1e-9).epsilon, a)
        // ρ for a target, then ε of that ρ, is the target.
        let rho = RenyiAccountant.rho(forEpsilon: 3, delta: 1e-7)
        XCTAssertEqual(RenyiAccountant.epsilon(rho: rho, delta: 1e-7).epsilon, 3, accuracy: 1e-9)
    }

    func testSelectionMargin_boundsTheReleaseOfAnEmojiOnTheEdge() {
        var p = PrivacyParameters(epsilon: 8)
        p.maxItemsPerUser = 16
        let plan = PrivacyPlan(parameters: p, iterations: 10, alpha: 1, unobservedWeight: 1, judgingSums: 3)
        let sigma = plan.training.mechanism("vocabulary_counts").noiseScale
        XCTAssertEqual(sigma, plan.training.mechanism("vocabulary_counts").noiseMultiplier * (2.0 * 16).squareRoot(), accuracy: 1e-12)
        // One person touches at most 16 emoji; each on the edge passes with P(N(0, σ²) ≥ τ).
        XCTAssertEqual(16 * NormalTail.probability(above: plan.selectionMargin / sigma), plan.selectionDelta, accuracy: plan.selectionDelta * 1e-6)
        XCTAssertEqual(NormalTail.quantile(upperTail: 0.025), 1.959963984540054, accuracy: 1e-9)
    }

    func testParameters_refuseValuesOutsideTheirRange_byKey() {
        var p = PrivacyParameters(epsilon: 8)
        XCTAssertNil(p.problem)
        p.delta = 0.01
        XCTAssertEqual(p.problem?.key, "delta")
        p = PrivacyParameters(epsilon: -1)
        XCTAssertEqual(p.problem?.key, "epsilon")
        p = PrivacyParameters(epsilon: .nan)
        XCTAssertEqual(p.problem?.key, "epsilon")
        p = PrivacyParameters(epsilon: 1)
        p.maxItemsPerUser = 0
        XCTAssertEqual(p.problem?.key, "max_items_per_user")
        p = PrivacyParameters(epsilon: 1)
        p.heldOutPeople = 1
        XCTAssertEqual(p.problem?.key, "held_out_people")
    }
}
