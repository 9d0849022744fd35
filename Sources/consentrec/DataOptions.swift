import ArgumentParser
import Consent
import Foundation
import Ingest
import Pipeline
import Platform
import Publishing

/// The options that say which data a command reads and how consent and retention apply:
/// shared by every command that reads events. With `--config` (evaluate, train) they start from
/// the nightly config's and each option given overrides its value.
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("events"), parsing: .upToNextOption, help: "Event log files or glob patterns (CSV, TSV, JSONL; .gz detected).")
    var events: [String] = []
    @Option(help: "The consent registry: a CSV file (workspace_id,status,effective_at) or a postgresql:// URL (docs/data.md#the-registry-in-postgresql). Required (or --config): without it nothing is read.")
    var consent: String?
    @Option(help: "File holding the pseudonymisation key (≥ 32 bytes); default: $\(PseudonymKey.environmentVariable).")
    var keyFile: String?
    @Option(help: "opt-out (use unless opted out; the default) or opt-in (use only if opted in).")
    var policy: ConsentPolicy?
    @Option(help: "The run's 'now' (RFC 3339 or Unix seconds); later events are dropped. Default: now.")
    var asOf: String?
    @Option(help: "Drop events older than this many days before --as-of.")
    var retentionDays: Int?
    @Option(help: "Input format for every file (csv, tsv, jsonl); default: from each file name.")
    var format: EventFormat?
    @Option(name: .customLong("ignore-column"), help: "A column to skip unread (repeatable). Any other unknown column refuses the file.")
    var ignoreColumns: [String] = []
    @Option(help: "Slack exports: the workspace id (default: team_id from users.json).") var slackWorkspaceID: String?
    @Flag(help: "Slack exports: keep events of deleted users.") var keepDeletedUsers = false
    @Flag(help: "Slack exports: keep skin-tone variants as their own emoji.") var keepSkinTones = false
    @Option(help: "Slack exports: the most bytes one file may inflate to; a larger day file is a bad file (default 64 MiB).")
    var maxSlackFileBytes: Int?
    @Option(help: "Fail when more rows than this are bad.") var maxBadRows: Int?
    @Option(help: "Fail when more than this fraction of rows are bad (default 0.01).") var maxBadFraction: Double?

    func validate() throws {
        if let retentionDays, !(1...IngestOptions.maxRetentionDays).contains(retentionDays) {
            throw ValidationError("--retention-days must be 1…\(IngestOptions.maxRetentionDays)")
        }
        if asOf != nil && asOfSeconds == nil { throw ValidationError("--as-of must be RFC 3339 (2026-11-20T00:00:00Z) or Unix seconds") }
        if let maxBadFraction, !(0...1).contains(maxBadFraction) { throw ValidationError("--max-bad-fraction must be between 0 and 1") }
        if let maxSlackFileBytes, maxSlackFileBytes < 1 { throw ValidationError("--max-slack-file-bytes must be at least 1") }
    }

    /// Without a config, `--events` and `--consent` are required.
    func requireEvents() throws {
        guard !events.isEmpty else { throw ValidationError("give at least one --events file") }
        guard consent != nil else { throw ValidationError("give --consent (the registry): without it nothing is read") }
    }

    var consentPath: String { consent! }

    /// The events to read: `--events`, else the config's `input.events`.
    func events(over config: NightlyConfig?) -> [String] { events.isEmpty ? config?.events ?? [] : events }

    /// `--consent`, else the config's `consent.registry`.
    func consentPath(over config: NightlyConfig?) -> String { consent ?? config!.consentPath }

    /// `--key-file`, else the config's `privacy.key_file`.
    func keyFile(over config: NightlyConfig?) -> String? { keyFile ?? config?.keyFile }

    /// `--as-of`, else the config's `privacy.as_of`, else now.
    func asOfSeconds(over config: NightlyConfig?) -> Int64 {
        asOf.flatMap(Timestamp.parse) ?? config?.asOf ?? Int64(Date().timeIntervalSince1970)
    }

    var asOfSeconds: Int64? {
        guard let asOf else { return Int64(Date().timeIntervalSince1970) }
        return Timestamp.parse(asOf)
    }

    var ingestOptions: IngestOptions { ingestOptions(over: nil) }

    /// With a config, the command line may make consent and retention stricter, never looser:
    /// `--policy opt-out` over an opt-in config, or a longer `--retention-days` than the
    /// config's, is refused (a retrain into the nightly's root would publish what the nightly
    /// may not).
    func checkStricter(than config: NightlyConfig?, publishing: Bool = false) throws {
        guard let config else { return }
        if consent != nil || keyFile != nil {
            throw ValidationError("with --config the registry and the key are the config's (consent.registry, privacy.key_file); --consent and --key-file cannot replace them")
        }
        if publishing, config.retentionDays != nil, let asOf = asOf.flatMap(Timestamp.parse), asOf < config.asOf ?? Int64(Date().timeIntervalSince1970) {
            throw ValidationError("--as-of \(self.asOf!) is earlier than the config's as-of: it would move the retention window back, and a retrain into the nightly's root may not reach further back than the nightly")
        }
        if policy == .optOut, config.policy == .optIn {
            throw ValidationError("--policy opt-out would loosen the config's opt-in policy; the command line can make consent stricter, never looser")
        }
        if let retentionDays, let configured = config.retentionDays, retentionDays > configured {
            throw ValidationError("--retention-days \(retentionDays) would loosen the config's \(configured); the command line can shorten retention, never lengthen it")
        }
    }

    /// The config's data options (or the defaults), with every option given on top.
    func ingestOptions(over config: NightlyConfig?) -> IngestOptions {
        let asOf = asOfSeconds(over: config)
        var options = config?.ingestOptions(asOf: asOf) ?? IngestOptions(asOf: asOf)
        if let format { options.format = format }
        options.ignoredColumns.formUnion(ignoreColumns)
        if let maxBadRows { options.badRowLimit.maxCount = maxBadRows }
        if let maxBadFraction { options.badRowLimit.maxFraction = maxBadFraction }
        if let policy { options.policy = policy }
        if let retentionDays { options.retentionDays = retentionDays }
        if let slackWorkspaceID { options.slack.workspaceID = slackWorkspaceID }
        if keepDeletedUsers { options.slack.keepDeletedUsers = true }
        if keepSkinTones { options.slack.keepSkinTones = true }
        if let maxSlackFileBytes { options.slack.maxFileBytes = maxSlackFileBytes }
        return options
    }
}

/// `--config`: evaluate or retrain exactly what the nightly job with this config runs; every
/// other option given overrides the config's value.
struct ConfigOption: ParsableArguments {
    @Option(help: "A nightly config (docs/nightly.md): its inputs, consent, data options, recommenders, hyper-parameters, splits, gates and rankers; options given override it.")
    var config: String?

    /// The config, read and checked. - Throws: `ConfigError` (exit 2).
    func load() throws -> NightlyConfig? {
        try config.map { try NightlyConfig.load(path: $0) }
    }
}

extension ConsentPolicy: ExpressibleByArgument {}
extension EventFormat: ExpressibleByArgument {}
