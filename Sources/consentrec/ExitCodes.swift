import ArgumentParser
import Consent
import Factorization
import Foundation
import Ingest
import Pipeline
import Publishing

/// Exit statuses: the table is `Pipeline.ExitStatus`, shared with `consentrec-mpi`.
enum ExitCodes {
    static let trainingFailed = ExitStatus.trainingFailed
    static let configError = ExitStatus.configError
    static let inputError = ExitStatus.inputError
    static let consentOrKey = ExitStatus.consentOrKey
    static let gateFailed = ExitStatus.gateFailed
    static let auditFailed = ExitStatus.auditFailed
    static let ioFailure = ExitStatus.ioFailure
    static let verificationFailed = ExitStatus.verificationFailed
    static let locked = ExitStatus.locked
    static let nothingPublished = ExitStatus.nothingPublished

    static func status(for error: any Error) -> Int32 { ExitStatus.of(error) }

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
