import ArgumentParser
import Consent
import Foundation
import Ingest
import Platform
import Publishing

/// The options that say which data a command reads and how consent and retention apply:
/// shared by every command that reads events.
struct DataOptions: ParsableArguments {
    @Option(name: .customLong("events"), parsing: .upToNextOption, help: "Event log files or glob patterns (CSV, TSV, JSONL; .gz detected).")
    var events: [String] = []
    @Option(help: "The consent registry (workspace_id,status,effective_at). Required: without it nothing is read.")
    var consent: String
    @Option(help: "File holding the pseudonymisation key (≥ 32 bytes); default: $\(PseudonymKey.environmentVariable).")
    var keyFile: String?
    @Option(help: "opt-out (use unless opted out) or opt-in (use only if opted in).")
    var policy: ConsentPolicy = .optOut
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
    var maxSlackFileBytes = SlackExport.Options.defaultMaxFileBytes
    @Option(help: "Fail when more rows than this are bad.") var maxBadRows: Int?
    @Option(help: "Fail when more than this fraction of rows are bad.") var maxBadFraction: Double = 0.01

    func validate() throws {
        if let retentionDays, !(1...IngestOptions.maxRetentionDays).contains(retentionDays) {
            throw ValidationError("--retention-days must be 1…\(IngestOptions.maxRetentionDays)")
        }
        if asOf != nil && asOfSeconds == nil { throw ValidationError("--as-of must be RFC 3339 (2026-11-20T00:00:00Z) or Unix seconds") }
        guard (0...1).contains(maxBadFraction) else { throw ValidationError("--max-bad-fraction must be between 0 and 1") }
        guard maxSlackFileBytes >= 1 else { throw ValidationError("--max-slack-file-bytes must be at least 1") }
    }

    func requireEvents() throws {
        guard !events.isEmpty else { throw ValidationError("give at least one --events file") }
    }

    var asOfSeconds: Int64? {
        guard let asOf else { return Int64(Date().timeIntervalSince1970) }
        return Timestamp.parse(asOf)
    }

    var ingestOptions: IngestOptions {
        var options = IngestOptions(
            format: format, ignoredColumns: Set(ignoreColumns),
            badRowLimit: BadRowLimit(maxCount: maxBadRows, maxFraction: maxBadFraction),
            policy: policy, asOf: asOfSeconds!, retentionDays: retentionDays)
        options.slack = SlackExport.Options(workspaceID: slackWorkspaceID, keepDeletedUsers: keepDeletedUsers, keepSkinTones: keepSkinTones,
                                            maxFileBytes: maxSlackFileBytes)
        return options
    }
}

extension ConsentPolicy: ExpressibleByArgument {}
extension EventFormat: ExpressibleByArgument {}
