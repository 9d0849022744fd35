import Consent
import Evaluation
import Factorization
import Foundation
import Linalg
@testable import Publishing
import TestSupport
import XCTest

final class SafeTensorsTests: XCTestCase {
    func sample() -> SafeTensors.File {
        SafeTensors.File(
            tensors: ["b": .init(shape: [3, 2], values: [1, 2, 3, 4, 5, 6.5]), "a": .init(shape: [1], values: [-0.25])],
            metadata: ["z": "last \"quoted\"\n", "a": "[\"x\",\"y\"]"])
    }

    func testRoundTrip_andLayout_perTheFormat() throws {
        let data = SafeTensors.encode(sample())
        XCTAssertEqual(try SafeTensors.decode(data, path: "t"), sample())
        let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        XCTAssertEqual((8 + headerLength) % 8, 0, "data must start 8-byte aligned")
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        let b = header["b"] as! [String: Any]
        XCTAssertEqual(b["dtype"] as? String, "F32")
        XCTAssertEqual(b["shape"] as? [Int], [3, 2])
        XCTAssertEqual(b["data_offsets"] as? [Int], [4, 28])  // "a" (4 bytes) comes first: name order
        // Little-endian float32 bytes, exactly.
        let first = data.subdata(in: (8 + headerLength + 4)..<(8 + headerLength + 8))
        XCTAssertEqual(first.withUnsafeBytes { $0.loadUnaligned(as: Float.self) }, 1)
        XCTAssertEqual(SafeTensors.encode(sample()), data, "encoding must be deterministic")
    }

    func testDecode_rejectsTruncatedAndMalformedFiles_withAReason() throws {
        let data = SafeTensors.encode(sample())
        for cut in [0, 5, 8, 20, data.count - 1] {
            XCTAssertThrowsError(try SafeTensors.decode(data.prefix(cut), path: "f")) { error in
                guard case .corruptModel("f", let reason) = error as? PublishingError else { return XCTFail("\(error)") }
                XCTAssertFalse(reason.isEmpty)
            }
        }
        func file(header: String, payload: Int) -> Data {
            var d = Data()
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
            return d + Data(header.utf8) + Data(count: payload)
        }
        let bad = [
            file(header: "not json", payload: 0),
            file(header: #"{"t":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, payload: 4),
            file(header: #"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}}"#, payload: 8),
            file(header: #"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"u":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, payload: 8),
            file(header: #"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, payload: 12),
        ]
        for d in bad { XCTAssertThrowsError(try SafeTensors.decode(d, path: "f")) }
    }

    func testModelFile_roundTrip_withUserFactorsAndSupport() throws {
        let y = RandomInputs.matrix(rows: 4, columns: 3, seed: 1), x = RandomInputs.matrix(rows: 2, columns: 3, seed: 2)
        var model = ModelFile(
            recommender: "emoji", scope: "global", workspace: nil, itemIDs: ["+1", "tada", "eyes", "a\"b"], itemFactors: y,
            hyperparameters: .init(factors: 3, regularization: 0.01, alpha: 1, iterations: 15, solver: "cg", cgSteps: 3, seed: 0),
            support: .init(itemWorkspaceCounts: [5, 6, 7, 8], itemUserCounts: [30, 40, 50, 60], minWorkspaces: 5, minUsers: 25),
            provenance: Provenance(workspaces: ["0a", "0b"], oldestEvent: 1_700_000_000, newestEvent: 1_700_086_400),
            ranker: .blend(beta: 0.3), itemPopularity: [30, 40, 0, 60])
        XCTAssertEqual(try ModelFile.decode(model.encode(), path: "m"), model)
        model.userIDs = ["u1", "u2"]
        model.userFactors = x
        XCTAssertEqual(try ModelFile.decode(model.encode(), path: "m"), model)
        // iALS++ parameters are recorded only when they differ from the classic 1 and 0.
        XCTAssertFalse(String(decoding: model.encode(), as: UTF8.self).contains("unobserved_weight"))
        model.hyperparameters.unobservedWeight = 0.25
        model.hyperparameters.regularizationExponent = 0.5
        XCTAssertEqual(try ModelFile.decode(model.encode(), path: "m"), model)
        model.hyperparameters.regularizationExponent = 5
        XCTAssertThrowsError(try ModelFile.decode(model.encode(), path: "m"))
        model.hyperparameters.regularizationExponent = nil
        model.hyperparameters.unobservedWeight = 0
        XCTAssertThrowsError(try ModelFile.decode(model.encode(), path: "m"))
        model.hyperparameters.unobservedWeight = nil
        model.itemIDs.removeLast()
        XCTAssertThrowsError(try ModelFile.decode(model.encode(), path: "m"))
    }

    func testModelFile_recordsItsRanker_andRefusesABadRankerOrPopularity() throws {
        let model = ModelFile(
            recommender: "channel", scope: "workspace", workspace: "w", itemIDs: ["a", "b"], itemFactors: RandomInputs.matrix(rows: 2, columns: 2, seed: 3),
            hyperparameters: .init(factors: 2, regularization: 1, alpha: 1, iterations: 15, solver: "cg", cgSteps: 3, seed: 0),
            provenance: Provenance(workspaces: ["w"], oldestEvent: 0, newestEvent: 0), ranker: .popularity, itemPopularity: [4, 9])
        let file = try SafeTensors.decode(model.encode(), path: "m")
        XCTAssertEqual(file.metadata["ranker"], "popularity")
        XCTAssertEqual(file.metadata["item_popularity"], "[4,9]")
        XCTAssertEqual(file.metadata["format"], "consentrec-als-3")
        func edited(_ key: String, _ value: String?) -> Data {
            var f = file
            f.metadata[key] = value
            return SafeTensors.encode(f)
        }
        for (key, value) in [("ranker", nil), ("ranker", "blend"), ("ranker", "blend:-1"), ("ranker", "blend:nan"), ("ranker", "ALS"), ("ranker", "blend:0x10"), ("ranker", "blend:1e6"), ("ranker", "blend:+1"),
                             ("item_popularity", nil), ("item_popularity", "[4]"), ("item_popularity", "[4,-1]"), ("item_popularity", "[4,1.5]")] {
            XCTAssertThrowsError(try ModelFile.decode(edited(key, value), path: "m"), "\(key) = \(value ?? "missing")") { error in
                XCTAssertTrue("\(error)".contains(key), "\(error)")
            }
        }
        // A file of the previous format (before rankers) is an ALS-ranked model without popularity.
        var old = file
        old.metadata["format"] = "consentrec-als-2"
        old.metadata["ranker"] = nil
        old.metadata["item_popularity"] = nil
        let read = try ModelFile.decode(SafeTensors.encode(old), path: "m")
        XCTAssertEqual(read.ranker, .als)
        XCTAssertNil(read.itemPopularity)
        old.metadata["format"] = "consentrec-als-1"
        XCTAssertThrowsError(try ModelFile.decode(SafeTensors.encode(old), path: "m"))
    }
}
