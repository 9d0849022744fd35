import Consent
import Foundation
import Ingest

/// Consent as a run starts: the registry as of the run's `as_of`, the registry as of today
/// (for erasure, which never waits for `as_of`), and the key. Loaded before anything else;
/// either missing stops the run.
struct RunConsent: Sendable {
    let path: String
    let policy: ConsentPolicy
    let asOf: Int64
    /// What the run may read.
    let registry: ConsentRegistry
    /// What may still exist today: the purge and the privacy gate check against it.
    let today: ConsentRegistry
    let pseudonymiser: Pseudonymiser

    static func load(path: String, policy: ConsentPolicy, keyFile: String?, asOf: Int64) throws -> RunConsent {
        RunConsent(
            path: path, policy: policy, asOf: asOf, registry: try ConsentRegistry.load(path: path, asOf: asOf),
            today: try todaysRegistry(path: path, asOf: asOf), pseudonymiser: Pseudonymiser(key: try PseudonymKey.load(file: keyFile)))
    }

    /// The registry read again now, for the privacy gate: it fails closed when it cannot be read.
    func reread() throws(ConsentError) -> ConsentRegistry { try Self.todaysRegistry(path: path, asOf: asOf) }

    /// The registry as of `max(now, asOf)`: an opt-out recorded today counts even for a run
    /// whose `as_of` lies in the past.
    static func todaysRegistry(path: String, asOf: Int64) throws(ConsentError) -> ConsentRegistry {
        try ConsentRegistry.load(path: path, asOf: max(Int64(Date().timeIntervalSince1970), asOf))
    }
}
