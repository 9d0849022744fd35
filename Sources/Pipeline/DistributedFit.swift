import Cluster
import Factorization
import Foundation
import Linalg
import Logging
import Platform

/// A global recommender's fits in a distributed run. Rank 0 builds the global matrix and
/// leads each fit: it sends every rank the fit's configuration and start, and the rows of the
/// people it holds (`DistributedALS.segments`, consecutive segments to each rank); every rank
/// then runs `DistributedALS` on its rows, and rank 0 collects the user factors into the model.
/// The other ranks serve fits, one after another, until rank 0 says it is done.
///
/// Every rank stays in step: rank 0 ends the service (`lead`) however its work ends, a fit's
/// failure is learned by every rank inside `DistributedALS`, and a message that cannot be read
/// stops every rank (`Collective.abort`), since the ranks could no longer agree on what comes next.
struct DistributedFit: Sendable {
    let collective: any Collective

    private enum Command: Int { case done = 0, fit = 1 }

    /// At rank 0: `body`, whose global fits spread over the ranks, then the end of the service.
    func lead<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        precondition(collective.isLeader, "only rank 0 leads the global fits")
        defer {
            var w = WireWriter()
            w.int(Command.done.rawValue)
            _ = collective.broadcast(w.bytes)
        }
        return try body()
    }

    /// On the other ranks: takes part in each fit rank 0 leads, until it is done. A fit's
    /// failure is rank 0's to report.
    func serve(logger: Logger) {
        precondition(!collective.isLeader, "rank 0 leads the global fits")
        while true {
            var r = WireReader(collective.broadcast([]))
            guard let command = (try? r.int()).flatMap(Command.init(rawValue:)) else { abandon("a command", logger: logger) }
            if command == .done { return }
            guard let fit = try? Announcement(&r) else { abandon("a fit's configuration", logger: logger) }
            guard let (shard, users) = try? Self.shard(collective.exchange([[UInt8]](repeating: [], count: collective.size))[0], fit, rank: collective.rank, ranks: collective.size)
            else { abandon("a fit's rows", logger: logger) }
            guard let result = try? DistributedALS(configuration: fit.configuration, collective: collective)
                .fit(shard, users: users, items: fit.items, startsFromItems: fit.startsFromItems, logger: logger)
            else { continue }
            var outgoing = [[UInt8]](repeating: [], count: collective.size)
            outgoing[0] = Self.floats(result.users.storage)
            _ = collective.exchange(outgoing)
        }
    }

    /// At rank 0: one fit of a global matrix across the ranks — the model `ImplicitALS.fit`
    /// gives with the same person segments.
    func fit(_ matrix: SparseMatrix, configuration: ALSConfiguration, warmStart: WarmStart?, logger: Logger) throws(TrainingError) -> ALSModel {
        precondition(collective.isLeader, "only rank 0 leads the global fits")
        // What cannot start fails here, at rank 0 alone, before any rank is told of the fit.
        try configuration.validate()
        let (users, items) = try ImplicitALS.start(configuration, rows: matrix.rows, columns: matrix.columns, warmStart: warmStart)
        let fit = Announcement(configuration: configuration, rows: matrix.rows, columns: matrix.columns,
                               startsFromItems: warmStart?.startsFromItems == true, items: items)
        var w = WireWriter()
        w.int(Command.fit.rawValue)
        fit.write(to: &w)
        _ = collective.broadcast(w.bytes)
        let ranges = Self.rowRanges(rows: matrix.rows, ranks: collective.size)
        let mine = collective.exchange(ranges.map { Self.rows($0, of: matrix, users: users) })[0]
        guard let (shard, start) = try? Self.shard(mine, fit, rank: 0, ranks: collective.size) else { collective.abort(status: ExitStatus.ioFailure) }
        let result = try DistributedALS(configuration: configuration, collective: collective)
            .fit(shard, users: start, items: items, startsFromItems: fit.startsFromItems, logger: logger)
        var outgoing = [[UInt8]](repeating: [], count: collective.size)
        outgoing[0] = Self.floats(result.users.storage)
        var all = [Float]()
        all.reserveCapacity(matrix.rows * configuration.factors)
        for message in collective.exchange(outgoing) {
            var r = WireReader(message)
            guard let part = try? r.floats() else { collective.abort(status: ExitStatus.ioFailure) }
            all += part
        }
        return ALSModel(configuration: configuration, userFactors: Matrix(rows: matrix.rows, columns: configuration.factors, storage: all),
                        itemFactors: result.items)
    }

    /// What every rank learns of a fit before its rows arrive.
    private struct Announcement {
        let configuration: ALSConfiguration
        let rows: Int
        let columns: Int
        let startsFromItems: Bool
        let items: Matrix

        init(configuration: ALSConfiguration, rows: Int, columns: Int, startsFromItems: Bool, items: Matrix) {
            self.configuration = configuration
            self.rows = rows
            self.columns = columns
            self.startsFromItems = startsFromItems
            self.items = items
        }

        init(_ r: inout WireReader) throws {
            configuration = try JSONDecoder().decode(ALSConfiguration.self, from: Data(try r.blob()))
            rows = try r.int()
            columns = try r.int()
            startsFromItems = try r.bool()
            let storage = try r.floats()
            guard storage.count == columns * configuration.factors else { throw WireReader.Malformed(offset: r.offset, reason: "the item start's size") }
            items = Matrix(rows: columns, columns: configuration.factors, storage: storage)
        }

        func write(to w: inout WireWriter) {
            w.blob(Array((try? JSONEncoder().encode(configuration)) ?? Data()))
            w.int(rows)
            w.int(columns)
            w.bool(startsFromItems)
            w.floats(items.storage)
        }
    }

    /// The global rows each rank holds: the segments it owns, consecutive.
    static func rowRanges(rows: Int, ranks: Int) -> [Range<Int>] {
        let segments = DistributedALS.segments(rows: rows)
        return (0..<ranks).map { d in
            let owned = segments.indices.filter { DistributedALS.owner(ofSegment: $0, ranks: ranks) == d }
            guard let first = owned.first, let last = owned.last else { return rows..<rows }
            return segments[first].lowerBound..<segments[last].upperBound
        }
    }

    /// One rank's rows of `matrix` and their start, as a message.
    private static func rows(_ range: Range<Int>, of matrix: SparseMatrix, users: Matrix) -> [UInt8] {
        let rows = matrix.rows(range)
        var w = WireWriter()
        w.int(range.lowerBound)
        w.column(rows.rowPointers)
        w.column(rows.columnIndices)
        w.floats(rows.values)
        w.floats(Array(users.storage[range.lowerBound * users.columns..<range.upperBound * users.columns]))
        return w.bytes
    }

    /// A rank's shard and user start from its message.
    private static func shard(_ message: [UInt8], _ fit: Announcement, rank: Int, ranks: Int) throws -> (DistributedALS.Shard, Matrix) {
        var r = WireReader(message)
        let first = try r.int()
        let pointers = try r.column(Int.self)
        let rows = try SparseMatrix(rows: pointers.count - 1, columns: fit.columns, rowPointers: pointers,
                                    columnIndices: try r.column(Int32.self), values: try r.floats())
        let start = try r.floats()
        guard start.count == rows.rows * fit.configuration.factors else { throw WireReader.Malformed(offset: r.offset, reason: "the user start's size") }
        let users = Matrix(rows: rows.rows, columns: fit.configuration.factors, storage: start)
        try r.finish()
        let segments = DistributedALS.segments(rows: fit.rows)
        let mine = segments.indices.filter { DistributedALS.owner(ofSegment: $0, ranks: ranks) == rank }.map { segments[$0] }
        guard mine.allSatisfy({ $0.lowerBound >= first && $0.upperBound <= first + rows.rows }) else {
            throw WireReader.Malformed(offset: 0, reason: "rows \(first)..<\(first + rows.rows) do not hold this rank's segments")
        }
        let shard = DistributedALS.Shard(rows: rows, firstRow: first, totalRows: fit.rows, segments: mine.map { $0.lowerBound - first..<$0.upperBound - first })
        return (shard, users)
    }

    private static func floats(_ values: [Float]) -> [UInt8] {
        var w = WireWriter()
        w.floats(values)
        return w.bytes
    }

    /// A message from rank 0 that cannot be read: the ranks can no longer agree on what
    /// comes next, so every one stops.
    private func abandon(_ what: String, logger: Logger) -> Never {
        logger.critical("a global fit's message from rank 0 cannot be read", metadata: ["part": "\(what)"])
        collective.abort(status: ExitStatus.ioFailure)
    }
}
