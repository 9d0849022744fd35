import Foundation

#if canImport(Glibc)
import Glibc
#endif

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

/// The consent registry: `workspace_id,status,effective_at` rows (CSV), read whole before any
/// event.
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
    ///
    /// The file is read by the same RFC 4180 reader as event logs (quoted fields, CRLF line
    /// ends, a byte-order mark), and every workspace id must follow the id grammar: a registry
    /// with any bad row or odd id is refused whole, because a row that silently matched
    /// nothing would fail open.
    /// - Throws: `ConsentError` when the file is missing, unreadable or has any bad row.
    public static func load(path: String, asOf: Int64) throws(ConsentError) -> ConsentRegistry {
        var info = stat()
        if lstat(path, &info) != 0 && errno == ENOENT { throw .registryMissing(path: path) }
        let data: Data
        do throws(IngestError) {
            data = try PlainFile(path: path).readAll(maxBytes: 4 << 30)
        } catch {
            guard case .unreadableFile(_, let reason) = error else { throw .registryUnreadable(path: path, reason: "\(error)") }
            throw .registryUnreadable(path: path, reason: reason)
        }
        return try parse(data, path: path, asOf: asOf)
    }

    static let schema = RowSchema(
        columns: ["workspace_id", "status", "effective_at"], required: [0, 1, 2], unknownColumnNote: "consent registry")

    static func parse(_ data: Data, path: String, asOf: Int64) throws(ConsentError) -> ConsentRegistry {
        let reader = RowReader(path: path, format: .csv, source: MemorySource(data), ignoredColumns: [], schema: schema)
        var inForce: [String: (time: Int64, status: Status)] = [:]
        var laterOptOut = Set<String>()
        var values = RowValues(columns: schema.columns.count)
        do throws(IngestError) { try reader.readHeader() } catch { throw registryError(error, path: path) }
        reading: while true {
            let result: RowResult
            do throws(IngestError) { result = try reader.next(&values) } catch { throw registryError(error, path: path) }
            switch result {
            case .end: break reading
            case .bad(let line, _, let field, let reason): throw .registryMalformed(file: path, line: line, field: field, reason: reason)
            case .row(let line):
                let row = try Row(values, path: path, line: line)
                if row.time > asOf {
                    if row.status == .optedOut { laterOptOut.insert(row.workspace) }
                    continue
                }
                if let current = inForce[row.workspace],
                    row.time < current.time || (row.time == current.time && current.status == .optedOut) { continue }
                inForce[row.workspace] = (row.time, row.status)
            }
        }
        var statuses = inForce.mapValues(\.status)
        for workspace in laterOptOut { statuses[workspace] = .optedOut }
        return ConsentRegistry(statuses: statuses, sha256: Checksum.sha256Hex(data), path: path)
    }

    /// A reading error of the registry, as the consent error it is.
    static func registryError(_ error: IngestError, path: String) -> ConsentError {
        switch error {
        case .missingHeader, .malformedHeader, .missingColumn, .unknownColumn, .duplicateColumn:
            .registryMalformed(file: path, line: 1, field: "header", reason: "expected the columns workspace_id,status,effective_at (\(error))")
        default:
            .registryUnreadable(path: path, reason: "\(error)")
        }
    }

    /// One checked registry row.
    struct Row {
        let workspace: String
        let status: Status
        let time: Int64

        init(_ values: RowValues, path: String, line: Int) throws(ConsentError) {
            func text(_ slot: Int) -> String { values.slots[slot].map { String(decoding: $0, as: UTF8.self) } ?? "" }
            if let problem = values.slots[0].flatMap(IDGrammar.problem) ?? (values.slots[0] == nil ? .empty : nil) {
                throw .registryMalformed(file: path, line: line, field: "workspace_id", reason: problem.rawValue)
            }
            guard let status = Status(rawValue: text(1)) else {
                throw .registryMalformed(file: path, line: line, field: "status", reason: "must be opted_in or opted_out")
            }
            guard let time = values.slots[2].flatMap(Timestamp.parse) else {
                throw .registryMalformed(file: path, line: line, field: "effective_at", reason: "not an RFC 3339 time or Unix seconds")
            }
            workspace = text(0)
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

    /// Workspaces the registry names, for tests and the audit.
    public var workspaceCount: Int { statuses.count }
}
