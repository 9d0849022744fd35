/// The audit rules: which workspace pseudonyms may be used today, under a registry and a
/// policy. Every check of consent after reading — the privacy gate before publishing, the
/// purge of kept runs, carry-forward, `consentrec audit` — asks these rules, so they are
/// written once.
///
/// The rules recompute the pseudonym of every workspace the registry excludes (and, under
/// opt-in, of every one it allows); the raw ids are never kept beyond this value.
public struct ConsentRules: Sendable {
    public let policy: ConsentPolicy
    /// Pseudonyms of the workspaces whose status in force is `opted_out`.
    public let excluded: Set<String>
    /// Under opt-in, the pseudonyms of the workspaces opted in; nil under opt-out.
    private let allowed: Set<String>?

    public init(registry: ConsentRegistry, pseudonymiser: Pseudonymiser, policy: ConsentPolicy) {
        self.policy = policy
        excluded = Set(registry.optedOutWorkspaces.map(pseudonymiser.workspace))
        allowed = policy == .optIn ? Set(registry.optedInWorkspaces.map(pseudonymiser.workspace)) : nil
    }

    /// Why the workspace with this pseudonym may not be used today, or nil if it may.
    public func violation(_ pseudonym: String) -> String? {
        if excluded.contains(pseudonym) { return "workspace \(pseudonym) has opted out" }
        if let allowed, !allowed.contains(pseudonym) { return "workspace \(pseudonym) is not opted in (policy opt-in)" }
        return nil
    }

    /// Why a model with this provenance may not exist today (one reason per workspace).
    public func violations(_ provenance: Provenance) -> [String] { provenance.workspaces.compactMap(violation) }
}

extension ConsentPolicy {
    /// The stricter of two policies: opt-in when either is. A run is never audited, purged or
    /// served under a weaker policy than it was trained under.
    public func stricter(_ other: ConsentPolicy) -> ConsentPolicy { self == .optIn || other == .optIn ? .optIn : .optOut }
}
