
/// Which workspaces may be used when the registry says nothing about them.
public enum ConsentPolicy: String, Sendable, CaseIterable, Codable {
    /// A workspace is used unless it opted out.
    case optOut = "opt-out"
    /// A workspace is used only if it opted in.
    case optIn = "opt-in"
}

/// Why a workspace's events were not used.
public enum ConsentExclusion: String, Sendable, CaseIterable, Codable {
    /// The registry's latest row for the workspace is `opted_out`.
    case optedOut = "opted_out"
    /// Policy `opt-in` and the workspace has no `opted_in` row in force.
    case notOptedIn = "not_opted_in"
}

/// The consent registry: which workspaces may be used, from `workspace_id,status,effective_at`
/// rows (read whole, before any event, by `ConsentRegistry.load` in module Ingest).
///
/// Rules, in order:
/// 1. For each workspace, the row with the latest `effective_at` at or before the as-of time
///    is in force; between rows with the same time, `opted_out` wins.
/// 2. An `opted_out` row dated after the as-of time excludes the workspace as well: an opt-out
///    takes effect when it is recorded, never later (fail closed).
/// 3. An excluded workspace loses *all* its events, before and after any date (retroactive).
/// 4. Workspaces without a row in force follow the policy.
public struct ConsentRegistry: Sendable {
    public enum Status: String, Sendable, Codable { case optedIn = "opted_in", optedOut = "opted_out" }

    /// The status in force per raw workspace id. In memory only; never written anywhere.
    let statuses: [String: Status]
    /// SHA-256 of the registry file, for the run manifest.
    public let sha256: String
    public let path: String

    /// A registry from its rows, by the rules above (rows dated after `asOf` count only when
    /// they opt out). The rows were read and checked by `ConsentRegistry.load` (module Ingest).
    public init(entries: [Entry], asOf: Int64, sha256: String, path: String) {
        var inForce: [String: (time: Int64, status: Status)] = [:]
        var laterOptOut = Set<String>()
        for row in entries {
            if row.time > asOf {
                if row.status == .optedOut { laterOptOut.insert(row.workspace) }
                continue
            }
            if let current = inForce[row.workspace],
                row.time < current.time || (row.time == current.time && current.status == .optedOut) { continue }
            inForce[row.workspace] = (row.time, row.status)
        }
        var statuses = inForce.mapValues(\.status)
        for workspace in laterOptOut { statuses[workspace] = .optedOut }
        self.init(statuses: statuses, sha256: sha256, path: path)
    }

    init(statuses: [String: Status], sha256: String, path: String) {
        self.statuses = statuses
        self.sha256 = sha256
        self.path = path
    }

    /// One row of the registry: a workspace's status from a time on.
    public struct Entry: Sendable, Equatable {
        public let workspace: String
        public let status: Status
        /// Unix seconds.
        public let time: Int64

        public init(workspace: String, status: Status, time: Int64) {
            self.workspace = workspace
            self.status = status
            self.time = time
        }
    }

    /// A registry in which exactly `workspaces` are opted in: with policy `opt-in`, a reader
    /// keeps their rows only. Used to read one workspace's own events at recommendation time.
    public static func allowing(_ workspaces: [String]) -> ConsentRegistry {
        ConsentRegistry(statuses: Dictionary(uniqueKeysWithValues: workspaces.map { ($0, .optedIn) }), sha256: "", path: "(in memory)")
    }

    /// Nil if the workspace may be used under `policy`, else why not.
    public func exclusion(of workspace: String, policy: ConsentPolicy) -> ConsentExclusion? {
        switch (statuses[workspace], policy) {
        case (.optedOut, _): .optedOut
        case (.optedIn, _): nil
        case (nil, .optOut): nil
        case (nil, .optIn): .notOptedIn
        }
    }

    /// Raw ids of the workspaces whose status in force is `opted_out` (for the audit, which
    /// recomputes their pseudonyms; the list itself is never written).
    public var optedOutWorkspaces: [String] { statuses.filter { $0.value == .optedOut }.map(\.key).sorted() }

    /// Raw ids of the workspaces whose status in force is `opted_in`.
    public var optedInWorkspaces: [String] { statuses.filter { $0.value == .optedIn }.map(\.key).sorted() }

    /// How many workspaces the registry names.
    public var workspaceCount: Int { statuses.count }
}
