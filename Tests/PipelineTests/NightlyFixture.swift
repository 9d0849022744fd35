import Consent
import Foundation
import Ingest
import Logging
@testable import Pipeline
import Platform
import Publishing
import SyntheticData
import TestSupport
import XCTest

/// A generated log with its registry and key, nightly configs over it, and the means to change
/// consent between nights.
final class NightlyFixture {
    let dir = TemporaryDirectory()
    var options = SyntheticEventLog.Options()
    static let impossibleGate = "min_test_users = 100000\npublish_ungated = false"

    init(workspaces: Int = 12, events: Int = 20_000, optedOutShare: Double = 0.25, seed: UInt64 = 1) throws {
        options.workspaces = workspaces
        options.events = events
        options.optedOutShare = optedOutShare
        options.seed = seed
        try SyntheticEventLog(options: options).write(to: dir.path + "/data")
    }

    func config(
        _ extra: String = "", channelGate: String = "min_lift_over_popularity = 0.0\nmin_test_users = 3",
        emojiGate: String = "min_lift_over_popularity = -1.0", root: String = "out", asOf: String = "2026-11-20T00:00:00Z",
        retentionDays: Int? = nil, keepRuns: Int = 5, policy: ConsentPolicy = .optOut
    ) -> String {
        """
        [input]
        events = ["data/events.csv"]
        [consent]
        registry = "data/consent.csv"
        \(policy == .optOut ? "" : "policy = \"\(policy.rawValue)\"")
        [privacy]
        key_file = "data/pseudonym.key"
        as_of = "\(asOf)"
        \(retentionDays.map { "retention_days = \($0)" } ?? "")
        [output]
        root = "\(root)"
        keep_runs = \(keepRuns)
        [run]
        threads = 2
        [recommenders.channel.als]
        factors = 8
        iterations = 5
        regularization = 1.0
        [recommenders.channel.gate]
        \(channelGate)
        [recommenders.emoji]
        min_emoji_workspaces = 2
        min_emoji_users = 5
        [recommenders.emoji.als]
        factors = 8
        iterations = 5
        [recommenders.emoji.gate]
        \(emojiGate)
        \(extra)
        """
    }

    func load(_ text: String, name: String = "nightly.toml") throws -> NightlyConfig {
        try NightlyConfig.load(path: dir.write(name, text))
    }

    var quiet: Logger { .quiet }

    /// The log a nightly run with `config` reads: the same consent, options and inputs.
    func read(_ config: NightlyConfig) throws -> EventLog {
        let asOf = try XCTUnwrap(config.asOf)
        let consent = try RunConsent.load(path: config.consentPath, policy: config.policy, keyFile: config.keyFile, asOf: asOf)
        return try EventLogReader(options: config.ingestOptions(asOf: asOf), registry: consent.registry, pseudonymiser: consent.pseudonymiser)
            .read(config.events, logger: .quiet)
    }

    var registryPath: String { dir.path + "/data/consent.csv" }
    var root: OutputRoot { OutputRoot(path: dir.path + "/out") }
    var pseudonymiser: Pseudonymiser { Pseudonymiser(key: try! PseudonymKey.load(file: dir.path + "/data/pseudonym.key")) }

    /// The registry as of a time far after every night: today's, for the checks.
    func todaysRegistry() throws -> ConsentRegistry {
        try ConsentRegistry.load(path: registryPath, asOf: Timestamp.parse("2030-01-01T00:00:00Z")!)
    }

    func audit(policy: ConsentPolicy = .optOut) throws -> RunAudit {
        RunAudit(registry: try todaysRegistry(), pseudonymiser: pseudonymiser, policy: policy)
    }

    /// Appends a registry row.
    func record(_ workspace: String, _ status: String, at time: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: registryPath))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\(workspace),\(status),\(time)\n".utf8))
        try handle.close()
    }

    /// Raw workspace ids of the log, by pseudonym.
    func rawWorkspaces() throws -> [String: String] {
        let text = try String(contentsOfFile: dir.path + "/data/events.csv", encoding: .utf8)
        var ids = Set<String>()
        for line in text.split(separator: "\n").dropFirst() { ids.insert(String(line.split(separator: ",", omittingEmptySubsequences: false)[1])) }
        let p = pseudonymiser
        return Dictionary(uniqueKeysWithValues: ids.map { (p.workspace($0), $0) })
    }

    /// Every model of every complete run under the root, with its run.
    func allModels() throws -> [(PublishedRun, Manifest.Model)] {
        try root.runs().flatMap { name -> [(PublishedRun, Manifest.Model)] in
            let run = try PublishedRun.open(root.path + "/runs/" + name)
            return run.manifest.models.map { (run, $0) }
        }
    }
}
