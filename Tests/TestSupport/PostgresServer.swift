import Foundation

/// A throwaway PostgreSQL server for the consent-registry tests: a new cluster in a temporary
/// directory, from Debian's `postgresql` package (`make test` installs it), run as the
/// `postgres` user when the tests run as root. It listens on 127.0.0.1 at a free port and on a
/// Unix socket in its directory; the socket trusts the local user, TCP asks for a password.
/// Stopped and deleted by `stop()` (and when released).
public final class PostgresServer: @unchecked Sendable {
    public let directory: String
    public let port: Int
    /// The role and database the tests use, and the role's password (TCP only).
    public let user = "consentrec", database = "admin", password = "s3cret-Passw0rd"
    let bin: String
    let owner: String?
    private var running = false

    public var socketDirectory: String { directory + "/sock" }
    /// The server's certificate (self-signed, for `localhost`): a client's trusted root.
    public var certificate: String { directory + "/server.crt" }

    /// Starts the server; throws with the server's own words when it cannot.
    public init() throws {
        guard let bin = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?.sorted().last.map({ "/usr/lib/postgresql/\($0)/bin" }),
            FileManager.default.isExecutableFile(atPath: bin + "/initdb")
        else { throw Failure("no PostgreSQL server in /usr/lib/postgresql: apt-get install -y postgresql (make test installs it)") }
        self.bin = bin
        // A short path: a Unix socket's path is limited to 107 bytes.
        directory = "/tmp/pg-" + UUID().uuidString.prefix(8).lowercased()
        port = 20_000 + Int.random(in: 0..<20_000)
        owner = getuid() == 0 ? "postgres" : nil
        try FileManager.default.createDirectory(atPath: socketDirectory, withIntermediateDirectories: true)
        try "\(password)\n".write(toFile: directory + "/pw", atomically: true, encoding: .utf8)
        // A self-signed certificate for localhost: the server speaks TLS over TCP.
        try shell("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                                       "-addext", "subjectAltName=DNS:localhost", "-keyout", directory + "/server.key", "-out", certificate])
        if let owner { try shell("/bin/chown", ["-R", owner, directory]) }
        try shell("/bin/chmod", ["600", directory + "/server.key"])
        try shell(bin + "/initdb", ["-D", directory + "/data", "-U", "postgres", "--pwfile=\(directory)/pw", "--auth-local=trust",
                                    "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"], asOwner: true)
        try shell(bin + "/pg_ctl", ["-D", directory + "/data", "-l", directory + "/log", "-w", "-t", "60", "-o",
                                    "-c listen_addresses=127.0.0.1 -p \(port) -k \(socketDirectory) -c fsync=off -c ssl=on "
                                        + "-c ssl_cert_file=\(certificate) -c ssl_key_file=\(directory)/server.key", "start"], asOwner: true)
        running = true
        try sql("CREATE ROLE \(user) LOGIN PASSWORD '\(password)';", database: "postgres", as: "postgres")
        try sql("CREATE DATABASE \(database) OWNER \(user);", database: "postgres", as: "postgres")
    }

    deinit { stop() }

    /// Stops the server (fast shutdown) and removes its directory.
    public func stop() {
        if running { _ = try? shell(bin + "/pg_ctl", ["-D", directory + "/data", "-w", "-m", "immediate", "stop"], asOwner: true) }
        running = false
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Sends a signal (STOP, CONT) to the server and every process it started.
    public func signal(_ name: String) throws {
        let pid = try String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8).split(separator: "\n")[0]
        try shell("/usr/bin/pkill", ["-\(name)", "-P", String(pid)])
        try shell("/bin/kill", ["-\(name)", String(pid)])
    }

    /// Runs SQL through psql over the socket, stopping at the first error.
    @discardableResult
    public func sql(_ statements: String, database: String? = nil, as role: String? = nil) throws -> String {
        try shell("/usr/bin/psql", ["-h", socketDirectory, "-p", "\(port)", "-U", role ?? user, "-d", database ?? self.database, "-v", "ON_ERROR_STOP=1",
                                    "-qtAc", statements], asOwner: true)
    }

    /// A registry URL over TCP, with the password in it unless `password` is false.
    public func tcpURL(password withPassword: Bool = true, host: String = "127.0.0.1", _ parameters: String = "") -> String {
        "postgresql://\(user)\(withPassword ? ":\(password)" : "")@\(host):\(port)/\(database)" + (parameters.isEmpty ? "" : "?" + parameters)
    }

    /// A registry URL over the Unix socket (libpq's percent-encoded directory as the host).
    public func socketURL(_ parameters: String = "") -> String {
        let host = socketDirectory.replacingOccurrences(of: "/", with: "%2F")
        return "postgresql://\(user)@\(host):\(port)/\(database)" + (parameters.isEmpty ? "" : "?" + parameters)
    }

    /// Runs a program (as the server's owner when asked) through `system`, its output in files.
    /// Not `Process`: the server that `pg_ctl start` leaves running inherits the descriptors
    /// Foundation watches for the child's end, and the wait would never return.
    @discardableResult
    func shell(_ program: String, _ arguments: [String], asOwner: Bool = false) throws -> String {
        let command = (asOwner && owner != nil ? ["/usr/sbin/runuser", "-u", owner!, "--", program] : [program]) + arguments
        let outPath = NSTemporaryDirectory() + "pg-out-\(UUID().uuidString)", errPath = outPath + ".err"
        defer { try? FileManager.default.removeItem(atPath: outPath); try? FileManager.default.removeItem(atPath: errPath) }
        func quoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let status = system("cd /tmp && " + command.map(quoted).joined(separator: " ") + " </dev/null >\(quoted(outPath)) 2>\(quoted(errPath))")
        let output = FileManager.default.contents(atPath: outPath) ?? Data(), error = FileManager.default.contents(atPath: errPath) ?? Data()
        guard status == 0 else {
            throw Failure("\(program) \(arguments.joined(separator: " ")) exited with \(status): \(String(decoding: error + output, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self)
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
