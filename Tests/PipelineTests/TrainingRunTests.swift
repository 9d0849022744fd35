import Consent
import Factorization
import Foundation
import Ingest
import Interactions
import Logging
@testable import Pipeline
import Platform
@_spi(Testing) import Publishing
import SyntheticData
import TestSupport
import XCTest

final class TrainingRunTests: XCTestCase {
    let data = TemporaryDirectory()
    let out = TemporaryDirectory()
    var options = SyntheticEventLog.Options()

    override func setUpWithError() throws {
        options.workspaces = 10
        options.events = 12_000
        options.optedOutShare = 0.3
        try SyntheticEventLog(options: options).write(to: data.path)
    }

    func request(threads: Int = 2, faults: FaultInjection = FaultInjection(), consent: String? = nil, root: String? = nil) -> TrainingRequest {
        var emoji = RecommenderDefinition.emojiDefault
        emoji.minEmojiWorkspaces = 2
        emoji.minEmojiUsers = 5
        var request = TrainingRequest(
            events: [data.file("events.csv")], consentPath: consent ?? data.file("consent.csv"), keyFile: data.file("pseudonym.key"),
            ingest: IngestOptions(policy: .optOut, asOf: options.end), recommenders: [.channelDefault, emoji],
            als: ALSConfiguration(factors: 8, iterations: 4, threads: threads, seed: 3), outputRoot: root ?? out.path + "/root")
        request.faults = faults
        return request
    }

    var quiet: Logger { .quiet }

    func modelBytes(_ run: String) throws -> [String: Data] {
        let published = try PublishedRun.open(run)
        var result: [String: Data] = [:]
        for m in published.manifest.models { result[m.path] = FileManager.default.contents(atPath: published.directory + "/" + m.path) }
        return result
    }

    func testRun_publishesVerifiableModels_withoutRawIDs() throws {
        let result = try TrainingRun(request: request()).execute(logger: quiet)
        let run = try PublishedRun.open(out.path + "/root")
        XCTAssertEqual(run.directory, result.runDirectory)
        XCTAssertTrue(run.verify(seal: ManifestSeal(pseudonymiser: Pseudonymiser(key: try PseudonymKey.load(file: data.file("pseudonym.key"))))).isEmpty)
        XCTAssertGreaterThan(run.manifest.models.filter { $0.recommender == "channel" }.count, 3)
        XCTAssertEqual(run.manifest.models.filter { $0.recommender == "emoji" }.count, 1)
        XCTAssertEqual(run.manifest.inputs.first?.rows, run.manifest.usage.rowsRead)
        XCTAssertEqual(run.manifest.consent.registrySHA256, Digest.sha256(try Data(contentsOf: URL(fileURLWithPath: data.file("consent.csv")))))

        // Search every byte of the run for every raw id of the input.
        let raw = try RawIDs.inGeneratedCSV(data.file("events.csv"))
        var everything = Data()
        let files = FileManager.default.enumerator(atPath: run.directory)!
        for case let file as String in files { everything += FileManager.default.contents(atPath: run.directory + "/" + file) ?? Data() }
        let text = String(decoding: everything, as: UTF8.self)
        for id in raw { XCTAssertFalse(text.contains(id), "raw id \(id) in the run") }
    }

    func testSameInputsAndSeed_giveIdenticalModelBytes_forAnyThreadCount() throws {
        let a = try TrainingRun(request: request(threads: 1, root: out.path + "/a")).execute(logger: quiet)
        let b = try TrainingRun(request: request(threads: 2, root: out.path + "/b")).execute(logger: quiet)
        let bytesA = try modelBytes(a.runDirectory), bytesB = try modelBytes(b.runDirectory)
        XCTAssertFalse(bytesA.isEmpty)
        XCTAssertEqual(bytesA, bytesB)
    }

    func testFailureAtAnyWriteStep_leavesThePublishedRunIntact() throws {
        let first = try TrainingRun(request: request()).execute(logger: quiet)
        let before = try modelBytes(first.runDirectory)
        var step = 0
        while true {
            do {
                _ = try TrainingRun(request: request(faults: FaultInjection(failAtStep: step))).execute(logger: quiet)
                break  // past the last step: the run went through
            } catch is InjectedFault {
                let run = try PublishedRun.open(out.path + "/root")
                XCTAssertEqual(run.directory, first.runDirectory, "step \(step)")
                XCTAssertTrue(run.verify(seal: ManifestSeal(pseudonymiser: Pseudonymiser(key: try PseudonymKey.load(file: data.file("pseudonym.key"))))).isEmpty, "step \(step)")
                XCTAssertEqual(try modelBytes(run.directory), before, "step \(step)")
                XCTAssertEqual(OutputRoot(path: out.path + "/root").runs().count, 1, "step \(step)")
            }
            step += 1
        }
        XCTAssertGreaterThan(step, 5, "every model write and publish step was tried")
    }

    func testConcurrentRun_isRefused_whileTheLockIsHeld() throws {
        let lock = try OutputRoot(path: out.path + "/root").lock()
        XCTAssertThrowsError(try TrainingRun(request: request()).execute(logger: quiet)) { error in
            guard case .locked = error as? PublishingError else { return XCTFail("\(error)") }
        }
        withExtendedLifetime(lock) {}
    }

    func testAudit_passesOnACleanRun_andFailsAfterALaterOptOut() throws {
        _ = try TrainingRun(request: request()).execute(logger: quiet)
        let run = try PublishedRun.open(out.path + "/root")
        let key = try PseudonymKey.load(file: data.file("pseudonym.key"))
        let registry = try ConsentRegistry.load(path: data.file("consent.csv"), asOf: options.end)
        XCTAssertEqual(RunAudit(registry: registry, pseudonymiser: Pseudonymiser(key: key), policy: .optOut).check(run), [])

        // A workspace that was trained on opts out the next day.
        let p = Pseudonymiser(key: key)
        let events = try String(contentsOfFile: data.file("events.csv"), encoding: .utf8)
        let trained = events.split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[1]) }
            .first { run.manifest.workspacesUsed.contains(p.workspace($0)) }!
        let later = try String(contentsOfFile: data.file("consent.csv"), encoding: .utf8) + "\(trained),opted_out,2026-11-21T00:00:00Z\n"
        let laterPath = data.write("consent-later.csv", later)
        let today = try ConsentRegistry.load(path: laterPath, asOf: options.end + 2 * 86_400)
        let findings = RunAudit(registry: today, pseudonymiser: p, policy: .optOut).check(run)
        XCTAssertFalse(findings.isEmpty)
        XCTAssertTrue(findings.contains { $0.location == "models/channel/\(p.workspace(trained)).safetensors" })
        XCTAssertTrue(findings.contains { $0.location == "manifest.json" })
    }

    func testAudit_catchesAGlobalModelBelowItsSupportThresholds_andCorruption() throws {
        _ = try TrainingRun(request: request()).execute(logger: quiet)
        let run = try PublishedRun.open(out.path + "/root")
        let entry = run.manifest.models.first { $0.scope == "global" }!
        var model = try run.model(entry)
        model.support!.itemWorkspaceCounts[0] = 1  // as if a one-workspace emoji had got in
        let path = run.directory + "/" + entry.path
        try model.encode().write(to: URL(fileURLWithPath: path))
        let key = try PseudonymKey.load(file: data.file("pseudonym.key"))
        let registry = try ConsentRegistry.load(path: data.file("consent.csv"), asOf: options.end)
        let findings = RunAudit(registry: registry, pseudonymiser: Pseudonymiser(key: key), policy: .optOut).check(run)
        // The rewritten file no longer matches its checksum: that alone fails the audit.
        XCTAssertTrue(findings.contains { $0.problem.contains("checksum mismatch") }, "\(findings)")
        // Written consistently (manifest updated too, as a faulty writer would), the support
        // check itself catches it.
        var manifest = run.manifest
        let index = manifest.models.firstIndex(of: entry)!
        let data = model.encode()
        manifest.models[index] = Manifest.Model(
            path: entry.path, recommender: entry.recommender, scope: entry.scope, workspace: nil, users: entry.users,
            items: entry.items, factors: entry.factors, nonZeros: entry.nonZeros, bytes: data.count,
            sha256: SHA256Hex.of(data), trainedAt: entry.trainedAt, provenance: entry.provenance)
        try manifest.encoded().write(to: URL(fileURLWithPath: run.directory + "/manifest.json"))
        // Unsealed, the edit alone fails the audit; sealed again with the key, the support check
        // is what remains.
        XCTAssertTrue(RunAudit(registry: registry, pseudonymiser: Pseudonymiser(key: key), policy: .optOut)
            .check(try PublishedRun.open(out.path + "/root")).contains { $0.problem.contains("does not match its seal") })
        try ManifestSeal(pseudonymiser: Pseudonymiser(key: key)).seal(manifest.encoded())
            .write(to: URL(fileURLWithPath: run.directory + "/" + ManifestSeal.fileName))
        let consistent = try PublishedRun.open(out.path + "/root")
        let supportFindings = RunAudit(registry: registry, pseudonymiser: Pseudonymiser(key: key), policy: .optOut).check(consistent)
        XCTAssertEqual(supportFindings.count, 1, "\(supportFindings)")
        XCTAssertTrue(supportFindings[0].problem.contains("under the thresholds 2 / 5"), supportFindings[0].problem)

        // Corruption of another model: a flipped byte and a truncation are both reported.
        let channel = run.manifest.models.first { $0.recommender == "channel" }!
        let channelPath = run.directory + "/" + channel.path
        var bytes = FileManager.default.contents(atPath: channelPath)!
        let reopened = try PublishedRun.open(out.path + "/root")
        bytes[bytes.count - 3] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: channelPath))
        XCTAssertTrue(reopened.verify(seal: nil).contains { if case .checksumMismatch(channelPath, _, _) = $0 { true } else { false } })
        try bytes.prefix(40).write(to: URL(fileURLWithPath: channelPath))
        XCTAssertThrowsError(try ModelFile.decode(bytes.prefix(40), path: channelPath))
    }
}

enum SHA256Hex {
    static func of(_ data: Data) -> String {
        let path = NSTemporaryDirectory() + "sha-\(UUID().uuidString)"
        try! data.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return Digest.sha256(try! Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
