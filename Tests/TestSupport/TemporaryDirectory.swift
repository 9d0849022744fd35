import Foundation

/// A fresh directory under the system's temporary directory, removed when the test ends.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init() {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("consentrec-test-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `contents` to `name` in this directory and returns its path.
    @discardableResult
    public func write(_ name: String, _ contents: String) -> String {
        write(name, Data(contents.utf8))
    }

    @discardableResult
    public func write(_ name: String, _ data: Data) -> String {
        let file = (path as NSString).appendingPathComponent(name)
        try! data.write(to: URL(fileURLWithPath: file))
        return file
    }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
}
