@testable import Consent
import Foundation
@testable import Ingest
@testable import Platform
import TestSupport
import XCTest
import ZIPFoundation

/// Hostile Slack exports: bombs, duplicated entries, broken day files, odd folder entries.
/// Each is a bad file with its lost messages counted, never a crash or a silent gap.
final class SlackHostileTests: XCTestCase {
    let dir = TemporaryDirectory()
    static let channels = #"[{"id":"C0GEN","name":"general"}]"#
    static let users = #"[{"id":"U0","team_id":"T0ACME"},{"id":"U1","team_id":"T0ACME"}]"#
    static func day(_ count: Int, from start: Int = 0) -> String {
        "[" + (0..<count).map { #"{"type":"message","user":"U0","text":"x","ts":"\#(1_793_491_400 + start + $0).000100"}"# }.joined(separator: ",") + "]"
    }

    /// A ZIP of (name, bytes) entries, in order (duplicates allowed).
    func zip(_ name: String, _ entries: [(String, Data)]) throws -> String {
        let path = dir.file(name)
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create, pathEncoding: nil)
        for (entry, data) in entries {
            try archive.addEntry(with: entry, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        return path
    }

    func read(_ path: String, maxFileBytes: Int = SlackExport.Options.defaultMaxFileBytes) throws -> (events: Int, outcome: SlackExport.Outcome) {
        var events = 0
        let outcome = try SlackExport(path: path, options: .init(maxFileBytes: maxFileBytes)).read(
            event: { (_: SlackExport.Event) throws(IngestError) in events += 1 },
            bad: { (_, _, _, _, _) throws(IngestError) in },
            badFile: { (_: DataUsage.BadFile) throws(IngestError) in })
        return (events, outcome)
    }

    func testABomb_isABadFile_boundedByTheCap_andTheRestIsRead() throws {
        let bomb = Data(repeating: 0x20, count: 8 << 20)  // 8 MiB of spaces: a few KiB deflated
        let path = try zip("bomb.zip", [
            ("channels.json", Data(Self.channels.utf8)), ("users.json", Data(Self.users.utf8)),
            ("general/2026-11-01.json", Data(Self.day(3).utf8)), ("general/2026-11-02.json", bomb),
        ])
        XCTAssertLessThan(try Data(contentsOf: URL(fileURLWithPath: path)).count, 64 << 10)
        let (events, outcome) = try read(path, maxFileBytes: 1 << 20)
        XCTAssertEqual(events, 3)
        XCTAssertEqual(outcome.badFiles.map(\.path), [path + ":folder-1/2026-11-02.json"], "folders by number: their names are channel names")
        XCTAssertTrue(outcome.badFiles[0].reason.contains("larger than 1048576 bytes"), outcome.badFiles[0].reason)
        XCTAssertNil(outcome.badFiles[0].messagesLost)
        // Under the default cap it is read (and is valid JSON whitespace only: not an array).
        XCTAssertEqual(try read(path).outcome.badFiles.first?.reason.hasPrefix("not a valid day file"), true)
    }

    func testAnEntryThatLiesAboutItsSize_isStillCapped() throws {
        let big = Data(repeating: 0x20, count: 4 << 20)
        let path = try zip("liar.zip", [
            ("channels.json", Data(Self.channels.utf8)), ("users.json", Data(Self.users.utf8)), ("general/2026-11-02.json", big),
        ])
        // Rewrite the declared size (central directory, offset 24) to 100 bytes.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let name = Data("general/2026-11-02.json".utf8)
        var search = bytes.startIndex
        while let header = bytes.range(of: Data([0x50, 0x4B, 0x01, 0x02]), in: search..<bytes.endIndex) {
            if bytes.subdata(in: header.lowerBound + 46..<header.lowerBound + 46 + name.count) == name {
                bytes.replaceSubrange(header.lowerBound + 24..<header.lowerBound + 28, with: [100, 0, 0, 0])
            }
            search = header.upperBound
        }
        try bytes.write(to: URL(fileURLWithPath: path))
        // Either the reader stops at the cap (a bad file) or the archive is refused as corrupt:
        // never 4 MiB held for a file declared at 100 bytes past a 1 MiB cap, never a crash.
        do {
            let (_, outcome) = try read(path, maxFileBytes: 1 << 20)
            XCTAssertEqual(outcome.badFiles.count, 1, "\(outcome.badFiles)")
        } catch let error as IngestError {
            guard case .unreadableFile = error else { return XCTFail("\(error)") }
        }
    }

    func testADuplicatedEntryName_isNotReadTwice() throws {
        let path = try zip("dup.zip", [
            ("channels.json", Data(Self.channels.utf8)), ("users.json", Data(Self.users.utf8)),
            ("general/2026-11-01.json", Data(Self.day(2).utf8)), ("general/2026-11-01.json", Data(Self.day(5, from: 10).utf8)),
            ("general/2026-11-02.json", Data(Self.day(1, from: 20).utf8)),
        ])
        let (events, outcome) = try read(path)
        XCTAssertEqual(events, 1, "neither copy of the duplicated day is read")
        XCTAssertEqual(outcome.badFiles.map(\.reason), ["the export holds 2 entries of this name; none is read"])
        // A duplicated users.json refuses the export: which one holds the truth cannot be told.
        let twice = try zip("users-twice.zip", [
            ("channels.json", Data(Self.channels.utf8)), ("users.json", Data(Self.users.utf8)), ("users.json", Data("[]".utf8)),
        ])
        XCTAssertThrowsError(try read(twice))
    }

    func testAMalformedDayFile_isABadFile_withTheMessagesItLost() throws {
        var broken = Self.day(3)
        broken.removeLast()  // drop "]"
        broken += #",{"type":"message","user":"U0","ts":"17"#
        let path = try zip("broken.zip", [
            ("channels.json", Data(Self.channels.utf8)), ("users.json", Data(Self.users.utf8)),
            ("general/2026-11-01.json", Data(broken.utf8)), ("general/2026-11-02.json", Data(Self.day(2, from: 5).utf8)),
        ])
        let (events, outcome) = try read(path)
        XCTAssertEqual(events, 2)
        XCTAssertEqual(outcome.badFiles.count, 1)
        XCTAssertEqual(outcome.badFiles[0].messagesLost, 4, "three whole messages and the broken one")
        // Through the event reader, the lost messages are bad rows and count against the limits.
        let reader = EventLogReader(options: IngestOptions(badRowLimit: BadRowLimit(maxCount: nil, maxFraction: nil), asOf: Timestamp.parse("2030-01-01T00:00:00Z")!),
                                    registry: try EventsFixture().registry(), pseudonymiser: Pseudonymiser(key: EventsFixture.key))
        let log = try reader.read([path], logger: .quiet)
        XCTAssertEqual(log.usage.badRows.counts[.badFile], 4)
        XCTAssertEqual(log.usage.rowsRead, 6)
        XCTAssertEqual(log.usage.badFiles.count, 1)
    }

    func testEntrySpellings_cannotHideADuplicate_andBackslashesReadAsFolders() throws {
        let day = Data(Self.day(2).utf8)
        let base: [(String, Data)] = [("channels.json", Data(Self.channels.utf8)), ("users.json", Data(Self.users.utf8))]
        for twin in ["/general/2026-11-01.json", "general//2026-11-01.json", "./general/2026-11-01.json", "general\\2026-11-01.json"] {
            let path = try zip("twin.zip", base + [("general/2026-11-01.json", day), (twin, day)])
            let (events, outcome) = try read(path)
            XCTAssertEqual(events, 0, twin)
            XCTAssertEqual(outcome.badFiles.map(\.reason), ["the export holds 2 entries of this name; none is read"], twin)
            try FileManager.default.removeItem(atPath: path)
        }
        // An export zipped with backslash separators reads like any other.
        let windows = try zip("windows.zip", base + [("general\\2026-11-01.json", day)])
        XCTAssertEqual(try read(windows).events, 2)
    }

    func testFilesThatAreNotDayFiles_areBadFiles_notReadAsDays() throws {
        let path = try zip("extra.zip", [
            ("channels.json", Data(Self.channels.utf8)), ("users.json", Data(Self.users.utf8)), ("integration_logs.json", Data("[]".utf8)),
            ("general/2026-11-01.json", Data(Self.day(2).utf8)), ("general/2026-11-01 (1).json", Data(Self.day(2).utf8)),
            ("general/deeper/2026-11-02.json", Data(Self.day(1).utf8)), ("__MACOSX/general/._2026-11-01.json", Data("x".utf8)),
        ])
        let (events, outcome) = try read(path)
        XCTAssertEqual(events, 2, "the copy is not read as a second day")
        XCTAssertEqual(outcome.badFiles.map { String($0.path.dropFirst(path.count + 1)) }, ["entry-3", "entry-5"], "named by place, never by name")
    }

    func testLostMessages_weighByWhatTheFilesHeld() throws {
        var broken = Self.day(50)
        broken.insert(contentsOf: #"{"text":"\q"},"#, at: broken.index(after: broken.startIndex))  // a bad escape first
        let path = try zip("lost.zip", [
            ("channels.json", Data(Self.channels.utf8)), ("users.json", Data(Self.users.utf8)),
            ("general/2026-11-01.json", Data(Self.day(3).utf8)), ("general/2026-11-02.json", Data(broken.utf8)),
            ("hidden/2026-11-01.json", Data(Self.day(40).utf8)),
        ])
        let (events, outcome) = try read(path)
        XCTAssertEqual(events, 3)
        XCTAssertEqual(outcome.badFiles.map(\.messagesLost), [51, 40])
        XCTAssertEqual(outcome.badFiles.map(\.kind), [.badFile, .unknownChannel])
        // Through the reader, 91 of 94 messages lost is far over the 1% limit.
        let reader = EventLogReader(options: IngestOptions(asOf: Timestamp.parse("2030-01-01T00:00:00Z")!),
                                    registry: try EventsFixture().registry(), pseudonymiser: Pseudonymiser(key: EventsFixture.key))
        XCTAssertThrowsError(try reader.read([path], logger: .quiet)) { error in
            guard case .tooManyBadRows(let summary, _) = error as? IngestError else { return XCTFail("\(error)") }
            XCTAssertTrue(summary.hasPrefix("91 bad rows"), summary)
        }
        XCTAssertEqual(SlackJSON.messageCount(Data(#"[{"a":[{"b":1}]},{"c":"}{"}, {"#.utf8)), 3)
    }

    func testARepeatedKeyOrReactor_neverCountsAMessageTwice() throws {
        let twice = #"[{"ts":"1793491400.000100","user":"U0","reactions":[{"name":"x","users":["U1"]}],"reactions":[{"name":"x","users":["U1"]}]}]"#
        let sameUser = #"[{"ts":"1793491400.000100","user":"U0","reactions":[{"name":"x","users":["U1","U1"]}]}]"#
        let path = try zip("keys.zip", [
            ("channels.json", Data(Self.channels.utf8)), ("users.json", Data(Self.users.utf8)),
            ("general/2026-11-01.json", Data(twice.utf8)), ("general/2026-11-02.json", Data(sameUser.utf8)),
        ])
        var kinds: [EventKind] = []
        let outcome = try SlackExport(path: path).read(
            event: { (e: SlackExport.Event) throws(IngestError) in kinds.append(e.kind) },
            bad: { (_, _, _, _, _) throws(IngestError) in }, badFile: { (_: DataUsage.BadFile) throws(IngestError) in })
        XCTAssertEqual(outcome.badFiles.map(\.reason), ["not a valid day file: a key appears twice"])
        XCTAssertEqual(kinds, [.post, .react], "one reaction per person")
    }

    func testAFolderInsideAChannelFolder_isOneBadEntry_asInItsZip() throws {
        let folder = dir.file("nested")
        try FileManager.default.createDirectory(atPath: folder + "/general/old/deeper", withIntermediateDirectories: true)
        for (name, text) in [("channels.json", Self.channels), ("users.json", Self.users), ("general/2026-11-01.json", Self.day(1)),
                             ("general/old/a.json", "[]"), ("general/old/deeper/b.json", "[]")] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: folder + "/" + name))
        }
        XCTAssertEqual(try read(folder).outcome.badFiles.count, 1)
    }

    func testAStoredEntryThatFailsItsCRC_isABadFile() throws {
        let path = dir.file("stored.zip")
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create, pathEncoding: nil)
        for (name, text) in [("channels.json", Self.channels), ("users.json", Self.users), ("general/2026-11-01.json", Self.day(2))] {
            let data = Data(text.utf8)
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .none) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let range = try XCTUnwrap(bytes.range(of: Data("1793491400".utf8)))
        bytes[range.lowerBound + 9] = 0x39  // …400 → …409: the bytes no longer match the CRC-32
        try bytes.write(to: URL(fileURLWithPath: path))
        let (events, outcome) = try read(path)
        XCTAssertEqual(events, 0)
        XCTAssertEqual(outcome.badFiles.map(\.reason), ["its bytes do not match the ZIP's CRC-32 (corrupt)"])
    }

    func testFolderExport_symbolicLinksAreNotFollowed_butCounted() throws {
        let folder = dir.file("linked")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(Self.channels.utf8).write(to: URL(fileURLWithPath: folder + "/channels.json"))
        try Data(Self.users.utf8).write(to: URL(fileURLWithPath: folder + "/users.json"))
        let real = dir.file("real-general")
        try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: true)
        try Data(Self.day(2).utf8).write(to: URL(fileURLWithPath: real + "/2026-11-01.json"))
        try FileManager.default.createSymbolicLink(atPath: folder + "/general", withDestinationPath: real)
        let (events, outcome) = try read(folder)
        XCTAssertEqual(events, 0)
        XCTAssertEqual(outcome.badFiles.map { String($0.path.dropFirst(folder.count + 1)) }, ["entry-2"])
    }

    func testFolderExport_aDayThatIsNotAFile_isABadFile_andTheChecksumMatchesTheZip() throws {
        let folder = dir.file("export")
        try FileManager.default.createDirectory(atPath: folder + "/general/2026-11-03.json", withIntermediateDirectories: true)
        try Data(Self.channels.utf8).write(to: URL(fileURLWithPath: folder + "/channels.json"))
        try Data(Self.users.utf8).write(to: URL(fileURLWithPath: folder + "/users.json"))
        try Data(Self.day(2).utf8).write(to: URL(fileURLWithPath: folder + "/general/2026-11-01.json"))
        let (events, outcome) = try read(folder)
        XCTAssertEqual(events, 2)
        XCTAssertEqual(outcome.badFiles.map(\.reason), ["not a regular file (symbolic links are not followed)"])
        // The same files as a ZIP have the same checksum (without the odd folder entry).
        try FileManager.default.removeItem(atPath: folder + "/general/2026-11-03.json")
        let zip = try zip("same.zip", [
            ("channels.json", Data(Self.channels.utf8)), ("users.json", Data(Self.users.utf8)), ("general/2026-11-01.json", Data(Self.day(2).utf8)),
        ])
        XCTAssertEqual(try read(folder).outcome.sha256, try read(zip).outcome.sha256)
        XCTAssertNotEqual(try read(folder).outcome.sha256, outcome.sha256)
    }
}
