import Foundation

/// Runs a built executable of this package and collects what it did.
public struct CommandResult {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

public enum CommandRunner {
    /// The folder holding the built products (`.build/debug` or `.build/release`).
    public static var productsDirectory: URL {
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL
    }

    /// Starts a product of this package with its output discarded, for a test that kills it.
    public static func start(_ name: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent(name)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs `name` with `arguments` and an optional environment, waiting for it to finish.
    /// With `absolute`, `name` is a path to any executable rather than a product of this package.
    public static func run(_ name: String, _ arguments: [String], environment: [String: String]? = nil, absolute: Bool = false) throws -> CommandResult {
        let process = Process()
        process.executableURL = absolute ? URL(fileURLWithPath: name) : productsDirectory.appendingPathComponent(name)
        process.arguments = arguments
        if let environment { process.environment = environment }
        // Standard error goes to a file so that neither stream can fill up and block the child.
        let errorPath = NSTemporaryDirectory() + "consentrec-stderr-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errorPath) }
        let errorFile = FileHandle(forWritingAtPath: errorPath)!
        let out = Pipe()
        process.standardOutput = out
        process.standardError = errorFile
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try errorFile.close()
        let errData = FileManager.default.contents(atPath: errorPath) ?? Data()
        return CommandResult(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}
