import Consent
import Foundation
import Ingest
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Platform
import PostgresNIO

/// The consent registry read from PostgreSQL (`registry = "postgresql://…"`): the rows of the
/// configured table or query, checked by the same rules as a registry file, in a read-only
/// session. Anything that goes wrong — the server unreachable, a refused login, a bad query, a
/// bad row — stops the run: consent fails closed.
///
/// The only file that calls postgres-nio. It is called from plain threads (the pipeline is not
/// async): each read connects, reads and closes, waiting on NIO's futures. The executables
/// that read database registries hand `load` to `Pipeline.RegistrySource` as they start.
public enum PostgresRegistry {
    /// The registry as of `asOf`, read now.
    /// - Throws: `ConsentError.registryUnreadable` (connection, login, query) or
    ///   `.registryMalformed` (a row, numbered from 1 in the result's order).
    public static func load(_ location: PostgresLocation, asOf: Int64) throws(ConsentError) -> ConsentRegistry {
        let rows: [[Cell]]
        do { rows = try read(location) } catch let error as ConsentError { throw error } catch {
            throw .registryUnreadable(path: location.display, reason: message(error))
        }
        var entries: [ConsentRegistry.Entry] = []
        for (i, row) in rows.enumerated() {
            func bad(_ field: String, _ reason: String) -> ConsentError { .registryBadRow(source: location.display, row: i + 1, field: field, reason: reason) }
            for (column, cell) in zip(columns, row) { if let problem = cell.problem { throw bad(column, problem) } }
            switch ConsentRegistry.checkedEntry(workspace: row[0].text, status: row[1].text, time: row[2].time, timeProblem: "") {
            case .success(let entry): entries.append(entry)
            case .failure(let p): throw bad(p.field, p.reason)
            }
        }
        return ConsentRegistry(entries: entries, asOf: asOf, sha256: checksum(entries), path: location.display)
    }

    /// The checksum the manifest records: SHA-256 of the rows as CSV (`workspace_id,status,
    /// effective_at` with Unix seconds), sorted, under that header — the same rows give the
    /// same checksum whatever order the server returns them in.
    static func checksum(_ entries: [ConsentRegistry.Entry]) -> String {
        func field(_ s: String) -> String { s.contains(where: { ",\"\r\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        let lines = entries.map { "\(field($0.workspace)),\($0.status.rawValue),\($0.time)\n" }.sorted()
        return Digest.sha256(Data(("workspace_id,status,effective_at\n" + lines.joined()).utf8))
    }

    /// One value of a row, as the checks need it, or what is wrong with it (NULL, its type).
    struct Cell {
        var text: String?
        var time: Int64?
        var problem: String?
    }

    static let columns = ["workspace_id", "status", "effective_at"]

    /// Connects, reads every row in a read-only session, closes. The server has
    /// `statement_timeout` for the query; past that and the connect timeout the connection is
    /// closed from this side too, so a server that stops answering stops the run.
    static func read(_ location: PostgresLocation) throws -> [[Cell]] {
        let logger = Logger(label: "consentrec.registry") { _ in SwiftLogNoOpLogHandler() }
        let connection = try PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: try configuration(location), id: 1, logger: logger
        ).wait()
        defer { try? connection.close().wait() }
        let expired = NIOLockedValueBox(false)
        let deadline = connection.eventLoop.scheduleTask(in: .seconds(Int64(location.statementTimeout + location.connectTimeout))) {
            expired.withLockedValue { $0 = true }
            connection.close().whenComplete { _ in }
        }
        defer { deadline.cancel() }
        do {
            return try query(location, on: connection, logger: logger)
        } catch where expired.withLockedValue({ $0 }) {
            throw ConsentError.registryUnreadable(
                path: location.display, reason: "the server did not answer within \(location.statementTimeout + location.connectTimeout) s")
        }
    }

    /// The registry's rows, its columns found by name.
    static func query(_ location: PostgresLocation, on connection: PostgresConnection, logger: Logger) throws -> [[Cell]] {
        _ = try connection.query("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", logger: logger).wait()
        _ = try connection.query(PostgresQuery(unsafeSQL: "SET statement_timeout = \(location.statementTimeout * 1000)"), logger: logger).wait()
        let query = PostgresQuery(unsafeSQL: location.query)
        let (names, rows) = try connection.eventLoop.makeFutureWithTask { () async throws -> ([String], [PostgresRow]) in
            let sequence = try await connection.query(query, logger: logger)
            return (sequence.columns.map(\.name), try await sequence.collect())
        }.wait()
        guard Set(names) == Set(columns), names.count == columns.count else {
            throw ConsentError.registryUnreadable(
                path: location.display, reason: "the query returns the columns \(names.joined(separator: ",")); expected exactly workspace_id,status,effective_at")
        }
        let index = columns.map { names.firstIndex(of: $0)! }
        return rows.map { row in
            let cells = Array(row)
            return [text(cells[index[0]]), text(cells[index[1]]), time(cells[index[2]])]
        }
    }

    static func configuration(_ location: PostgresLocation) throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch location.endpoint {
        case .socket(let path):
            configuration = .init(unixSocketPath: path, username: location.user, password: location.password, database: location.database)
        case .tcp(let host, let port):
            configuration = .init(host: host, port: port, username: location.user, password: location.password, database: location.database,
                                  tls: try tls(location))
        }
        configuration.options.connectTimeout = .seconds(Int64(location.connectTimeout))
        configuration.options.additionalStartupParameters = [("application_name", "consentrec")]
        return configuration
    }

    /// libpq's meaning of sslmode: `prefer` and `require` encrypt without checking the server,
    /// `verify-ca` checks its certificate chain (against `sslrootcert`, else the system's
    /// roots), `verify-full` its host name too.
    static func tls(_ location: PostgresLocation) throws -> PostgresConnection.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch location.tls {
        case .disable: return .disable
        case .prefer, .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        if let roots = location.rootCertificate { tls.trustRoots = .file(roots) }
        let context = try NIOSSLContext(configuration: tls)
        return location.tls == .prefer ? .prefer(context) : .require(context)
    }

    /// A text cell: text, varchar or char, whose bytes must be UTF-8 (a SQL_ASCII database
    /// hands over whatever it holds). Any other type is refused, to be cast in the query: read
    /// as text, a uuid would be lowercased, an integer lose its leading zeros, a name be cut at
    /// 63 bytes, and an opt-out that matches no workspace fails open.
    static func text(_ cell: PostgresCell) -> Cell {
        guard var buffer = cell.bytes else { return Cell(problem: "NULL") }
        guard [.text, .varchar, .bpchar].contains(cell.dataType) else {
            return Cell(problem: "a column of type \(cell.dataType): cast it to text in the query (::text), as the events spell it")
        }
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        if let problem = bytes.withUnsafeBufferPointer(IDGrammar.problem), problem == .invalidUTF8 { return Cell(problem: problem.rawValue) }
        return Cell(text: String(decoding: bytes, as: UTF8.self))
    }

    /// A time cell: timestamptz, timestamp (read as UTC), date, Unix seconds, or RFC 3339 text.
    static func time(_ cell: PostgresCell) -> Cell {
        guard cell.bytes != nil else { return Cell(problem: "NULL") }
        switch cell.dataType {
        case .timestamptz, .timestamp, .date:
            guard let date = try? cell.decode(Date.self) else { return Cell(problem: "not a time") }
            let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
            return Timestamp.range.contains(seconds) ? Cell(time: seconds) : Cell(problem: "outside 1970–9999")
        case .int2, .int4, .int8:
            guard let seconds = try? cell.decode(Int64.self), Timestamp.range.contains(seconds) else { return Cell(problem: "outside 1970–9999") }
            return Cell(time: seconds)
        case .text, .varchar, .bpchar:
            guard let text = try? cell.decode(String.self) else { return Cell(problem: "unreadable as \(cell.dataType)") }
            return Timestamp.parse(text).map { Cell(time: $0) } ?? Cell(problem: "not an RFC 3339 time or Unix seconds")
        default:
            return Cell(problem: "a column of type \(cell.dataType): use timestamptz, Unix seconds or RFC 3339 text")
        }
    }

    /// A readable reason from postgres-nio's errors, whose descriptions are redacted.
    static func message(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let server = error.serverInfo {
            let state = server[.sqlState] ?? ""
            // Data and integrity errors quote the offending value, which may be a raw id.
            if state.hasPrefix("22") || state.hasPrefix("23") { return "SQLSTATE \(state): a value in the result is invalid (not shown: it may be an id)" }
            return [server[.sqlState].map { "SQLSTATE \($0)" }, server[.message]].compactMap { $0 }.joined(separator: ": ")
        }
        if error.code == .sslUnsupported { return "the server does not offer TLS (sslmode=require)" }
        if error.code == .authMechanismRequiresPassword { return "the server asks for a password: set PGPASSWORD or give it in the URL" }
        if let underlying = error.underlying as? NIOSSLError {
            let verify = "\(underlying)".contains("CERTIFICATE_VERIFY_FAILED")
            return verify ? "the server's TLS certificate was not accepted (sslmode, sslrootcert)" : "the TLS handshake failed: \(underlying)"
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
}
