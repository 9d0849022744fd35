import Consent
import Foundation

/// How an interaction log is read and filtered.
public struct IngestOptions: Sendable, Hashable {
    /// The format of every file; nil to tell each file's format from its name.
    public var format: EventFormat?
    /// Columns outside the schema to skip unread. Any other unknown column refuses the file.
    public var ignoredColumns: Set<String>
    public var badRowLimit: BadRowLimit
    /// Longest accepted id, event or emoji field, in bytes. Default 256.
    public var maxFieldBytes: Int
    public var policy: ConsentPolicy
    /// The run's "now", Unix seconds: later events are dropped as future.
    public var asOf: Int64
    /// Events older than this many days before `asOf` are dropped; nil keeps all. At most
    /// `maxRetentionDays`.
    public var retentionDays: Int?
    /// A hundred years: the longest retention window accepted.
    public static let maxRetentionDays = 36_500

    /// The oldest time the retention window keeps, or nil without one; never an overflow.
    public var oldestAllowed: Int64? { retentionDays.map { Self.oldest(asOf: asOf, retentionDays: $0) } }

    /// `asOf` less `retentionDays` days, clamped at the smallest time.
    public static func oldest(asOf: Int64, retentionDays: Int) -> Int64 {
        let (window, overflow) = Int64(retentionDays).multipliedReportingOverflow(by: 86_400)
        let (oldest, under) = asOf.subtractingReportingOverflow(window)
        return overflow || under ? Int64.min : oldest
    }
    /// Keep the raw channel ids in memory (`EventLog.displayChannelIDs`) so a command can
    /// show the operator their own ids in the terminal. Off by default; never written anywhere.
    public var keepChannelIDsForDisplay = false
    /// How Slack exports (`format` `slack-export`) are read.
    public var slack = SlackExport.Options()
    /// Threads that parse a CSV, TSV or JSON Lines file (one more reads and checksums it).
    /// The result does not depend on it. Default: the machine's active processor count.
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Bytes per block the threads parse; small values are for tests.
    var blockBytes = 16 << 20

    public init(
        format: EventFormat? = nil, ignoredColumns: Set<String> = [], badRowLimit: BadRowLimit = BadRowLimit(),
        maxFieldBytes: Int = 256, policy: ConsentPolicy = .optOut, asOf: Int64, retentionDays: Int? = nil
    ) {
        self.format = format
        self.ignoredColumns = ignoredColumns
        self.badRowLimit = badRowLimit
        self.maxFieldBytes = maxFieldBytes
        self.policy = policy
        self.asOf = asOf
        self.retentionDays = retentionDays
    }
}

/// Progress of a read, for progress bars and log lines.
public struct IngestProgress: Sendable {
    public let file: String
    public let fileIndex: Int
    public let files: Int
    public let rowsRead: Int
    public let eventsKept: Int
}
