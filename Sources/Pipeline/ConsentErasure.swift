import Consent
import Foundation
import Ingest
import Logging
import Platform
@_spi(Testing) import Publishing

/// Erasure across runs, the first thing a run does once it holds the output root's lock:
/// every run kept under the root — `current` and each one kept for rollback — is audited
/// against the registry as it is now, and each that fails is withdrawn (see
/// `OutputRoot.purge`). An opt-out therefore reaches every model that exists the next time
/// any run starts, whether or not that run then publishes.
struct ConsentErasure {
    let registry: ConsentRegistry
    let pseudonymiser: Pseudonymiser
    let policy: ConsentPolicy

    func purge(_ root: OutputRoot, faults: FaultInjection = FaultInjection(), logger: Logger) throws -> PurgeOutcome {
        let outcome = try root.purge(faults: faults) { run in
            RunAudit(registry: registry, pseudonymiser: pseudonymiser, policy: policy.stricter(run.manifest.consent.policy)).check(run)
        }
        if outcome.withdrawn.isEmpty && !outcome.movedCurrent {
            logger.info("consent purge passed", metadata: [LogKey.runs: "\(outcome.kept.count)"])
        } else {
            logger.warning("consent purge withdrew runs", metadata: [
                LogKey.runs: "\(outcome.withdrawn.map(\.runID).joined(separator: ","))",
                LogKey.current: "\(outcome.currentAfter ?? "none")",
            ])
        }
        return outcome
    }
}

/// `consentrec purge`: erasure across runs on its own, for an operator who cannot wait for the
/// next run (an opt-out that must take effect now).
public struct PurgeRequest: Sendable {
    public var outputRoot: String
    public var consentPath: String
    public var keyFile: String?
    /// Audit under opt-in even for runs trained under opt-out; never weaker than a run's own
    /// policy (default: each run's own policy, as its manifest records it).
    public var policy: ConsentPolicy?

    public init(outputRoot: String, consentPath: String, keyFile: String?, policy: ConsentPolicy? = nil) {
        self.outputRoot = outputRoot
        self.consentPath = consentPath
        self.keyFile = keyFile
        self.policy = policy
    }

    /// Consent first (registry, key), then the lock, then the purge.
    public func execute(logger: Logger) throws -> PurgeOutcome {
        let registry = try RunConsent.todaysRegistry(path: consentPath, asOf: 0)
        let pseudonymiser = Pseudonymiser(key: try PseudonymKey.load(file: keyFile))
        let root = OutputRoot(path: outputRoot)
        let lock = try root.lock()
        defer { withExtendedLifetime(lock) {} }
        let outcome = try root.purge { run in
            RunAudit(registry: registry, pseudonymiser: pseudonymiser,
                  policy: (policy ?? run.manifest.consent.policy).stricter(run.manifest.consent.policy)).check(run)
        }
        logger.info("consent purge finished", metadata: [
            LogKey.runs: "\(outcome.withdrawn.count)", LogKey.current: "\(outcome.currentAfter ?? "none")",
        ])
        return outcome
    }
}
