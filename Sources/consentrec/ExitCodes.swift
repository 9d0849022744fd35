import ArgumentParser
import Consent
import Factorization
import Foundation
import Ingest
import Pipeline
import Publishing

/// Exit statuses, one table for every command (documented in docs/nightly.md).
enum ExitCodes {
    static let trainingFailed: Int32 = 1
    static let configError: Int32 = 2
    static let inputError: Int32 = 3
    static let consentOrKey: Int32 = 4
    static let gateFailed: Int32 = 5
    static let auditFailed: Int32 = 6
    static let ioFailure: Int32 = 7
    static let verificationFailed: Int32 = 7
    static let locked: Int32 = 8
    /// No run is current (withdrawn by a purge, now or earlier, or never published) and nothing new was published.
    static let nothingPublished: Int32 = 9

    /// The status for an error a command did not handle itself.
    static func status(for error: any Error) -> Int32 {
        switch error {
        case let e as NightlyError:
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
            }
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

    /// Runs a command's work, printing any error and exiting with its status from the table.
    static func mapped(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let exit as ExitCode {
            throw exit
        } catch let usage as ValidationError {
            throw usage  // a usage error found once the config is read: exit 64, as for any other
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(status(for: error))
        }
    }
}
