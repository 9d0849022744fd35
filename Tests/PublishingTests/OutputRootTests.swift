import Consent
import Foundation
import Platform
@_spi(Testing) @testable import Publishing
import TestSupport
import XCTest

final class OutputRootTests: XCTestCase {
    func testLock_refusesASecondHolder_untilReleased() throws {
        let dir = TemporaryDirectory()
        let root = OutputRoot(path: dir.path + "/out")
        var lock: RunLock? = try root.lock()
        XCTAssertThrowsError(try root.lock()) { error in
            guard case .locked(_, let holder) = error as? PublishingError else { return XCTFail("\(error)") }
            XCTAssertTrue(holder.hasPrefix("pid "), holder)
        }
        withExtendedLifetime(lock) {}
        lock = nil
        XCTAssertNoThrow(try root.lock())
    }

    func testPublish_swapsCurrent_andPruneKeepsTheNewestAndCurrent() throws {
        let dir = TemporaryDirectory()
        let root = OutputRoot(path: dir.path + "/out")
        for id in ["r1", "r2", "r3", "r4"] {
            let writer = try root.beginRun(id: id, seal: Self.seal)
            try writer.write(Data(id.utf8), to: "models/x.bin")
            _ = try writer.publish(manifest: Self.manifest(id))
            XCTAssertEqual(root.currentRun, root.path + "/runs/" + id)
        }
        XCTAssertEqual(root.prune(keep: 2), ["r1", "r2"])
        XCTAssertEqual(root.runs(), ["r3", "r4"])
        XCTAssertEqual(try PublishedRun.open(root.path).manifest.runID, "r4")
    }

    func testFailedRun_leavesNoPartialDirectory_andCurrentUntouched() throws {
        let dir = TemporaryDirectory()
        let root = OutputRoot(path: dir.path + "/out")
        let good = try root.beginRun(id: "good", seal: Self.seal)
        _ = try good.publish(manifest: Self.manifest("good"))
        // Steps: the model file, the manifest, the syncs, the rename into runs/, the swap.
        for step in 0..<5 {
            do {
                let writer = try root.beginRun(id: "bad\(step)", seal: Self.seal, faults: FaultInjection(failAtStep: step))
                try writer.write(Data("x".utf8), to: "models/x.bin")
                _ = try writer.publish(manifest: Self.manifest("bad\(step)"))
                XCTFail("step \(step) should have failed")
            } catch is InjectedFault {}
            XCTAssertEqual(root.currentRun, root.path + "/runs/good", "step \(step)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path + "/runs"), ["good"], "step \(step)")
            XCTAssertEqual(try PublishedRun.open(root.path).manifest.runID, "good")
            XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: root.path).contains { $0.hasPrefix(".current-") })
        }
        let writer = try root.beginRun(id: "ok", seal: Self.seal, faults: FaultInjection(failAtStep: 5))
        try writer.write(Data("x".utf8), to: "models/x.bin")
        XCTAssertNoThrow(try writer.publish(manifest: Self.manifest("ok")))
        XCTAssertEqual(root.currentRun, root.path + "/runs/ok")
    }

    func testPartialDirectoryOfAKilledRun_isRemovedByTheNextRun_andNeverCurrent() throws {
        let dir = TemporaryDirectory()
        let root = OutputRoot(path: dir.path + "/out")
        _ = try root.beginRun(id: "good", seal: Self.seal).publish(manifest: Self.manifest("good"))
        // What `kill -9` mid-write leaves: a partial directory with some files in it.
        try FileManager.default.createDirectory(atPath: root.path + "/runs/.partial-killed/models", withIntermediateDirectories: true)
        try Data("half".utf8).write(to: URL(fileURLWithPath: root.path + "/runs/.partial-killed/models/x.safetensors"))
        XCTAssertEqual(root.runs(), ["good"])
        XCTAssertEqual(try PublishedRun.open(root.path).manifest.runID, "good")
        let next = try root.beginRun(id: "next", seal: Self.seal)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.path + "/runs/.partial-killed"))
        next.abandon()
        XCTAssertEqual(root.runs(), ["good"])
    }

    static let seal = ManifestSeal(pseudonymiser: Pseudonymiser(key: try! PseudonymKey(bytes: Array(repeating: 7, count: 32), source: "test")))

    static func manifest(_ id: String) -> Manifest {
        Manifest(
            toolVersion: "t", runID: id, createdAt: "", asOf: "", retentionDays: nil, configDigest: "", inputs: [],
            consent: .init(policy: .optOut, registryPath: "", registrySHA256: ""), usage: .init(read: .init(policy: .optOut)),
            workspacesUsed: [], recommenders: [], models: [])
    }
}
