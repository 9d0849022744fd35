import Cluster
import Factorization
import Foundation
import Linalg
import Logging
import SyntheticData

/// `DistributedALS` on this job's ranks against `ImplicitALS` in one process with the same
/// person segments: rank 0 prints "als CASE identical" when every factor has the same bits,
/// "als CASE differs" otherwise; with a negative entry in the last rank's rows, each rank
/// prints "als CASE rank R threw: …".
func probeALS(_ world: any Collective) {
    let logger = Logger(label: "probe") { _ in SwiftLogNoOpLogHandler() }
    let general = SyntheticInteractions.generate(.init(users: 700, items: 90, nonZeros: 9_000), seed: 7)
    var iALSpp = ALSConfiguration()
    iALSpp.factors = 6
    iALSpp.iterations = 3
    iALSpp.solver = .cholesky
    iALSpp.unobservedWeight = 0.5
    iALSpp.regularizationExponent = 0.5
    var cg = ALSConfiguration()
    cg.factors = 5
    cg.iterations = 4
    let tiny = try! SparseMatrix(rows: 2, columns: 2, rowPointers: [0, 1, 3], columnIndices: [1, 0, 1], values: [1, 2, 1])

    compare("cg", general, cg, world: world, logger: logger)
    let published = try! ImplicitALS(configuration: iALSpp).fit(general, logger: logger).itemFactors
    let fromItems = WarmStart(itemFactors: published, itemRows: (0..<Int32(general.columns)).map { $0 % 3 == 0 ? -1 : $0 }, users: general.rows,
                              configuration: iALSpp)
    compare("ials++-from-items", general, iALSpp, warmStart: fromItems, world: world, logger: logger)
    compare("tiny", tiny, cg, world: world, logger: logger)
    let negative = general.compactMapValues { $0 }
    var values = negative.values
    values[values.count - 1] = -1
    let bad = try! SparseMatrix(rows: negative.rows, columns: negative.columns, rowPointers: negative.rowPointers,
                                columnIndices: negative.columnIndices, values: values)
    compare("negative", bad, cg, world: world, logger: logger)
    // One huge weight in the last user's last entry: that item's solve overflows, in the last
    // rank's slice — its row must still be named in the whole matrix's numbering.
    values[values.count - 1] = 3e38
    let huge = try! SparseMatrix(rows: negative.rows, columns: negative.columns, rowPointers: negative.rowPointers,
                                 columnIndices: negative.columnIndices, values: values)
    compareFailure("diverging", huge, cg, world: world, logger: logger)
}

/// The distributed fit of `matrix` on this job's ranks, each holding its shard of the same start.
private func fitAcrossRanks(
    _ matrix: SparseMatrix, _ config: ALSConfiguration, warmStart: WarmStart? = nil, world: any Collective, logger: Logger
) throws(TrainingError) -> (users: Matrix, items: Matrix) {
    let shard = DistributedALS.Shard(of: matrix, rank: world.rank, ranks: world.size)
    let (users, items) = try ImplicitALS.start(config, rows: matrix.rows, columns: matrix.columns, warmStart: warmStart)
    return try DistributedALS(configuration: config, collective: world)
        .fit(shard, users: shard.rows(of: users), items: items, startsFromItems: warmStart?.startsFromItems == true, logger: logger)
}

/// A fit that fails in one process and across the ranks: rank 0 prints "als CASE same error"
/// when the distributed error names the iteration, side and row one process names.
private func compareFailure(_ name: String, _ matrix: SparseMatrix, _ config: ALSConfiguration, world: any Collective, logger: Logger) {
    var distributed = "no error"
    do { _ = try fitAcrossRanks(matrix, config, world: world, logger: logger) } catch {
        if case .otherRank(_, let reason) = error { distributed = reason } else { distributed = error.description }
    }
    guard world.isLeader else { return }
    var single = "no error"
    do { _ = try ImplicitALS(configuration: config).fit(matrix, logger: logger, userSegments: DistributedALS.segments(rows: matrix.rows)) } catch {
        single = error.description
    }
    let same = single == distributed && single != "no error"
    print("als \(name) \(same ? "same error" + (CommandLine.arguments.count > 2 ? ": \(single)" : "") : "differs: \(single) | \(distributed)")")
}

private func compare(_ name: String, _ matrix: SparseMatrix, _ config: ALSConfiguration, warmStart: WarmStart? = nil,
                     world: any Collective, logger: Logger) {
    let result: (users: Matrix, items: Matrix)
    do { result = try fitAcrossRanks(matrix, config, warmStart: warmStart, world: world, logger: logger) } catch {
        print("als \(name) rank \(world.rank) threw: \(error)")
        return
    }
    let allUsers = world.gather(result.users.storage.withUnsafeBytes { Array($0) }).flatMap { bytes in
        bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
    guard world.isLeader else { return }
    let expected = try! ImplicitALS(configuration: config).fit(matrix, warmStart: warmStart, logger: logger, userSegments: DistributedALS.segments(rows: matrix.rows))
    let same = expected.userFactors.storage.map(\.bitPattern) == allUsers.map(\.bitPattern)
        && expected.itemFactors.storage.map(\.bitPattern) == result.items.storage.map(\.bitPattern)
    print("als \(name) \(same ? "identical" : "differs")")
}
