import ArgumentParser
import Consent
import Foundation
import Ingest
import Interactions
import Linalg
import SyntheticData

/// Times the data stage end to end on a generated log: read, parse, consent and retention
/// filters, pseudonymise, index, build every matrix.
struct IngestBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest", abstract: "Time ingestion (read → matrices) of a generated event log.")

    @Option(help: "Events to generate.") var events = 10_000_000
    @Option(help: "Workspaces to generate.") var workspaces = 2000
    @Option(help: "Where the generated log is kept between runs.") var cache = "/tmp/consentrec-bench-ingest"
    @Flag(help: "Read a gzip-compressed copy of the log.") var gzip = false
    @Option(help: "Parsing threads (one more reads and checksums).") var threads = 2

    func run() throws {
        print("machine: \(BLASCore.summary)")
        let directory = "\(cache)/\(events)-\(workspaces)"
        let csv = "\(directory)/events.csv"
        if !FileManager.default.fileExists(atPath: "\(directory)/pseudonym.key") {
            var options = SyntheticEventLog.Options()
            options.events = events
            options.workspaces = workspaces
            let (_, seconds) = try measure { try SyntheticEventLog(options: options).write(to: directory) }
            print(String(format: "generated %@ in %.1f s", csv, seconds))
        }
        var input = csv
        if gzip {
            input = csv + ".gz"
            if !FileManager.default.fileExists(atPath: input) {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", "gzip -c -6 '\(csv)' > '\(input).tmp' && mv '\(input).tmp' '\(input)'"]
                try process.run()
                process.waitUntilExit()
            }
        }
        let bytes = (try FileManager.default.attributesOfItem(atPath: input)[.size] as? Int) ?? 0
        let uncompressed = (try FileManager.default.attributesOfItem(atPath: csv)[.size] as? Int) ?? 0
        let asOf = SyntheticEventLog.Options().end
        let registry = try ConsentRegistry.load(path: "\(directory)/consent.csv", asOf: asOf)
        let key = try PseudonymKey.load(file: "\(directory)/pseudonym.key")
        var options = IngestOptions(policy: .optOut, asOf: asOf, retentionDays: 365)
        options.threads = threads
        let reader = EventLogReader(options: options, registry: registry, pseudonymiser: Pseudonymiser(key: key))
        let (log, readSeconds) = try measure { try reader.read([input], logger: .bench) }
        let (built, buildSeconds) = measure {
            RecommenderDefinition.defaults.map { InteractionMatrixBuilder(definition: $0, threads: threads).build(log) }
        }
        let total = readSeconds + buildSeconds
        let rows = log.usage.rowsRead
        print(String(
            format: "ingest %@, %d threads: %d rows (%.0f MB%@), kept %d events, %d channel matrices, %d emoji matrices",
            gzip ? "gzip" : "plain", threads, rows, Double(bytes) / 1e6, gzip ? String(format: ", %.0f MB uncompressed", Double(uncompressed) / 1e6) : "",
            log.count, built[0].matrices.count, built[1].matrices.count))
        print(String(
            format: "  read+filter+pseudonymise+index %.2f s, matrices %.2f s, total %.2f s: %.2f M events/s, %.0f MB/s (uncompressed), peak RSS %.0f MiB",
            readSeconds, buildSeconds, total, Double(rows) / total / 1e6, Double(uncompressed) / total / 1e6, ResourceUsage.peakRSSMiB))
    }
}
