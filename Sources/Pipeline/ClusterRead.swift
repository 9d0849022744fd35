import Cluster
import Foundation
import Consent
import Ingest
import Interactions
import Logging
import Platform

/// Which rank owns a workspace in a distributed run: its models are built, judged and trained
/// there, so all its events go there — and its people are that rank's rows of a global matrix
/// (`PersonSegments`: a workspace's segment, consecutive segments to each rank). Stable for a
/// given number of ranks.
public enum WorkspaceOwner {
    public static func rank(of pseudonym: String, ranks: Int) -> Int {
        PersonSegments.owner(ofSegment: PersonSegments.segment(ofWorkspace: pseudonym), ranks: ranks)
    }
}

/// The read of a distributed run. Rank 0 cuts the inputs into pieces (`InputPlan`); each rank
/// reads every piece whose index is its rank modulo the ranks, through consent and
/// pseudonymisation, so an excluded workspace's events and every raw id stay on the rank that
/// read them; each piece's events go to the ranks owning their workspaces (one all-to-all),
/// and its counts to every rank (one gather), where they add up to the read's usage.
struct ClusterRead {
    let collective: any Collective
    let reader: EventLogReader
    let stretchBytes: Int

    /// This rank's workspaces' events in input order, with the whole read's usage.
    func read(_ arguments: [String], logger: Logger) throws(NightlyError) -> EventLog {
        let plan = try plan(arguments)
        var mine: [(piece: Int, read: PieceRead)] = []
        var failure: NightlyError?
        for index in plan.pieces.indices where index % collective.size == collective.rank {
            do { mine.append((index, try reader.read(plan.pieces[index], of: plan))) } catch {
                failure = .input(error)
                break
            }
        }
        try collective.agree(failure)
        for m in mine where m.read.usage.file.rows > 0 || plan.pieces[m.piece].part == 0 {
            logger.info("input piece read", metadata: [LogKey.file: "\(plan.files[plan.pieces[m.piece].file])", LogKey.rows: "\(m.read.usage.usage.rowsRead)"])
        }
        let parts = try shuffle(mine)
        var usage: DataUsage
        do {
            usage = try DataUsage.merging(try gatherUsage(mine, pieces: plan.pieces.count), plan: plan, policy: reader.options.policy,
                                          limit: reader.options.badRowLimit)
        } catch let e as IngestError { throw .input(e) } catch { throw .io(error) }
        let log = EventLog.concatenating(parts, usage: usage)
        return log.withUsage(keptCounts(log, usage))
    }

    /// Rank 0's cuts, on every rank.
    private func plan(_ arguments: [String]) throws(NightlyError) -> InputPlan {
        var bytes: [UInt8] = [], failure: NightlyError?
        if collective.isLeader {
            do { bytes = try InputPlan.make(arguments, options: reader.options, stretchBytes: stretchBytes).wire } catch { failure = .input(error) }
        }
        try collective.agree(failure)
        do { return try InputPlan(wire: collective.broadcast(bytes)) } catch { throw .io(error) }
    }

    /// Each piece's events to their owners; what this rank owns, in piece order.
    private func shuffle(_ mine: [(piece: Int, read: PieceRead)]) throws(NightlyError) -> [EventLog] {
        let ranks = collective.size
        var outgoing = [WireWriter](repeating: WireWriter(), count: ranks)
        for (piece, read) in mine {
            let log = read.log
            let owner = log.vocabulary.workspaces.map { WorkspaceOwner.rank(of: $0, ranks: ranks) }
            var present = [Bool](repeating: false, count: ranks)
            for w in log.workspaces { present[owner[Int(w)]] = true }
            for d in 0..<ranks where present[d] {
                outgoing[d].int(piece)
                outgoing[d].blob(log.wire { owner[Int(log.workspaces[$0])] == d })
            }
        }
        var parts: [(piece: Int, log: EventLog)] = []
        do {
            for message in collective.exchange(outgoing.map(\.bytes)) {
                var r = WireReader(message)
                while !r.isAtEnd { parts.append((try r.int(), try EventLog.fromWire(try r.blob(), policy: reader.options.policy))) }
            }
        } catch { throw .io(error) }
        return parts.sorted { $0.piece < $1.piece }.map(\.log)
    }

    /// Every piece's counts, in plan order, on every rank.
    private func gatherUsage(_ mine: [(piece: Int, read: PieceRead)], pieces: Int) throws -> [PieceUsage] {
        var w = WireWriter()
        for (piece, read) in mine { w.int(piece); w.blob(read.usage.wire) }
        var byPiece = [PieceUsage?](repeating: nil, count: pieces)
        for message in collective.gather(w.bytes) {
            var r = WireReader(message)
            while !r.isAtEnd {
                let piece = try r.int()
                guard byPiece.indices.contains(piece) else { throw WireReader.Malformed(offset: r.offset, reason: "piece \(piece)") }
                byPiece[piece] = try PieceUsage(wire: try r.blob())
            }
        }
        guard !byPiece.contains(where: { $0 == nil }) else { throw WireReader.Malformed(offset: 0, reason: "a piece's counts are missing") }
        return byPiece.map { $0! }
    }

    /// The kept counts of the whole read: users, channels and workspaces are each owned by one
    /// rank (summed); emoji are shared (their distinct names counted).
    private func keptCounts(_ log: EventLog, _ usage: DataUsage) -> DataUsage {
        var usage = usage
        let counts = collective.sum([log.count, Set(log.workspaces).count, log.vocabulary.users.count, log.vocabulary.channels.count])
        var w = WireWriter()
        w.strings(log.vocabulary.emoji)
        var emoji = Set<String>()
        for message in collective.gather(w.bytes) {
            var r = WireReader(message)
            if let names = try? r.strings() { emoji.formUnion(names) }
        }
        usage.eventsKept = counts[0]
        usage.workspacesKept = counts[1]
        usage.usersKept = counts[2]
        usage.channelsKept = counts[3]
        usage.emojiKept = emoji.count
        return usage
    }
}

extension Collective {
    /// Every rank's `value`, in rank order, on every rank. A value that cannot be read back
    /// came from one of our own ranks: the ranks can no longer agree, so every one stops.
    func gathered<T: Codable>(_ value: T) -> [T] {
        let all = gather(Array((try? JSONEncoder().encode(value)) ?? Data()))
        do { return try all.map { try JSONDecoder().decode(T.self, from: Data($0)) } } catch { abort(status: ExitStatus.ioFailure) }
    }

    /// The events a global recommender uses, from every rank, at rank 0 (nil elsewhere).
    func gatherAtLeader(_ log: EventLog, target: RecommenderDefinition.Target) -> EventLog? {
        var outgoing = [[UInt8]](repeating: [], count: size)
        outgoing[0] = log.wire { log.item($0, for: target) >= 0 }
        let incoming = exchange(outgoing)
        guard isLeader else { return nil }
        let parts = incoming.compactMap { try? EventLog.fromWire($0, policy: log.usage.policy) }
        return EventLog.concatenating(parts, usage: log.usage)
    }

    /// `body` on every rank, then agreement: its value, or every rank stops.
    func agreed<T>(_ body: () throws(NightlyError) -> T) throws(NightlyError) -> T {
        var value: T?, failure: NightlyError?
        do { value = try body() } catch { failure = error }
        try agree(failure)
        return value!
    }

    /// Whether every rank succeeded, learned by all: a failed rank throws its own error, the
    /// others the first failed rank's status and message, so every rank stops at the same
    /// step with the same exit status and no rank is left waiting in a collective.
    func agree(_ failure: NightlyError?) throws(NightlyError) {
        var w = WireWriter()
        if let failure {
            w.int(Int(ExitStatus.of(failure)))
            w.string(failure.description)
        }
        let all = gather(w.bytes)
        if let failure { throw failure }
        for (rank, message) in all.enumerated() where !message.isEmpty {
            var r = WireReader(message)
            let status = (try? r.int()).map(Int32.init) ?? ExitStatus.ioFailure
            throw .otherRank(rank: rank, status: status, message: (try? r.string()) ?? "failed")
        }
    }
}
