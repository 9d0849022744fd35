import Consent

/// What a read took in and what each filter took out: the files, the rows, the bad rows, and
/// the events removed by consent and retention. Counts only — no raw id, no pseudonym. What
/// each matrix then removed is `MatrixUsage` (module Interactions); together they are the
/// run manifest's `usage`.
public struct DataUsage: Sendable, Equatable, Codable {
    public struct FileUsage: Sendable, Equatable, Codable {
        public let path: String
        public let format: EventFormat
        public let gzip: Bool
        /// Data rows (header excluded), good and bad.
        public var rows: Int
        /// Empty lines stepped over. Header + rows + blank lines = every line of the file.
        public var blankLines: Int
        /// SHA-256 of the bytes read, taken while reading (for a Slack export, of the entries
        /// read: see `SlackExport`).
        public var sha256: String
        /// SHA-256 of the content once decompressed (the same as `sha256` for a plain file):
        /// two inputs with the same content refuse the run, whatever their encoding.
        public var contentSHA256: String
    }

    /// A file that could not be read as a whole and was left out (a malformed or oversized
    /// Slack day file). Its messages are also counted among the bad rows.
    public struct BadFile: Sendable, Equatable, Codable {
        public let path: String
        /// `bad_file`, or `unknown_channel` for a day file of a channel channels.json lacks.
        public let kind: BadRowKind
        public let reason: String
        /// Messages lost with it, as far as they can be counted (a malformed file: the objects
        /// its message array appears to hold, at least one); nil when the file was not read.
        public let messagesLost: Int?
    }

    public var files: [FileUsage] = []
    public var rowsRead = 0
    public var badRows = BadRowReport()
    public var badFiles: [BadFile] = []
    public var policy: ConsentPolicy
    public var eventsRemovedByConsent: [ConsentExclusion: Int] = [:]
    public var workspacesRemovedByConsent: [ConsentExclusion: Int] = [:]
    /// Older than the retention window.
    public var eventsRemovedByRetention = 0
    /// Later than the as-of time.
    public var eventsRemovedAsFuture = 0
    public var eventsKept = 0
    public var workspacesKept = 0
    public var usersKept = 0
    public var channelsKept = 0
    public var emojiKept = 0
    /// Slack exports only: messages left out on purpose (bots, deleted users, system messages).
    public var slackSkipped: SlackExport.Skipped?

    public init(policy: ConsentPolicy) { self.policy = policy }
}

extension ConsentExclusion: CodingKeyRepresentable {}
extension BadRowKind: CodingKeyRepresentable {}
