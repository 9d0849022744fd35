import Consent
import Factorization
import Foundation
import Ingest
@testable import Publishing
import TestSupport
import XCTest

/// Model files and runs as an attacker or a broken disk leaves them: the decoder refuses
/// without trapping, a tampered manifest or an unlisted file is caught, and a run is made
/// durable directory by directory.
final class HostileModelTests: XCTestCase {
    static func file(header: String, payload: Int, length: UInt64? = nil) -> Data {
        var d = Data()
        withUnsafeBytes(of: (length ?? UInt64(header.utf8.count)).littleEndian) { d.append(contentsOf: $0) }
        return d + Data(header.utf8) + Data(count: payload)
    }

    func refusal(_ data: Data) -> String? {
        do {
            _ = try SafeTensors.decode(data, path: "f")
            return nil
        } catch {
            guard case .corruptModel(_, let reason) = error else { return "\(error)" }
            return reason
        }
    }

    func testAShapeWhoseProductOverflows_isRefused_notATrap() {
        let reason = refusal(Self.file(header: #"{"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, payload: 4))
        XCTAssertEqual(reason, "tensor 't' has shape [4294967296, 4294967296] but 4 bytes")
        XCTAssertNotNil(refusal(Self.file(header: #"{"t":{"dtype":"F32","shape":[9223372036854775807,2],"data_offsets":[0,8]}}"#, payload: 8)))
        XCTAssertNotNil(refusal(Self.file(header: #"{"t":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,16]}}"#, payload: 16)))
        XCTAssertNil(SafeTensors.elementCount([1 << 32, 1 << 32]))
        XCTAssertEqual(SafeTensors.elementCount([3, 0, 5]), 0)
    }

    func testAHoleBetweenTensors_isRefused() {
        let reason = refusal(Self.file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#, payload: 12))
        XCTAssertEqual(reason, "4 bytes between tensors (a hole the format forbids)")
        XCTAssertEqual(refusal(Self.file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, payload: 8)),
                       "4 bytes between tensors (a hole the format forbids)", "data must start at offset 0")
    }

    func testAHeaderOverTheFormatsCap_isRefused_beforeAnyParsing() {
        let reason = refusal(Self.file(header: "{}", payload: 0, length: SafeTensors.maxHeaderBytes + 1))
        XCTAssertEqual(reason, "the header length 100000001 is over the format's cap of 100000000 bytes")
        XCTAssertNotNil(refusal(Self.file(header: "{}", payload: 0, length: UInt64.max)))
    }

    func testARunIsSyncedDirectoryByDirectory_deepestFirst() throws {
        let dir = TemporaryDirectory()
        for sub in ["models/channel", "models/emoji"] {
            try FileManager.default.createDirectory(atPath: dir.path + "/run/" + sub, withIntermediateDirectories: true)
        }
        let run = dir.path + "/run"
        XCTAssertEqual(RunWriter.directoriesDeepestFirst(run), [run + "/models/channel", run + "/models/emoji", run + "/models", run])
    }

    func testPruneRenamesBeforeDeleting_andLeftoversOfAKilledPrune_areRemoved() throws {
        let dir = TemporaryDirectory()
        let root = OutputRoot(path: dir.path + "/out")
        for id in ["r1", "r2"] { _ = try root.beginRun(id: id, seal: OutputRootTests.seal).publish(manifest: OutputRootTests.manifest(id)) }
        // What kill -9 in the middle of deleting a pruned run leaves: a hidden, half-deleted copy.
        try FileManager.default.createDirectory(atPath: root.path + "/runs/.pruned-r0/models", withIntermediateDirectories: true)
        XCTAssertEqual(root.runs(), ["r1", "r2"], "a run being pruned is never visible")
        try root.removeLeftovers()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path + "/runs").sorted(), ["r1", "r2"])
        XCTAssertEqual(root.prune(keep: 1), ["r1"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path + "/runs"), ["r2"])
    }
}

/// The manifest's seal: what it catches and what it does not let through.
final class ManifestSealTests: XCTestCase {
    let dir = TemporaryDirectory()
    static let otherSeal = ManifestSeal(pseudonymiser: Pseudonymiser(key: try! PseudonymKey(bytes: Array(repeating: 9, count: 32), source: "other")))

    func published() throws -> PublishedRun {
        let root = OutputRoot(path: dir.path + "/out")
        let writer = try root.beginRun(id: "r1", seal: OutputRootTests.seal)
        let provenance = Provenance(workspaces: ["w"], oldestEvent: 0, newestEvent: 0)
        let model = ModelFile(
            recommender: "channel", scope: "workspace", workspace: "w", itemIDs: ["c"], itemFactors: RandomInputs.matrix(rows: 1, columns: 2, seed: 1),
            hyperparameters: .init(factors: 2, regularization: 0.01, alpha: 1, iterations: 15, solver: "cg", cgSteps: 3, seed: 0), support: nil, provenance: provenance,
            itemPopularity: [1]).encode()
        let sha = try writer.write(model, to: "models/channel/w.safetensors")
        var manifest = OutputRootTests.manifest("r1")
        manifest.models = [Manifest.Model(
            path: "models/channel/w.safetensors", recommender: "channel", scope: "workspace", workspace: "w", users: 1, items: 1, factors: 2,
            nonZeros: 1, bytes: model.count, sha256: sha, trainedAt: "2026-11-20T00:00:00Z", provenance: provenance)]
        return try PublishedRun.open(try writer.publish(manifest: manifest))
    }

    func testASoundRun_passes_andAnEditedManifest_failsItsSeal() throws {
        let run = try published()
        XCTAssertNil(run.sealProblem(OutputRootTests.seal))
        XCTAssertEqual(run.verify(seal: OutputRootTests.seal), [])
        let manifestPath = run.directory + "/" + Manifest.fileName
        for (from, to) in [("\"r1\"", "\"r9\""), ("\"eventsKept\" : 0", "\"eventsKept\" : 7")] {
            let original = try String(contentsOfFile: manifestPath, encoding: .utf8)
            XCTAssertTrue(original.contains(from), from)
            try original.replacingOccurrences(of: from, with: to).write(toFile: manifestPath, atomically: true, encoding: .utf8)
            let edited = try PublishedRun.open(run.directory)
            XCTAssertEqual(edited.sealProblem(OutputRootTests.seal), "manifest.json does not match its seal: it was modified after the run was written")
            XCTAssertThrowsError(try PublishedRun.open(run.directory, seal: OutputRootTests.seal))
            try original.write(toFile: manifestPath, atomically: true, encoding: .utf8)
        }
    }

    func testASealUnderAnotherKey_orNoSeal_fails() throws {
        let run = try published()
        XCTAssertEqual(run.sealProblem(Self.otherSeal)?.hasPrefix("sealed under another key (key id \(OutputRootTests.seal.keyID)"), true)
        try FileManager.default.removeItem(atPath: run.directory + "/" + ManifestSeal.fileName)
        XCTAssertEqual(try PublishedRun.open(run.directory).sealProblem(OutputRootTests.seal),
                       "the run has no manifest.seal: its manifest cannot be checked")
    }

    func testAFileTheManifestDoesNotList_isFlagged() throws {
        let run = try published()
        try Data("extra".utf8).write(to: URL(fileURLWithPath: run.directory + "/models/channel/intruder.safetensors"))
        XCTAssertEqual(run.unlistedFiles(), ["models/channel/intruder.safetensors"])
        XCTAssertEqual(run.verify(seal: OutputRootTests.seal), [.unlistedFile(path: run.directory + "/models/channel/intruder.safetensors")])
        let registry = try ConsentRegistry.load(path: dir.write("c.csv", "workspace_id,status,effective_at\n"), asOf: 0)
        let audit = RunAudit(registry: registry, pseudonymiser: Pseudonymiser(key: try PseudonymKey(bytes: Array(repeating: 7, count: 32), source: "test")), policy: .optOut)
        XCTAssertEqual(audit.check(run).map(\.description), ["models/channel/intruder.safetensors: a file the manifest does not list"])
        try FileManager.default.removeItem(atPath: run.directory + "/models/channel/intruder.safetensors")
        // An extra folder, even empty: a name can carry data too.
        try FileManager.default.createDirectory(atPath: run.directory + "/models/x", withIntermediateDirectories: true)
        XCTAssertEqual(run.unlistedFiles(), ["models/x"])
    }
}
