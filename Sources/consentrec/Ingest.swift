import ArgumentParser
import Foundation
import Interactions
import Logging
import Pipeline

extension ConsentRec {
    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read an event log through the consent and privacy filters and report what would be used.",
            discussion: """
                Checks the consent registry and key first, then reads every file, and prints the \
                data-usage counts: rows read, bad rows by kind with examples, events and \
                workspaces removed by consent and by retention, and the shape of every training \
                matrix. Nothing is trained or written, except the report with --report.
                """)

        @OptionGroup var data: DataOptions
        @Option(help: "Write the data-usage counts as JSON here.") var report: String?

        func validate() throws { try data.requireEvents() }

        func run() throws {
            try ExitCodes.mapped {
                let logger = Logger(label: "consentrec")
                let session = try DataSession.open(data, logger: logger)
                let (log, matrices) = try session.read(
                    definitions: RecommenderDefinition.defaults, logger: logger)
                let usage = RunUsage(read: log.usage, matrices: matrices.flatMap(\.usage))
                print(UsageSummary.text(usage))
                if let report {
                    try JSONOutput.write(usage, to: report)
                    print("report written to \(report)")
                }
            }
        }
    }
}
