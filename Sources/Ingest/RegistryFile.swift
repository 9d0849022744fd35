import Consent
import Foundation
import Platform

/// Reading the consent registry file. The rules of what is in force are `ConsentRegistry`'s
/// (module Consent); the bytes are read here, by the same reader as event logs.
extension ConsentRegistry {
    /// Reads and checks the whole registry.
    ///
    /// The file is read by the same RFC 4180 reader as event logs (quoted fields, CRLF line
    /// ends, a byte-order mark), and every workspace id must follow the id grammar: a registry
    /// with any bad row or odd id is refused whole, because a row that silently matched
    /// nothing would fail open.
    /// - Throws: `ConsentError` when the file is missing, unreadable or has any bad row.
    public static func load(path: String, asOf: Int64) throws(ConsentError) -> ConsentRegistry {
        do throws(Errno) {
            _ = try POSIX.linkStatus(path)
        } catch {
            if error == .noSuchFile { throw .registryMissing(path: path) }
        }
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
        var entries: [Entry] = []
        var values = RowValues(columns: schema.columns.count)
        do throws(IngestError) { try reader.readHeader() } catch { throw registryError(error, path: path) }
        while true {
            let result: RowResult
            do throws(IngestError) { result = try reader.next(&values) } catch { throw registryError(error, path: path) }
            switch result {
            case .end: return ConsentRegistry(entries: entries, asOf: asOf, sha256: Digest.sha256(data), path: path)
            case .bad(let line, _, let field, let reason): throw .registryMalformed(file: path, line: line, field: field, reason: reason)
            case .row(let line): entries.append(try entry(values, path: path, line: line))
            }
        }
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
    static func entry(_ values: RowValues, path: String, line: Int) throws(ConsentError) -> Entry {
        func text(_ slot: Int) -> String? { values.slots[slot].map { String(decoding: $0, as: UTF8.self) } }
        // The id's bytes first: invalid UTF-8 must be refused, not decoded into U+FFFD.
        if let problem = values.slots[0].flatMap(IDGrammar.problem) {
            throw .registryMalformed(file: path, line: line, field: "workspace_id", reason: problem.rawValue)
        }
        let time = values.slots[2].flatMap(Timestamp.parse)
        switch checkedEntry(workspace: text(0), status: text(1), time: time, timeProblem: "not an RFC 3339 time or Unix seconds") {
        case .success(let entry): return entry
        case .failure(let problem): throw .registryMalformed(file: path, line: line, field: problem.field, reason: problem.reason)
        }
    }

    /// What is wrong with a registry row: the field and why.
    public struct RowProblem: Error, Equatable {
        public let field: String
        public let reason: String
    }

    /// A registry row checked by the rules every registry follows, file or database: the
    /// workspace id by the id grammar, the status `opted_in` or `opted_out`, a time.
    /// - Parameter timeProblem: why `time` is nil, when it is.
    public static func checkedEntry(workspace: String?, status: String?, time: Int64?, timeProblem: String) -> Result<Entry, RowProblem> {
        guard let workspace, !workspace.isEmpty else { return .failure(RowProblem(field: "workspace_id", reason: IDGrammar.Problem.empty.rawValue)) }
        if let problem = IDGrammar.problem(workspace) { return .failure(RowProblem(field: "workspace_id", reason: problem.rawValue)) }
        guard let status = status.flatMap(Status.init(rawValue:)) else {
            return .failure(RowProblem(field: "status", reason: "must be opted_in or opted_out"))
        }
        guard let time else { return .failure(RowProblem(field: "effective_at", reason: timeProblem)) }
        return .success(Entry(workspace: workspace, status: status, time: time))
    }
}
