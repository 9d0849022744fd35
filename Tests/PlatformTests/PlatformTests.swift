import Foundation
import Platform
import TestSupport
import XCTest

final class DigestTests: XCTestCase {
    func testSHA256_knownAnswers() {
        // FIPS 180-2 examples; `printf abc | sha256sum`.
        XCTAssertEqual(Digest.sha256(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Digest.sha256(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testStreamingDigest_equalsTheOneShotDigest_howeverTheBytesArrive() {
        let bytes = Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        var stream = StreamingDigest()
        var offset = 0
        for piece in [1, 7, 4096, 3, 10_000] where offset < bytes.count {
            let end = min(offset + piece, bytes.count)
            bytes[offset..<end].withUnsafeBytes { stream.update($0) }
            offset = end
        }
        XCTAssertEqual(stream.hex(), Digest.sha256(bytes))
    }

    func testHex_roundTripsAndRefusesWhatIsNotHex() {
        let bytes: [UInt8] = [0, 1, 0x7F, 0x80, 0xAB, 0xFF]
        XCTAssertEqual(Digest.hex(bytes), "00017f80abff")
        XCTAssertEqual(Digest.bytes(hex: "00017F80abFF"), bytes)
        XCTAssertNil(Digest.bytes(hex: "abc"), "odd length")
        XCTAssertNil(Digest.bytes(hex: "zz"))
        XCTAssertNil(Digest.bytes(hex: "+1"), "a sign is not a digit")
    }
}

final class POSIXTests: XCTestCase {
    let dir = TemporaryDirectory()

    func testErrno_namesTheCLibrarysMessage() {
        XCTAssertEqual(Errno.noSuchFile.description, "No such file or directory")
        XCTAssertThrowsError(try OpenFile.openForReading(dir.path + "/missing")) { error in
            XCTAssertEqual(error as? Errno, .noSuchFile)
        }
    }

    func testReadSmallFile_boundsAndKinds() throws {
        let path = dir.write("small", "0123456789")
        XCTAssertEqual(try POSIX.readSmallFile(path, maxBytes: 10), Array("0123456789".utf8))
        XCTAssertThrowsError(try POSIX.readSmallFile(path, maxBytes: 9)) { XCTAssertEqual($0 as? SmallFileError, .tooLarge(maxBytes: 9)) }
        XCTAssertThrowsError(try POSIX.readSmallFile(dir.path, maxBytes: 100)) {
            XCTAssertEqual($0 as? SmallFileError, .notARegularFile(.directory))
        }
        let fifo = dir.path + "/fifo"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        // Opened non-blocking and refused by its kind: a FIFO with no writer cannot stall the read.
        XCTAssertThrowsError(try POSIX.readSmallFile(fifo, maxBytes: 100)) { XCTAssertEqual($0 as? SmallFileError, .notARegularFile(.fifo)) }
        XCTAssertThrowsError(try POSIX.readSmallFile(dir.path + "/none", maxBytes: 100)) {
            XCTAssertEqual($0 as? SmallFileError, .system(.noSuchFile))
        }
    }

    func testCreateNew_neverOpensAnExistingFileOrFollowsALink() throws {
        let target = dir.write("target", "keep")
        let link = dir.path + "/link"
        try POSIX.symlink(target, at: link)
        XCTAssertThrowsError(try OpenFile.createNew(link))
        XCTAssertThrowsError(try OpenFile.createNew(target))
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "keep")
        XCTAssertEqual(try POSIX.linkStatus(link).kind, .symbolicLink)
        try POSIX.unlink(link)
        try POSIX.unlink(link)  // a missing name is not an error
        XCTAssertFalse(POSIX.exists(link))
    }

    func testWriteRenameAndLock() throws {
        let path = dir.path + "/new"
        let file = try OpenFile.createNew(path)
        try Data("hello".utf8).withUnsafeBytes { try file.writeAll($0) }
        try file.sync()
        file.close()
        try POSIX.rename(path, to: path + ".done")
        XCTAssertEqual(try POSIX.readSmallFile(path + ".done", maxBytes: 5), Array("hello".utf8))
        XCTAssertThrowsError(try POSIX.rename(path, to: path + ".again")) { XCTAssertEqual($0 as? Errno, .noSuchFile) }

        let first = try OpenFile.openLockFile(dir.path + "/.lock")
        let second = try OpenFile.openLockFile(dir.path + "/.lock")
        XCTAssertTrue(first.tryLockExclusive())
        XCTAssertFalse(second.tryLockExclusive(), "flock locks belong to the open file: a second open cannot take it")
        first.unlock()
        XCTAssertTrue(second.tryLockExclusive())
        first.close()
        second.close()
    }

    func testGlob_matchesOrSaysNothingMatched() {
        _ = dir.write("a-1.csv", "")
        _ = dir.write("a-2.csv", "")
        XCTAssertEqual(POSIX.glob(dir.path + "/a-*.csv")?.sorted(), [dir.path + "/a-1.csv", dir.path + "/a-2.csv"])
        XCTAssertNil(POSIX.glob(dir.path + "/b-*.csv"))
    }
}
