import Linalg
import TestSupport
import XCTest

/// The fused CG row kernel: every vector level bit for bit against the scalar reference, and
/// the reference against a dense solve in `Double`.
final class KernelTests: XCTestCase {
    /// One row's problem: `fixed` rows, the gram `YᵀY + λI` and the row's entries.
    struct Problem {
        let factors: Int
        let fixed: [Float]
        let gram: [Float]
        let indices: [Int32]
        let values: [Float]
        let alpha: Float
        let start: [Float]

        init(factors f: Int, fixedRows: Int, entries: Int, seed: UInt64) {
            var g = SeededGenerator(seed: seed)
            factors = f
            fixed = (0..<(fixedRows * f)).map { _ in Float.random(in: -0.3...0.3, using: &g) }
            var gram = [Float](repeating: 0, count: f * f)
            for i in 0..<fixedRows {
                for p in 0..<f { for q in 0..<f { gram[p * f + q] += fixed[i * f + p] * fixed[i * f + q] } }
            }
            for p in 0..<f { gram[p * f + p] += 0.1 }
            self.gram = gram
            indices = (0..<entries).map { _ in Int32.random(in: 0..<Int32(fixedRows), using: &g) }
            values = (0..<entries).map { _ in Float(Int.random(in: 1...6, using: &g)) }
            alpha = 0.7
            start = (0..<f).map { _ in Float.random(in: -0.05...0.05, using: &g) }
        }

        /// The kernel's result from `start`, with `capacity` rows gathered at most.
        func solve(_ level: KernelLevel, steps: Int, capacity: Int = 16_384) -> [Float] {
            var x = start
            var scratch = [Float](repeating: .nan, count: Kernels.scratchCount(factors: factors))
            var gathered = [Float](repeating: .nan, count: max(capacity, 1) * Kernels.paddedFactors(factors))
            x.withUnsafeMutableBufferPointer { xb in
                Kernels.conjugateGradientRow(
                    level: level, factors: factors, count: indices.count, indices: indices, values: values,
                    alpha: alpha, fixed: fixed, gram: gram, x: xb.baseAddress!, steps: steps, tolerance: 1e-20,
                    scratch: &scratch, gathered: &gathered, capacity: capacity)
            }
            return x
        }

        /// The exact solution, dense, in `Double`.
        func exact() -> [Double] {
            let f = factors
            var a = (0..<f).map { p in (0..<f).map { q in Double(gram[p * f + q]) } }
            var b = [Double](repeating: 0, count: f)
            for (k, i) in indices.enumerated() {
                let w = Double(alpha * values[k])
                let y = (0..<f).map { Double(fixed[Int(i) * f + $0]) }
                for p in 0..<f {
                    b[p] += (1 + w) * y[p]
                    for q in 0..<f { a[p][q] += w * y[p] * y[q] }
                }
            }
            return DenseReference.solve(a, b)
        }
    }

    static let shapes: [(factors: Int, entries: Int)] = [(1, 3), (7, 1), (16, 40), (33, 9), (64, 57), (64, 1), (128, 20), (200, 11)]

    func assertLevelMatchesReference(_ level: KernelLevel, file: StaticString = #filePath, line: UInt = #line) {
        for (n, shape) in Self.shapes.enumerated() {
            let problem = Problem(factors: shape.factors, fixedRows: 50, entries: shape.entries, seed: UInt64(n))
            let reference = problem.solve(.reference, steps: 3)
            // Gathered (capacity ≥ entries) and read in place (capacity below): same bits.
            for capacity in [16_384, max(shape.entries - 1, 0)] {
                let result = problem.solve(level, steps: 3, capacity: capacity)
                XCTAssertEqual(
                    result.map(\.bitPattern), reference.map(\.bitPattern),
                    "\(level) f=\(shape.factors) entries=\(shape.entries) capacity=\(capacity)", file: file, line: line)
            }
        }
    }

    func testAVX2LevelEqualsTheReferenceBitForBit() throws {
        guard KernelLevel.avx2.isSupported else { throw XCTSkip("this CPU has no AVX2+FMA") }
        assertLevelMatchesReference(.avx2)
    }

    func testAVX512LevelEqualsTheReferenceBitForBit() throws {
        guard KernelLevel.avx512.isSupported else {
            throw XCTSkip("this CPU (\(CPU.current)) has no AVX-512: the level cannot run here")
        }
        assertLevelMatchesReference(.avx512)
    }

    func testReferenceConvergesToTheDenseDoubleSolution() {
        for (n, shape) in Self.shapes.enumerated() where shape.factors <= 64 {
            let problem = Problem(factors: shape.factors, fixedRows: 80, entries: shape.entries, seed: 100 + UInt64(n))
            let exact = problem.exact()
            // CG is exact after f steps in exact arithmetic; 3f is plenty in floats.
            let solved = problem.solve(.reference, steps: 3 * shape.factors)
            let scale = exact.map(abs).max()!
            for (a, b) in zip(solved, exact) {
                XCTAssertEqual(Double(a), b, accuracy: 2e-3 * scale, "f=\(shape.factors)")
            }
            // And three steps already move from the start towards it.
            let three = problem.solve(.reference, steps: 3)
            func distance(_ x: [Float]) -> Double { zip(x, exact).map { (Double($0) - $1) * (Double($0) - $1) }.reduce(0, +) }
            XCTAssertLessThan(distance(three), distance(problem.start), "f=\(shape.factors)")
        }
    }

    func testTheBestLevelIsTheWidestTheCPUSupports() {
        let cpu = CPU.current
        switch KernelLevel.best {
        case .avx512: XCTAssertTrue(cpu.features.isSuperset(of: [.avx512f, .osZMM]))
        case .avx2:
            XCTAssertTrue(cpu.features.isSuperset(of: [.avx2, .fma, .osYMM]))
            XCTAssertFalse(cpu.features.isSuperset(of: [.avx512f, .osZMM]))
        case .blas, .reference: XCTAssertFalse(cpu.features.isSuperset(of: [.avx2, .fma, .osYMM]))
        }
        // cpuid agrees with what the kernel reports in /proc/cpuinfo.
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? []
        XCTAssertFalse(flags.isEmpty)
        XCTAssertEqual(flags.contains("avx2"), cpu.features.contains(.avx2))
        XCTAssertEqual(flags.contains("fma"), cpu.features.contains(.fma))
        XCTAssertEqual(flags.contains("avx512f"), cpu.features.contains(.avx512f))
    }
}

/// Which BLAS kernels a CPU should get, and what is done about a library that chose older ones.
final class BLASCoreTests: XCTestCase {
    func testFallbackToAnOlderCoreRestartsWithTheRightOne() {
        XCTAssertEqual(BLASCore.decide(cpu: .avx512, core: "Prescott", environment: [:]), .reexecute(core: "SkylakeX"))
        XCTAssertEqual(BLASCore.decide(cpu: .avx512, core: "Haswell", environment: [:]), .reexecute(core: "SkylakeX"))
        XCTAssertEqual(BLASCore.decide(cpu: .avx2, core: "Nehalem", environment: [:]), .reexecute(core: "Haswell"))
        XCTAssertEqual(BLASCore.decide(cpu: .avx, core: "Core2", environment: [:]), .reexecute(core: "Sandybridge"))
    }

    func testTheRightCoreOrAnUnknownOneIsKept() {
        XCTAssertEqual(BLASCore.decide(cpu: .avx2, core: "Zen", environment: [:]), .keep(nil))
        XCTAssertEqual(BLASCore.decide(cpu: .avx2, core: "Haswell", environment: [:]), .keep(nil))
        XCTAssertEqual(BLASCore.decide(cpu: .avx512, core: "Cooperlake", environment: [:]), .keep(nil))
        XCTAssertEqual(BLASCore.decide(cpu: .sse, core: "Prescott", environment: [:]), .keep(nil))
        // A name OpenBLAS may add later is not second-guessed.
        XCTAssertEqual(BLASCore.decide(cpu: .avx512, core: "Zen5", environment: [:]), .keep(nil))
    }

    func testAUsersOwnChoiceIsKeptWithAWarning() {
        let env = ["OPENBLAS_CORETYPE": "Prescott"]
        XCTAssertEqual(
            BLASCore.decide(cpu: .avx2, core: "Prescott", environment: env),
            .keep(.userChoseOlder(core: "Prescott", better: "Haswell")))
        XCTAssertEqual(BLASCore.decide(cpu: .avx2, core: "Haswell", environment: ["OPENBLAS_CORETYPE": "haswell"]), .keep(nil))
    }

    func testARestartedProcessNeverRestartsAgain() {
        let env = ["OPENBLAS_CORETYPE": "SkylakeX", BLASCore.reexecMarker: "Prescott"]
        XCTAssertEqual(BLASCore.decide(cpu: .avx512, core: "SkylakeX", environment: env), .keep(.switched(from: "Prescott", to: "SkylakeX")))
        // The library ignored the request: warn, do not loop.
        XCTAssertEqual(
            BLASCore.decide(cpu: .avx512, core: "Prescott", environment: env),
            .keep(.ignored(requested: "SkylakeX", core: "Prescott")))
        XCTAssertTrue(BLASCore.Note.ignored(requested: "SkylakeX", core: "Prescott").isWarning)
        XCTAssertFalse(BLASCore.Note.switched(from: "Prescott", to: "SkylakeX").isWarning)
    }

    func testThisMachinesCoreIsInTheTable() {
        // An unknown name is left alone by design; the table must know what Debian's OpenBLAS
        // reports on the machines the suite runs on, or the restart could never happen there.
        XCTAssertNotNil(BLASCore.tier(ofCore: BLASThreads.coreName), "unknown OpenBLAS core \(BLASThreads.coreName)")
    }
}
