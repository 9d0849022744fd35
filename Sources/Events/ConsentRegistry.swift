import Foundation

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

/// The consent registry: `workspace_id,status,effective_at` rows, read whole before any event.
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

    /// Reads and checks the whole registry.
    /// - Throws: `ConsentError` when the file is missing, unreadable or has any bad row.
    public static func load(path: String, asOf: Int64) throws(ConsentError) -> ConsentRegistry {
        guard FileManager.default.fileExists(atPath: path) else { throw .registryMissing(path: path) }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .registryUnreadable(path: path, reason: "\(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .registryMalformed(file: path, line: 1, field: "file", reason: "not valid UTF-8")
        }
        return try parse(text, path: path, asOf: asOf, sha256: Checksum.sha256Hex(data))
    }

    static func parse(_ text: String, path: String, asOf: Int64, sha256: String) throws(ConsentError) -> ConsentRegistry {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let header = lines.first else {
            throw .registryMalformed(file: path, line: 1, field: "header", reason: "the registry is empty; it needs the header workspace_id,status,effective_at")
        }
        let names = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard Set(names) == ["workspace_id", "status", "effective_at"], names.count == 3 else {
            throw .registryMalformed(file: path, line: 1, field: "header", reason: "expected the columns workspace_id,status,effective_at")
        }
        let wi = names.firstIndex(of: "workspace_id")!, si = names.firstIndex(of: "status")!, ei = names.firstIndex(of: "effective_at")!
        var inForce: [String: (time: Int64, status: Status)] = [:]
        var laterOptOut = Set<String>()
        for (offset, line) in lines.enumerated().dropFirst() {
            let number = offset + 1
            if line.allSatisfy({ $0 == " " }) { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 3 else {
                throw .registryMalformed(file: path, line: number, field: "row", reason: "expected 3 fields, found \(fields.count)")
            }
            let workspace = fields[wi]
            guard !workspace.isEmpty else {
                throw .registryMalformed(file: path, line: number, field: "workspace_id", reason: "empty")
            }
            guard let status = Status(rawValue: fields[si]) else {
                throw .registryMalformed(file: path, line: number, field: "status", reason: "must be opted_in or opted_out")
            }
            guard let time = Timestamp.parse(fields[ei]) else {
                throw .registryMalformed(file: path, line: number, field: "effective_at", reason: "not an RFC 3339 time or Unix seconds")
            }
            if time > asOf {
                if status == .optedOut { laterOptOut.insert(workspace) }
                continue
            }
            if let current = inForce[workspace] {
                if time < current.time || (time == current.time && current.status == .optedOut) { continue }
            }
            inForce[workspace] = (time, status)
        }
        var statuses = inForce.mapValues(\.status)
        for workspace in laterOptOut { statuses[workspace] = .optedOut }
        return ConsentRegistry(statuses: statuses, sha256: sha256, path: path)
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

    /// Workspaces the registry names, for tests and the audit.
    public var workspaceCount: Int { statuses.count }
}
