import ArgumentParser
import Consent

/// The consent options of every command that checks published runs against today's registry
/// (`audit`, `purge`, `recommend`).
struct ConsentOptions: ParsableArguments {
    @Option(help: "The consent registry as it is today: a CSV file or a postgresql:// URL (docs/data.md#the-registry-in-postgresql).") var consent: String
    @Option(help: "The pseudonymisation key file; default: $\(PseudonymKey.environmentVariable).") var keyFile: String?
    @Option(help: "opt-out or opt-in; default: the policy each run was trained under (never weaker than it).") var policy: ConsentPolicy?
}
