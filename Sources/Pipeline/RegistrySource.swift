import Consent
import Foundation
import Ingest
import Synchronization

/// Where the consent registry is read from: a CSV file, or a PostgreSQL table or query
/// (`postgresql://…`, see `PostgresLocation`). Every command reads it through here — a nightly
/// run at its start and again at the privacy gate — and names it by `display`.
public enum RegistrySource {
    /// Reads a registry from a database: `ConsentPostgres.PostgresRegistry.load`.
    public typealias DatabaseReader = @Sendable (PostgresLocation, Int64) throws(ConsentError) -> ConsentRegistry

    /// The database reader, handed over by the executables that link one (`consentrec`,
    /// `consentrec-mpi`) as they start; without it a database registry is refused (fail closed).
    static let databaseReader = Mutex<DatabaseReader?>(nil)

    public static func readDatabases(with reader: @escaping DatabaseReader) { databaseReader.withLock { $0 = reader } }

    /// The registry at `location` as of `asOf`, read now.
    /// - Throws: `ConsentError`: missing, unreachable, unreadable or with a bad row.
    public static func load(_ location: String, asOf: Int64) throws(ConsentError) -> ConsentRegistry {
        guard PostgresLocation.isDatabase(location) else { return try ConsentRegistry.load(path: location, asOf: asOf) }
        let parsed = try PostgresLocation(location)
        guard let reader = databaseReader.withLock({ $0 }) else {
            throw .registryUnreadable(path: parsed.display, reason: "this program reads no database registries")
        }
        return try reader(parsed, asOf)
    }

    /// What manifests, reports and logs name: the path, or the URL without its password.
    public static func display(_ location: String) -> String {
        PostgresLocation.isDatabase(location) ? PostgresLocation.redacted(location) : location
    }

    /// A `postgresql://` registry with the config's `table` or `query` added as parameters; a
    /// file registry as it is (it takes neither).
    static func location(_ registry: String, table: String?, query: String?) throws(ConsentError) -> String {
        guard PostgresLocation.isDatabase(registry) else {
            if table != nil || query != nil {
                throw .registryUnreadable(path: registry, reason: "consent.table and consent.query apply to a postgresql:// registry only")
            }
            return registry
        }
        guard var parts = URLComponents(string: registry) else { throw .registryUnreadable(path: display(registry), reason: "not a URL") }
        let added = [table.map { URLQueryItem(name: "table", value: $0) }, query.map { URLQueryItem(name: "query", value: $0) }].compactMap { $0 }
        if !added.isEmpty { parts.queryItems = (parts.queryItems ?? []) + added }
        // "+" is a space in a form but not in a URL's query: encode it so a query keeps it.
        parts.percentEncodedQuery = parts.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        let location = parts.string ?? registry
        _ = try PostgresLocation(location)
        return location
    }
}
