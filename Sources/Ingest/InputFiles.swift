import Foundation
import Platform

/// Expands input arguments (paths or glob patterns) into the files that form one log.
public enum InputFiles {
    /// Each argument is a path, or a pattern with `*`, `?` or `[`; matches are sorted so the
    /// log's order does not depend on the directory listing.
    /// - Throws: `IngestError.noInputFiles` for a pattern matching nothing,
    ///   `IngestError.unreadableFile` for a missing path.
    public static func expand(_ arguments: [String]) throws(IngestError) -> [String] {
        var files: [String] = []
        for argument in arguments {
            if argument.contains(where: { "*?[".contains($0) }) {
                guard let found = POSIX.glob(argument) else { throw .noInputFiles(pattern: argument) }
                files.append(contentsOf: found.sorted())
            } else {
                // A folder is accepted too (an unpacked Slack export).
                guard FileManager.default.fileExists(atPath: argument) else {
                    throw .unreadableFile(path: argument, reason: "no such file")
                }
                files.append(argument)
            }
        }
        return try distinct(files)
    }

    /// Refuses a file named twice, under any spelling of its path (`a.csv`, `./a.csv`, a
    /// symlink, a glob that matches a listed file): its rows would be counted twice.
    static func distinct(_ files: [String]) throws(IngestError) -> [String] {
        var seen: [String: String] = [:]
        for file in files {
            let canonical = URL(fileURLWithPath: file).resolvingSymlinksInPath().standardizedFileURL.path
            if let first = seen[canonical] {
                throw .unreadableFile(path: file, reason: "the same file as \(first), listed twice; its rows would be counted twice")
            }
            seen[canonical] = file
        }
        return files
    }
}
