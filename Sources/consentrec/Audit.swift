import ArgumentParser
import Consent
import Foundation
import Ingest
import Pipeline
import Publishing

extension ConsentRec {
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a published run against today's consent registry and key.",
            discussion: """
                Recomputes the pseudonym of every workspace the registry excludes now and fails if any \
                appears in any model, model path or the manifest (with --policy opt-in, every workspace \
                in the run must be opted in now); checks that global models meet their support \
                thresholds; verifies checksums. Exit 0: passed. Exit 6: failed, with the findings.
                """)

        @Argument(help: "An output root (its current run) or a run directory.") var runPath: String
        @OptionGroup var consentOptions: ConsentOptions

        func run() throws {
            try ExitCodes.mapped {
                let registry = try RegistrySource.load(consentOptions.consent, asOf: Int64(Date().timeIntervalSince1970))
                let key = try PseudonymKey.load(file: consentOptions.keyFile)
                let published = try PublishedRun.open(runPath)
                let audit = RunAudit(
                    registry: registry, pseudonymiser: Pseudonymiser(key: key),
                    policy: (consentOptions.policy ?? published.manifest.consent.policy).stricter(published.manifest.consent.policy))
                let findings = audit.check(published)
                if findings.isEmpty {
                    print("audit passed: run \(TerminalText.safe(published.manifest.runID)), \(published.manifest.models.count) models, no excluded workspace, support thresholds met")
                    return
                }
                print("audit FAILED: run \(TerminalText.safe(published.manifest.runID))")
                for f in findings { print("  \(TerminalText.safe(f.description))") }
                throw ExitCode(ExitCodes.auditFailed)
            }
        }
    }
}
