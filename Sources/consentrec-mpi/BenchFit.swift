import ArgumentParser
import ClusterMPI
import Factorization
import Foundation
import Linalg
import Logging
import SyntheticData

extension ConsentRecMPI {
    /// The global model's data-parallel fit alone, on a generated matrix every rank makes alike:
    /// how long a fit takes on this many ranks, against one process on rank 0 in the same job.
    struct BenchFit: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-fit",
            abstract: "Time the global model's fit across the ranks against one process, on a generated matrix.",
            discussion: """
                Every rank generates the same users × items matrix (power-law rows and columns, planted \
                communities), holds its person segments and fits it with DistributedALS; rank 0 then fits \
                the whole matrix alone and checks that both give the same bits. Prints the seconds of each, \
                with the CPU and BLAS kernels. See docs/scaling.md.
                """)

        @Option(help: "Users (rows).") var users = 200_000
        @Option(help: "Items (columns).") var items = 2_000
        @Option(help: "Non-zeros wanted.") var nonZeros = 2_000_000
        @Option(help: "Factors.") var factors = 32
        @Option(help: "Iterations.") var iterations = 10
        @Option(help: "Threads per rank.") var threads = 1

        func run() throws {
            let world = Communicator()
            let logger = Logger(label: "consentrec-mpi.bench-fit") { _ in SwiftLogNoOpLogHandler() }
            let matrix = SyntheticInteractions.generate(.init(users: users, items: items, nonZeros: nonZeros), seed: 42)
            var config = ALSConfiguration()
            config.factors = factors
            config.iterations = iterations
            config.threads = threads
            let segments = DistributedALS.segments(rows: matrix.rows)
            let shard = DistributedALS.Shard(of: matrix, rank: world.rank, ranks: world.size)
            let (start, itemStart) = try ImplicitALS.start(config, rows: matrix.rows, columns: matrix.columns, warmStart: nil)
            let userStart = shard.rows(of: start)
            // One process's fit first, at rank 0 (the others wait): both fits then run on memory
            // the process has already touched.
            let clock = ContinuousClock()
            let alone = clock.now
            let single = world.isLeader ? try ImplicitALS(configuration: config).fit(matrix, logger: logger, userSegments: segments) : nil
            let one = alone.duration(to: clock.now)
            _ = world.all(true)
            let began = clock.now
            let fit = try DistributedALS(configuration: config, collective: world)
                .fit(shard, users: userStart, items: itemStart, startsFromItems: false, logger: logger)
            _ = world.all(true)
            let distributed = began.duration(to: clock.now)
            let users = world.gather(fit.users.storage.withUnsafeBytes { Array($0) })
            guard let single else { return world.finish() }
            let gathered = users.flatMap { bytes in bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }
            let same = gathered.map(\.bitPattern) == single.userFactors.storage.map(\.bitPattern)
                && fit.items.storage.map(\.bitPattern) == single.itemFactors.storage.map(\.bitPattern)
            print("machine: \(BLASCore.summary)")
            print("matrix: \(matrix.rows) users × \(matrix.columns) items, \(matrix.nonZeros) non-zeros; f = \(factors), \(iterations) iterations, \(threads) thread(s) per rank")
            print(String(format: "ranks %d: distributed fit %.2f s; one process %.2f s; ratio %.2f; same bits: %@",
                         world.size, seconds(distributed), seconds(one), seconds(one) / seconds(distributed), same ? "yes" : "NO"))
            world.finish()
            if !same { throw ExitCode(1) }
        }

        private func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
    }
}
