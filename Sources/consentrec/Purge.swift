import ArgumentParser
import Foundation
import Logging
import Pipeline

extension ConsentRec {
    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw every kept run that today's consent registry no longer allows.",
            discussion: """
                Takes the output root's lock, audits every complete run under ROOT/runs (the current one \
                and every one kept for rollback) against today's registry and key, and removes each that \
                fails. `current` first moves to the newest run that passes, or is removed when none does. \
                `run` and `train` do the same before they read anything; this command is for an opt-out \
                that must take effect now. Exit 0: a run that passes is current. Exit 9: nothing is \
                published (the current run was withdrawn now or by an earlier purge and no run passes, \
                or none was ever published): serving must not use any model of this root. Exit 4: \
                registry or key missing. Exit 8: another run holds the lock.
                """)

        @Argument(help: "The output root.") var root: String
        @OptionGroup var consentOptions: ConsentOptions

        func run() throws {
            try ExitCodes.mapped {
                let outcome = try PurgeRequest(outputRoot: root, consentPath: consentOptions.consent, keyFile: consentOptions.keyFile, policy: consentOptions.policy)
                    .execute(logger: Logger(label: "consentrec.purge"))
                print(outcome.summary)
                for w in outcome.withdrawn {
                    print("  withdrawn \(w.runID):")
                    for reason in w.reasons { print("    \(reason)") }
                }
                if outcome.nothingPublished { throw ExitCode(ExitCodes.nothingPublished) }
            }
        }
    }
}
