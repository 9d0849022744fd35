import ArgumentParser
import Foundation
import Ingest

extension ConsentRec {
    struct ImportSlack: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-slack",
            abstract: "Convert a Slack workspace export (ZIP or folder) into an event log in the schema.",
            discussion: """
                Derives post, reply, react, join and leave events from the export's day files. Message \
                text, blocks, attachments, files, profiles, names and e-mail addresses are stepped over \
                by the parser and never stored. Bots are left out; deleted users too unless \
                --keep-deleted-users; skin tones fold into the base emoji unless --keep-skin-tones. \
                The same reader is the input format slack-export of train, evaluate, ingest and the \
                nightly config, so converting first is optional.
                """)

        @Argument(help: "The export: the .zip Slack gives an admin, or its unpacked folder.") var export: String
        @Option(help: "The workspace id for every event (default: team_id from users.json).") var workspaceID: String?
        @Option(help: "The event log to write (.csv, or .csv.gz for gzip).") var out: String
        @Flag(help: "Keep events of deleted users.") var keepDeletedUsers = false
        @Flag(help: "Keep skin-tone variants as their own emoji.") var keepSkinTones = false
        @Option(help: "The most bytes one file may inflate to; a larger day file is a bad file (default 64 MiB).")
        var maxSlackFileBytes = SlackExport.Options.defaultMaxFileBytes
        @Option(help: "Fail when more messages than this are bad.") var maxBadRows: Int?
        @Option(help: "Fail when more than this fraction of messages are bad.") var maxBadFraction: Double = 0.01

        func run() throws {
            try ExitCodes.mapped {
                let summary = try SlackImport.run(
                    export: export,
                    options: .init(workspaceID: workspaceID, keepDeletedUsers: keepDeletedUsers, keepSkinTones: keepSkinTones, maxFileBytes: maxSlackFileBytes),
                    out: out, limit: BadRowLimit(maxCount: maxBadRows, maxFraction: maxBadFraction))
                let kinds = EventKind.allCases.map { "\(summary.events[$0, default: 0]) \($0.name)" }.joined(separator: ", ")
                print("wrote \(summary.events.values.reduce(0, +)) events to \(out): \(kinds)")
                print("left out: \(summary.skipped.botMessages) bot messages, \(summary.skipped.deletedUserEvents) events of deleted users, "
                    + "\(summary.skipped.systemMessages) system messages")
                print("bad rows: \(summary.badRows.summary)")
                for example in summary.badRows.examples { print("  \(example)") }
                for file in summary.badFiles {
                    print("bad file \(file.path): \(file.reason); " + (file.messagesLost.map { "\($0) messages lost" } ?? "its messages lost"))
                }
            }
        }
    }
}
