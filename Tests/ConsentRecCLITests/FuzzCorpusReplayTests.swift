import Foundation
import TestSupport
import XCTest

/// The fuzz corpus, regressions included, through the plain build of the fuzz targets: every
/// saved input must still pass its checks (libFuzzer itself runs under `make fuzz`).
final class FuzzCorpusReplayTests: XCTestCase {
    func testEverySavedInput_passesItsTarget() throws {
        let corpus = (Fixtures.directory as NSString).deletingLastPathComponent + "/FuzzCorpus"
        let targets = try FileManager.default.contentsOfDirectory(atPath: corpus).sorted()
        XCTAssertEqual(targets, ["config", "csv", "jsonl", "registry", "safetensors", "slack", "timestamp", "tsv"])
        for target in targets {
            let inputs = try FileManager.default.contentsOfDirectory(atPath: corpus + "/" + target).count
            XCTAssertGreaterThan(inputs, 0, target)
            let replay = try CommandRunner.run("consentrec-fuzz", [target, corpus + "/" + target])
            XCTAssertEqual(replay.status, 0, "\(target): \(replay.stderr.suffix(2000))")
            XCTAssertTrue(replay.stdout.contains("\(target): \(inputs) inputs replayed, no failure"), replay.stdout)
        }
    }
}
