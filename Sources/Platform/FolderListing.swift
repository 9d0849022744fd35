import Foundation

/// Every entry under a folder, by path relative to it, without following symbolic links, and
/// every folder that could not be listed — never skipped in silence (a folder that cannot be
/// read would otherwise hide what is in it from a count or an audit).
public struct FolderListing: Sendable {
    public enum Kind: Sendable, Equatable { case file, folder, link, other }

    public private(set) var entries: [(name: String, kind: Kind)] = []
    /// Folders whose contents could not be listed (relative paths, or "." for the folder itself).
    public private(set) var unreadable: [String] = []

    /// - Parameter descend: whether to list inside a folder found at this relative path.
    public init(_ path: String, descend: (String) -> Bool = { _ in true }) {
        let base = URL(fileURLWithPath: path).standardizedFileURL
        final class Failures: @unchecked Sendable { var paths: [String] = [] }
        let failures = Failures()
        let keys: [URLResourceKey] = [.isSymbolicLinkKey, .isDirectoryKey, .isRegularFileKey]
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: keys, options: [], errorHandler: {
            url, _ in failures.paths.append(url.standardizedFileURL.path); return true
        }) else {
            unreadable = ["."]
            return
        }
        for case let url as URL in walker {
            let name = Self.relative(url.standardizedFileURL.path, to: base.path)
            let values = try? url.resourceValues(forKeys: Set(keys))
            let kind: Kind = values?.isSymbolicLink == true ? .link
                : values?.isDirectory == true ? .folder : values?.isRegularFile == true ? .file : .other
            entries.append((name, kind))
            if kind == .folder && !descend(name) { walker.skipDescendants() }
        }
        unreadable = failures.paths.map { Self.relative($0, to: base.path) }
    }

    static func relative(_ path: String, to base: String) -> String {
        path == base ? "." : path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : path
    }
}
