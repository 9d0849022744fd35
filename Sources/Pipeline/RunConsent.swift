import Consent
import Foundation
import Ingest

/// Consent as a run starts: the registry as of the run's `as_of`, the registry as of today
/// (for erasure, which never waits for `as_of`), and the key. Loaded before anything else;
/// either missing stops the run.
public struct RunConsent: Sendable {
    public let path: String
    public let policy: ConsentPolicy
    public let asOf: Int64
    /// What the run may read.
    public let registry: ConsentRegistry
    /// What may still exist today: the purge and the privacy gate check against it.
    public let today: ConsentRegistry
    public let pseudonymiser: Pseudonymiser

    public static func load(path: String, policy: ConsentPolicy, keyFile: String?, asOf: Int64) throws -> RunConsent {
        RunConsent(
            path: path, policy: policy, asOf: asOf, registry: try RegistrySource.load(path, asOf: asOf),
            today: try todaysRegistry(path: path, asOf: asOf), pseudonymiser: Pseudonymiser(key: try PseudonymKey.load(file: keyFile)))
    }

    /// The registry read again now, for the privacy gate: it fails closed when it cannot be read.
    public func reread() throws(ConsentError) -> ConsentRegistry { try Self.todaysRegistry(path: path, asOf: asOf) }

    /// The registry as of `max(now, asOf)`: an opt-out recorded today counts even for a run
    /// whose `as_of` lies in the past.
    static func todaysRegistry(path: String, asOf: Int64) throws(ConsentError) -> ConsentRegistry {
        try RegistrySource.load(path, asOf: max(Int64(Date().timeIntervalSince1970), asOf))
    }
}
