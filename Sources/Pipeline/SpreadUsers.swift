import Cluster
import Factorization
import Interactions
import Linalg
import Platform

/// A spread global model's users — every rank's ids and factors, in row order — gathered at
/// rank 0 for a model file that publishes user factors.
struct SpreadUsers {
    let ids: [String]
    let factors: Matrix

    /// Every rank calls it for a spread global model; rank 0 gets them all, the others nil.
    /// Nil too for a model whose users are all here.
    static func gathered(_ model: ALSModel, of matrix: InteractionMatrix, collective: any Collective) -> SpreadUsers? {
        guard matrix.persons != nil, collective.size > 1 else { return nil }
        var w = WireWriter()
        w.strings(matrix.userIDs)
        w.floats(model.userFactors.storage)
        var outgoing = [[UInt8]](repeating: [], count: collective.size)
        outgoing[0] = w.bytes
        let incoming = collective.exchange(outgoing)
        guard collective.isLeader else { return nil }
        var ids: [String] = [], storage: [Float] = []
        for message in incoming {
            var r = WireReader(message)
            guard let part = try? r.strings(), let factors = try? r.floats() else { collective.abort(status: ExitStatus.ioFailure) }
            ids += part
            storage += factors
        }
        return SpreadUsers(ids: ids, factors: Matrix(rows: ids.count, columns: model.userFactors.columns, storage: storage))
    }
}
