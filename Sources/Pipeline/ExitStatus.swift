import Consent
import Factorization
import Ingest
import Publishing

/// Exit statuses, one table for every command of `consentrec` and `consentrec-mpi`
/// (the table is `table`, documented in docs/nightly.md#exit-statuses).
public enum ExitStatus {
    public static let trainingFailed: Int32 = 1
    public static let configError: Int32 = 2
    public static let inputError: Int32 = 3
    public static let consentOrKey: Int32 = 4
    public static let gateFailed: Int32 = 5
    public static let auditFailed: Int32 = 6
    public static let ioFailure: Int32 = 7
    public static let verificationFailed: Int32 = 7
    public static let locked: Int32 = 8
    /// No run is current (withdrawn by a purge, now or earlier, or never published) and nothing new was published.
    public static let nothingPublished: Int32 = 9
    /// Bad command-line arguments (ArgumentParser's usage status).
    public static let usage: Int32 = 64

    /// Every status a command exits with, in the words the help texts, README.md and the table
    /// of docs/nightly.md all begin with (a test holds the three to this list).
    public static let table: [(status: Int32, meaning: String)] = [
        (0, "published"), (trainingFailed, "training failed"), (configError, "config error"), (inputError, "input error"),
        (consentOrKey, "consent or key failure"), (gateFailed, "no model passed its gate"), (auditFailed, "privacy audit failed"),
        (ioFailure, "I/O failure"), (locked, "another run holds the lock"), (nothingPublished, "nothing is published"),
        (usage, "bad command-line arguments"),
    ]

    /// The table in one line: "0 published, 1 training failed, …".
    public static var summary: String { table.map { "\($0.status) \($0.meaning)" }.joined(separator: ", ") }

    /// The status for an error a command did not handle itself.
    public static func of(_ error: any Error) -> Int32 {
        switch error {
        case let e as NightlyError: of(e)
        case is ConfigError: configError
        case is ConsentError, is KeyError: consentOrKey
        case is IngestError: inputError
        case let e as PublishingError:
            switch e {
            case .locked: locked
            case .pseudonymScheme: auditFailed
            case .nothingPublished: nothingPublished
            default: ioFailure
            }
        case is TrainingError: trainingFailed
        case let e as UserRecommendation.Failure:
            switch e {
            case .excluded, .modelNotAllowed: consentOrKey
            case .noModel, .noEvents, .invalidID: inputError
            }
        default: ioFailure
        }
    }

    static func of(_ e: NightlyError) -> Int32 {
        switch e {
        case .config: configError
        case .consent: consentOrKey
        case .input: inputError
        case .locked: locked
        case .gate: gateFailed
        case .withdrawn: nothingPublished
        case .audit: auditFailed
        case .training: trainingFailed
        case .io: ioFailure
        case .otherRank(_, let status, _): status
        }
    }
}
