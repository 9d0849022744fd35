import Foundation
import Privacy
import XCTest

final class NoiseTests: XCTestCase {
    let source = NoiseSource(rawKey: Array(repeating: 7, count: 32))

    func testGaussian_hasMeanZeroAndUnitVariance_andStreamsAreReproducibleAndIndependent() {
        var stream = source.stream("a")
        let n = 200_000
        var sum = 0.0, squares = 0.0, beyond = 0
        for _ in 0..<n {
            let x = stream.gaussian()
            sum += x; squares += x * x
            if abs(x) > 1.959963984540054 { beyond += 1 }
        }
        XCTAssertEqual(sum / Double(n), 0, accuracy: 0.01)
        XCTAssertEqual(squares / Double(n), 1, accuracy: 0.015)
        XCTAssertEqual(Double(beyond) / Double(n), 0.05, accuracy: 0.003)
        var a1 = source.stream("a"), a2 = source.stream("a"), b = source.stream("b")
        let x = (0..<100).map { _ in a1.nextBits() }
        XCTAssertEqual(x, (0..<100).map { _ in a2.nextBits() })
        XCTAssertNotEqual(x, (0..<100).map { _ in b.nextBits() })
    }

    func testNoiseSource_dependsOnSecretSeedDataAndRelease() {
        func first(_ s: NoiseSource) -> UInt64 { var st = s.stream("x"); return st.nextBits() }
        let secret = Array(repeating: UInt8(1), count: 32)
        let base = NoiseSource(rawKey: secret)
        XCTAssertEqual(first(base), first(NoiseSource(rawKey: secret)))
        XCTAssertNotEqual(first(base), first(NoiseSource(rawKey: Array(repeating: 2, count: 32))))
        XCTAssertNotEqual(base.bits("p"), base.bits("q"))
    }
}
