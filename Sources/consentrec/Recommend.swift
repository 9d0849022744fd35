import ArgumentParser
import Consent
import Foundation
import Ingest
import Interactions
import Logging
import Pipeline
import Platform
import Publishing

extension ConsentRec {
    struct Recommend: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recommend for one user from a published run, folding the user in from their own events.",
            discussion: """
                The consent registry is read first: a workspace it excludes today is refused (exit 4), and \
                so is a model shaped by any excluded workspace. Only the user's events inside the \
                retention window are folded in. The workspace and user are given as your raw ids; they are pseudonymised with the key \
                to find the model and the user's events in --events. Channels the user is in are left \
                out. Item ids are shown as your raw ids when the events name them, else as pseudonyms.
                """)

        @Option(name: .customLong("run"), help: "An output root (its current run) or a run directory.") var runPath: String
        @Option(help: "The workspace (raw id).") var workspace: String
        @Option(help: "The user (raw id).") var user: String
        @Option(name: .customLong("events"), parsing: .upToNextOption, help: "Event files holding the user's recent events.")
        var events: [String]
        @Option(help: "The consent registry as it is today (a CSV file or a postgresql:// URL): an excluded workspace is refused (exit 4).") var consent: String
        @Option(help: "opt-out or opt-in; default: the policy the run was trained under.") var policy: ConsentPolicy?
        @Option(help: "Fold in only the user's events of the last N days; default: the run's retention window.") var retentionDays: Int?
        @Option(help: "The time recommendations are made at (RFC 3339 or Unix seconds); default: now.") var asOf: String?
        @Option(help: "The pseudonymisation key file; default: $\(PseudonymKey.environmentVariable).") var keyFile: String?
        @Option(help: "channel or emoji.") var recommender: RecommenderDefinition.Target = .channel
        @Option(name: .short, help: "How many items.") var k = 10
        @Flag(help: "Print the result as JSON (what scripts/check_model.py reads).") var json = false

        func validate() throws {
            guard (1...10_000).contains(k) else { throw ValidationError("-k must be 1…10000") }
            guard !events.isEmpty else { throw ValidationError("give the user's events with --events") }
            // Checked here, so a mistyped id is a usage error (64); the message names the
            // problem, never the id.
            if let problem = IDGrammar.problem(workspace) { throw ValidationError("--workspace is not a valid id: \(problem.rawValue)") }
            if let problem = IDGrammar.problem(user) { throw ValidationError("--user is not a valid id: \(problem.rawValue)") }
            if let asOf, Timestamp.parse(asOf) == nil { throw ValidationError("--as-of must be RFC 3339 or Unix seconds") }
            if let retentionDays, !(1...IngestOptions.maxRetentionDays).contains(retentionDays) {
            throw ValidationError("--retention-days must be 1…\(IngestOptions.maxRetentionDays)")
        }
        }

        func run() throws {
            try ExitCodes.mapped {
                var request = UserRecommendation(
                    runPath: runPath, workspace: workspace, user: user, events: events, keyFile: keyFile,
                    recommender: recommender, k: k, consentPath: consent)
                request.policy = policy
                request.retentionDays = retentionDays
                request.asOf = asOf.flatMap(Timestamp.parse)
                // Only warnings: standard output is the recommendation list (or its JSON).
                var logger = Logger(label: "consentrec.recommend")
                logger.logLevel = .warning
                let result = try request.execute(logger: logger)
                if json {
                    print(String(decoding: try JSONOutput.encode(result), as: UTF8.self))
                    return
                }
                let left = result.recommender == "channel" ? ", \(result.excluded.count) channels left out as already joined" : ""
                print("top \(result.recommendations.count) \(result.recommender) recommendations (model \(TerminalText.safe(result.model)), "
                    + "ranked by \(result.ranker); folded in from \(result.userItems.count) items\(left)):")
                for (rank, item) in result.recommendations.enumerated() {
                    print(String(format: "%3d. %@  %.4f", rank + 1, TerminalText.safe(item.id), item.score))
                }
            }
        }
    }
}

extension RecommenderDefinition.Target: ExpressibleByArgument {}
