import Consent
import Ingest

extension Provenance {
    /// The provenance of the events at `indices` of `log`, or nil for none.
    static func of(_ indices: some Collection<Int>, in log: EventLog) -> Provenance? {
        guard let first = indices.first else { return nil }
        var workspaces = Set<Int32>()
        var oldest = log.timestamps[first], newest = oldest
        for i in indices {
            workspaces.insert(log.workspaces[i])
            oldest = min(oldest, log.timestamps[i])
            newest = max(newest, log.timestamps[i])
        }
        return Provenance(workspaces: workspaces.map { log.vocabulary.workspaces[Int($0)] }.sorted(), oldestEvent: oldest, newestEvent: newest)
    }
}
