import Foundation

/// Where a consent registry lives in PostgreSQL, from a `postgresql://` URL (libpq's form):
///
///     postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?PARAMETERS]
///     postgresql://USER@%2Fvar%2Frun%2Fpostgresql/DATABASE   (a Unix socket's directory)
///
/// Parameters: `table` (default `consent_registry`) or `query` (a SELECT returning the columns
/// `workspace_id, status, effective_at`), `sslmode` (`disable`, `prefer` — the default over TCP —,
/// `require`, `verify-ca` or `verify-full`) and `sslrootcert` (a PEM file of trusted roots), `connect_timeout` (seconds, default 10), `statement_timeout` (seconds the
/// query may take, default 300: a stuck server stops the run instead of hanging it), `host` (a
/// socket directory, as libpq takes it). Any other parameter is refused: a typo must not fail open. The password comes
/// from the URL or from `PGPASSWORD`; it is never shown (`display` leaves it out).
public struct PostgresLocation: Sendable, Equatable {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The socket file itself: `DIRECTORY/.s.PGSQL.PORT`.
        case socket(path: String)
    }

    /// libpq's sslmode: `prefer` and `require` encrypt without checking the server;
    /// `verify-ca` checks its certificate against `sslrootcert` (or the system's roots),
    /// `verify-full` its name as well.
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca", verifyFull = "verify-full"
    }

    public let endpoint: Endpoint
    public let user: String
    /// Never displayed; only the connection reads it.
    public let password: String?
    public let database: String
    /// The SQL the registry is read with.
    public let query: String
    public let tls: TLSMode
    public let connectTimeout: Int
    public let statementTimeout: Int
    /// A PEM file of the certificates that may sign the server's (`verify-ca`, `verify-full`).
    public let rootCertificate: String?
    /// The URL without its password: what reports, manifests, logs and errors show.
    public let display: String

    public static let defaultTable = "consent_registry"
    static let parameters: Set<String> = ["table", "query", "sslmode", "sslrootcert", "connect_timeout", "statement_timeout", "host"]

    /// True for a registry given as a PostgreSQL URL rather than a file.
    public static func isDatabase(_ location: String) -> Bool {
        let lowered = location.prefix(13).lowercased()
        return lowered.hasPrefix("postgresql://") || lowered.hasPrefix("postgres://")
    }

    /// - Throws: `ConsentError.registryUnreadable` naming what is wrong with the URL.
    public init(_ url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConsentError) {
        guard let parts = URLComponents(string: url), ["postgresql", "postgres"].contains(parts.scheme?.lowercased()) else {
            throw .registryUnreadable(path: Self.redacted(url), reason: "not a URL of the form postgresql://USER@HOST/DATABASE (a password with / ? # or @ must be percent-encoded, or set PGPASSWORD)")
        }
        let display = Self.redacted(url)
        func refuse(_ reason: String) -> ConsentError { .registryUnreadable(path: display, reason: reason) }
        var values: [String: String] = [:]
        for item in parts.queryItems ?? [] {
            guard Self.parameters.contains(item.name) else { throw refuse("unknown parameter \(item.name) (known: \(Self.parameters.sorted().joined(separator: ", ")))") }
            guard values[item.name] == nil else { throw refuse("parameter \(item.name) given twice") }
            values[item.name] = item.value ?? ""
        }
        let port = parts.port ?? 5432
        let host = values["host"] ?? parts.percentEncodedHost.flatMap { $0.removingPercentEncoding } ?? ""
        endpoint = host.hasPrefix("/") ? .socket(path: "\(host)/.s.PGSQL.\(port)") : .tcp(host: host.isEmpty ? "localhost" : host, port: port)
        guard let user = parts.user.flatMap({ $0.isEmpty ? nil : $0 }) ?? environment["PGUSER"] else { throw refuse("no user: give USER@ in the URL or set PGUSER") }
        self.user = user
        password = parts.password ?? environment["PGPASSWORD"]
        database = String(parts.path.dropFirst()).isEmpty ? user : String(parts.path.dropFirst())
        query = try Self.query(table: values["table"], query: values["query"], refuse: refuse)
        switch (values["sslmode"], endpoint) {
        case (nil, .socket): tls = .disable
        case (nil, .tcp): tls = .prefer
        case (let mode?, _):
            guard let mode = TLSMode(rawValue: mode) else { throw refuse("sslmode must be disable, prefer, require, verify-ca or verify-full") }
            tls = mode
        }
        if case .socket = endpoint, [.require, .verifyCA, .verifyFull].contains(tls) {
            throw refuse("sslmode=\(tls.rawValue) over a Unix socket: a socket carries no TLS")
        }
        rootCertificate = values["sslrootcert"]
        if rootCertificate != nil, ![.verifyCA, .verifyFull].contains(tls) { throw refuse("sslrootcert applies to sslmode=verify-ca or verify-full") }
        connectTimeout = try Self.seconds(values["connect_timeout"], "connect_timeout", refuse: refuse) ?? 10
        statementTimeout = try Self.seconds(values["statement_timeout"], "statement_timeout", refuse: refuse) ?? 300
        self.display = display
    }

    static func seconds(_ text: String?, _ name: String, refuse: (String) -> ConsentError) throws(ConsentError) -> Int? {
        guard let text else { return nil }
        guard let seconds = Int(text), (1...3600).contains(seconds) else { throw refuse("\(name) must be 1…3600 seconds") }
        return seconds
    }

    /// The registry's SQL: the query given, or the three columns of the table given.
    static func query(table: String?, query: String?, refuse: (String) -> ConsentError) throws(ConsentError) -> String {
        switch (table, query) {
        case (.some, .some): throw refuse("give table or query, not both")
        case (nil, let query?):
            guard !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw refuse("query is empty") }
            return query
        case (let table, nil):
            let name = table ?? defaultTable
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else { throw refuse("table must be NAME or SCHEMA.NAME") }
            // Quoted identifiers: the name is taken as written, never as SQL.
            let quoted = parts.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ".")
            return "SELECT workspace_id, status, effective_at FROM \(quoted)"
        }
    }

    /// `url` without a password: whatever stands between the user name's `:` and the last
    /// `@`. Textual, so it holds for a URL that does not parse too (a password with `/`, `?` or
    /// `#` in it).
    public static func redacted(_ url: String) -> String {
        guard let start = url.range(of: "://"), let at = url.range(of: "@", options: .backwards), at.lowerBound > start.upperBound else { return url }
        let userInfo = url[start.upperBound..<at.lowerBound]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + String(url[at.lowerBound...])
    }
}
