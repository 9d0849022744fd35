/// Errors about model files, runs and the output root, each saying what to do.
public enum PublishingError: Error, Equatable, CustomStringConvertible {
    case corruptModel(path: String, reason: String)
    case checksumMismatch(path: String, expected: String, actual: String)
    case missingFile(path: String)
    case notARun(path: String, reason: String)
    /// An output root with no current run: the consent purge withdrew every run, or none was
    /// ever published.
    case nothingPublished(root: String)
    case locked(root: String, holder: String)
    case ioFailure(path: String, reason: String)
    case unknownWorkspace(run: String)
    case pseudonymScheme(path: String, found: Int, expected: Int)
    /// The run's seal does not hold: the manifest was edited, or sealed under another key.
    case tampered(path: String, reason: String)
    /// A file in a run directory that its manifest does not list.
    case unlistedFile(path: String)

    public var description: String {
        switch self {
        case .corruptModel(let path, let reason):
            "\(path): not a valid model file: \(reason)"
        case .checksumMismatch(let path, let expected, let actual):
            "\(path): checksum mismatch: the manifest records sha256 \(expected), the file has \(actual) (corrupted or modified)"
        case .missingFile(let path):
            "\(path): listed in the manifest but missing"
        case .notARun(let path, let reason):
            "\(path): not a ConsentRec run: \(reason)"
        case .nothingPublished(let root):
            "\(root): NOTHING IS PUBLISHED here: no run is current (the consent purge withdrew every run, or none was ever published)"
        case .locked(let root, let holder):
            "\(root): another run holds the lock (\(holder)); wait for it to finish, nothing was changed"
        case .ioFailure(let path, let reason):
            "\(path): \(reason)"
        case .pseudonymScheme(let path, let found, let expected):
            "\(path): the run was written under pseudonym scheme \(found); this version uses scheme \(expected), so its "
                + "pseudonyms cannot be checked against the registry. It is treated as failing the audit: the next `train` or "
                + "`run` on this output root (or `consentrec purge`) withdraws it. See docs/privacy.md, \"Migrating pseudonyms\""
        case .tampered(let path, let reason):
            "\(path): the run fails its seal: \(reason)"
        case .unlistedFile(let path):
            "\(path): a file the run's manifest does not list (added after the run was written?)"
        case .unknownWorkspace(let run):
            "\(run): no model for this workspace in the run (it may have opted out, been excluded by thresholds, or have no data)"
        }
    }
}
