import Consent
import ConsentPostgres
import Foundation
import Ingest
@testable import Pipeline
import Platform
import Publishing
import TestSupport
import XCTest

/// The consent registry in PostgreSQL, against a real server (`PostgresServer`): the same
/// registry as the file, every failure closed, a late opt-out caught at the privacy gate.
final class PostgresRegistryTests: XCTestCase {
    static let server = Result { try PostgresServer() }
    var server: PostgresServer!
    var f: NightlyFixture!

    override func setUpWithError() throws {
        RegistrySource.readDatabases(with: PostgresRegistry.load)
        server = try Self.server.get()
        f = try NightlyFixture()
        try server.sql("DROP TABLE IF EXISTS consent_registry, workspace_consent; "
            + "CREATE TABLE consent_registry (workspace_id text, status text, effective_at timestamptz);")
        try insert(rows(), into: "consent_registry")
    }

    override class func tearDown() { (try? server.get())?.stop() }

    /// The fixture's registry file, row by row.
    func rows() throws -> [[String]] {
        try String(contentsOfFile: f.registryPath, encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    func insert(_ rows: [[String]], into table: String) throws {
        guard !rows.isEmpty else { return }
        // The file's times are RFC 3339 or Unix seconds.
        func time(_ t: String) -> String { t.allSatisfy(\.isNumber) ? "to_timestamp(\(t))" : "$q$\(t)$q$::timestamptz" }
        let values = rows.map { r in "($q$\(r[0])$q$, $q$\(r[1])$q$, \(time(r[2])))" }.joined(separator: ", ")
        try server.sql("INSERT INTO \(table) VALUES \(values);")
    }

    func load(_ url: String, asOf: Int64 = 1_800_000_000) throws -> ConsentRegistry { try RegistrySource.load(url, asOf: asOf) }

    func refusal(_ url: String) -> String {
        do {
            _ = try load(url)
            return "(read)"
        } catch { return "\(error)" }
    }

    func testATable_readOverTCPOrTheSocket_isTheFilesRegistry_andItsChecksumIgnoresRowOrder() throws {
        let file = try ConsentRegistry.load(path: f.registryPath, asOf: 1_800_000_000)
        let tcp = try load(server.tcpURL()), socket = try load(server.socketURL())
        for registry in [tcp, socket] {
            XCTAssertEqual(registry.optedOutWorkspaces, file.optedOutWorkspaces)
            XCTAssertEqual(registry.optedInWorkspaces, file.optedInWorkspaces)
            XCTAssertFalse(registry.optedOutWorkspaces.isEmpty)
            XCTAssertFalse(registry.path.contains(server.password), "the password is never shown")
        }
        XCTAssertEqual(tcp.sha256, socket.sha256)
        // The checksum is of the sorted rows: the same rows in another order, the same checksum.
        try server.sql("CREATE TABLE workspace_consent AS SELECT * FROM consent_registry ORDER BY random();")
        XCTAssertEqual(try load(server.socketURL("table=workspace_consent")).sha256, tcp.sha256)
        // Recomputed here from the rows as the manifest documents it.
        let lines = try rows().map { "\($0[0]),\($0[1]),\(Timestamp.parse($0[2])!)\n" }.sorted()
        XCTAssertEqual(tcp.sha256, Digest.sha256(Data(("workspace_id,status,effective_at\n" + lines.joined()).utf8)))
        // One row changed, another checksum.
        try server.sql("UPDATE workspace_consent SET status = 'opted_in' WHERE ctid = (SELECT ctid FROM workspace_consent WHERE status = 'opted_out' LIMIT 1);")
        XCTAssertNotEqual(try load(server.socketURL("table=workspace_consent")).sha256, tcp.sha256)
    }

    func testAQuery_takesIntegerIdsEnumsAndUnixSeconds_andTheConfigsTableOrQuery() throws {
        try server.sql("""
            CREATE TYPE consent_state AS ENUM ('opted_in', 'opted_out');
            CREATE TABLE accounts (id bigint, consent consent_state, changed bigint, note text);
            INSERT INTO accounts VALUES (41, 'opted_out', 1700000000, 'x'), (42, 'opted_in', 1700000000, 'y'), (41, 'opted_in', 1600000000, 'z');
            """)
        let query = "SELECT id::text AS workspace_id, consent::text AS status, changed AS effective_at FROM accounts"
        let registry = try load(server.socketURL("query=" + query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!))
        XCTAssertEqual(registry.optedOutWorkspaces, ["41"])
        XCTAssertEqual(registry.optedInWorkspaces, ["42"])
        // Types that are not text are refused, saying how to fix it: an enum, a boolean, an
        // integer id (leading zeros lost), bytes (read as text they would match no workspace,
        // and an opt-out would fail open).
        for (select, field) in [("id::text AS workspace_id, consent AS status", "status"), ("id::text AS workspace_id, consent = 'opted_out' AS status", "status"),
                                ("id AS workspace_id, consent::text AS status", "workspace_id"),
                                ("int8send(id) AS workspace_id, consent::text AS status", "workspace_id")] {
            let uncast = refusal(server.socketURL("query=" + "SELECT \(select), changed AS effective_at FROM accounts"
                .addingPercentEncoding(withAllowedCharacters: .alphanumerics)!))
            XCTAssertTrue(uncast.contains("row 1 of the result: \(field)") && uncast.contains("cast it to text"), uncast)
        }
        // A uuid is refused too (read as text it is lowercased; the events may spell it in capitals).
        try server.sql("CREATE TABLE uuids AS SELECT 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid AS workspace_id, 'opted_out' AS status, now() AS effective_at;")
        XCTAssertTrue(refusal(server.socketURL("table=uuids")).contains("row 1 of the result: workspace_id: a column of type UUID"), refusal(server.socketURL("table=uuids")))
        // In the nightly config: table or query beside the URL.
        let config = try f.load(f.config().replacingOccurrences(of: #"registry = "data/consent.csv""#,
                                                                with: "registry = \"\(server.socketURL())\"\nquery = \"\"\"\n\(query) WHERE id > 0\n\"\"\""))
        XCTAssertEqual(try RegistrySource.load(config.consentPath, asOf: 1_800_000_000).optedOutWorkspaces, ["41"])
        XCTAssertThrowsError(try f.load(f.config().replacingOccurrences(of: #"registry = "data/consent.csv""#,
                                                                        with: #"registry = "data/consent.csv"\#ntable = "t""#))) { error in
            XCTAssertTrue("\(error)".contains("apply to a postgresql:// registry only"), "\(error)")
        }
    }

    func testEveryFailure_stopsWithAReason_andNeverShowsThePassword() throws {
        let cases: [(String, String)] = [
            (server.tcpURL().replacingOccurrences(of: ":\(server.port)/", with: ":1/"), "connection"),
            (server.tcpURL().replacingOccurrences(of: server.password, with: "wrong-password"), "28P01"),
            (server.tcpURL(password: false), "asks for a password"),
            (server.socketURL("table=no_such_table"), "42P01"),
            (server.socketURL("query=SELECT%201%20AS%20workspace_id"), "expected exactly workspace_id,status,effective_at"),
            (server.tcpURL(host: "localhost", "sslmode=verify-full"), "certificate"),
            (server.tcpURL("sslmode=verify-full&sslrootcert=\(server.certificate)"), "certificate"),
            (server.socketURL("tabel=consent_registry"), "unknown parameter tabel"),
            (server.socketURL("table=consent_registry&query=SELECT%201"), "table or query, not both"),
            (server.socketURL("sslmode=sometimes"), "sslmode must be"),
            (server.socketURL("statement_timeout=1&query=" + "SELECT workspace_id, status, effective_at FROM consent_registry, pg_sleep(3)"
                .addingPercentEncoding(withAllowedCharacters: .alphanumerics)!), "57014"),
        ]
        for (url, reason) in cases {
            let message = refusal(url)
            XCTAssertTrue(message.contains(reason), "\(url): \(message)")
            XCTAssertFalse(message.contains(server.password), message)
            XCTAssertFalse(message.contains("wrong-password"), message)
        }
        // A URL that does not parse never shows its password; a capitalised scheme is a database.
        for url in ["postgresql://u:top/secret@host/db", "postgresql://u:top#secret@host:5432x/db", "POSTGRESQL://u:top?secret@host/db"] {
            let message = refusal(url)
            XCTAssertTrue(message.lowercased().contains("postgresql://u@host"), message)
            XCTAssertFalse(message.contains("secret"), message)
        }
        XCTAssertEqual(try load(server.socketURL().replacingOccurrences(of: "postgresql://", with: "PostgreSQL://")).optedOutWorkspaces,
                       try load(server.socketURL()).optedOutWorkspaces)
        // A server message about a value quotes it: only the SQLSTATE is shown.
        let cast = refusal(server.socketURL("query=" + "SELECT workspace_id::uuid::text AS workspace_id, status, effective_at FROM consent_registry"
            .addingPercentEncoding(withAllowedCharacters: .alphanumerics)!))
        XCTAssertTrue(cast.contains("SQLSTATE 22P02"), cast)
        XCTAssertFalse(try rows().contains { cast.contains($0[0]) }, cast)
        // Bytes that are not UTF-8, from a SQL_ASCII database, are refused as in a file.
        try server.sql("CREATE DATABASE ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0 OWNER \(server.user);", database: "postgres", as: "postgres")
        try server.sql("CREATE TABLE consent_registry AS SELECT convert_from('\\x636166e9', 'SQL_ASCII') AS workspace_id, 'opted_out'::text AS status, now() AS effective_at;",
                       database: "ascii")
        let ascii = refusal(server.socketURL().replacingOccurrences(of: "/\(server.database)", with: "/ascii"))
        XCTAssertTrue(ascii.contains("row 1 of the result: workspace_id: not valid UTF-8"), ascii)
        // A bad row refuses the whole registry, naming the row and the field, never the id.
        for (row, field) in [("(NULL, 'opted_out', now())", "workspace_id"), ("('w\"q', 'opted_out', now())", "workspace_id"),
                             ("('w9', 'out', now())", "status"), ("('w9', 'opted_out', NULL)", "effective_at")] {
            try server.sql("DROP TABLE IF EXISTS bad; CREATE TABLE bad (workspace_id text, status text, effective_at timestamptz); INSERT INTO bad VALUES \(row);")
            let message = refusal(server.socketURL("table=bad"))
            XCTAssertTrue(message.contains("row 1 of the result: \(field)"), message)
            XCTAssertFalse(message.contains("w\"q"), message)
        }
    }

    /// A server that stops answering mid-query (every process of it stopped, so it cannot even
    /// cancel on its own statement_timeout) stops the read at the client's deadline.
    func testAServerThatStopsAnswering_stopsTheReadAtTheDeadline() throws {
        let url = server.socketURL("connect_timeout=1&statement_timeout=1&query="
            + "SELECT workspace_id, status, effective_at FROM consent_registry, pg_sleep(20)".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var message = ""
        Thread.detachNewThread {
            do { _ = try RegistrySource.load(url, asOf: 0) } catch { message = "\(error)" }
            done.signal()
        }
        Thread.sleep(forTimeInterval: 0.5)
        try server.signal("STOP")
        defer { try? server.signal("CONT") }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success, "the read returns")
        XCTAssertTrue(message.contains("did not answer within 2 s"), message)
    }

    /// Over TCP the server speaks TLS with a self-signed certificate for localhost: `require`
    /// takes it unchecked, `verify-full` only with that certificate as a root and that name.
    func testTLS_requireEncrypts_verifyFullChecksTheCertificateAndTheName() throws {
        let file = try ConsentRegistry.load(path: f.registryPath, asOf: 1_800_000_000)
        for parameters in ["sslmode=require", "sslmode=verify-full&sslrootcert=\(server.certificate)", "sslmode=verify-ca&sslrootcert=\(server.certificate)"] {
            XCTAssertEqual(try load(server.tcpURL(host: "localhost", parameters)).optedOutWorkspaces, file.optedOutWorkspaces, parameters)
        }
        XCTAssertTrue(refusal(server.socketURL("sslmode=verify-full")).contains("a socket carries no TLS"))
        XCTAssertTrue(refusal(server.socketURL("sslrootcert=/x.pem")).contains("sslrootcert applies to"))
    }

    func testTheRegistryIsReadInAReadOnlySession() throws {
        let count = try server.sql("SELECT count(*) FROM consent_registry;")
        let delete = "DELETE FROM consent_registry RETURNING workspace_id, status, effective_at"
        let message = refusal(server.socketURL("query=" + delete.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!))
        XCTAssertTrue(message.contains("25006"), "read-only transaction: \(message)")
        XCTAssertEqual(try server.sql("SELECT count(*) FROM consent_registry;"), count, "nothing deleted")
    }

    func nightly() throws -> NightlyConfig {
        try f.load(f.config().replacingOccurrences(of: #"registry = "data/consent.csv""#, with: "registry = \"\(server.tcpURL())\""))
    }

    func testANightlyRun_recordsTheURLWithoutPassword_andTheChecksum() throws {
        let config = try nightly()
        let report = try NightlyRun(config: config).execute(logger: f.quiet) { _ in }
        XCTAssertEqual(report.status, .published)
        let run = try PublishedRun.open(f.root.path)
        XCTAssertEqual(run.manifest.consent.registryPath, server.tcpURL(password: false))
        XCTAssertEqual(run.manifest.consent.registrySHA256, try load(server.tcpURL()).sha256)
        let text = try String(contentsOfFile: run.directory + "/manifest.json", encoding: .utf8)
            + (try String(contentsOfFile: f.root.path + "/reports/\(report.runID).json", encoding: .utf8))
        XCTAssertFalse(text.contains(server.password))
    }

    func testAnOptOutInTheDatabaseDuringTraining_isCaughtAtThePrivacyGate() throws {
        let config = try nightly()
        // A workspace whose events the run reads opts out while models train.
        let raw = try f.rawWorkspaces()
        let late = try XCTUnwrap(Set(try f.read(config).vocabulary.workspaces.compactMap { raw[$0] }).sorted().first)
        XCTAssertThrowsError(try NightlyRun(config: config).execute(logger: f.quiet) { progress in
            if progress.stage == .train { _ = try? self.server.sql("INSERT INTO consent_registry VALUES ($q$\(late)$q$, 'opted_out', now());") }
        }) { error in
            guard case .audit(let report) = error as? NightlyError else { return XCTFail("\(error)") }
            XCTAssertEqual(report.status, .auditFailed)
        }
        XCTAssertNil(f.root.currentRun, "nothing published")
    }

    func testTheServerGoneBeforeThePrivacyGate_stopsTheRun() throws {
        let config = try nightly()
        try server.sql("ALTER ROLE \(server.user) NOLOGIN;", database: "postgres", as: "postgres")
        defer { _ = try? server.sql("ALTER ROLE \(server.user) LOGIN;", database: "postgres", as: "postgres") }
        try server.sql("ALTER ROLE \(server.user) LOGIN;", database: "postgres", as: "postgres")
        XCTAssertThrowsError(try NightlyRun(config: config).execute(logger: f.quiet) { progress in
            if progress.stage == .train { _ = try? self.server.sql("ALTER ROLE \(self.server.user) NOLOGIN;", database: "postgres", as: "postgres") }
        }) { error in
            guard case .consent(let inner) = error as? NightlyError, case .registryUnreadable(let path, let reason) = inner as? ConsentError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(path, server.tcpURL(password: false))
            XCTAssertTrue(reason.contains("28000"), reason)
        }
        XCTAssertNil(f.root.currentRun)
        XCTAssertEqual(f.root.runs(), [])
    }
}
