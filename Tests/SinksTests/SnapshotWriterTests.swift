// Snapshots: the cadence in capture time (first frame, then one per interval, no drift), names by
// sequence, pruning to the newest `keep` including snapshots left by an earlier run, leftover
// temporary files removed, a clock that jumps back, and errors that cost one per interval.

import Foundation
import Frames
import Redaction
import Sinks
import Testing

@Suite struct SnapshotWriterTests {
    @Test func oneSnapshotPerIntervalOfCaptureTimeKeepingTheNewest() throws {
        let folder = try SinkTemporaryFolder()
        let writer = try SnapshotWriter(folder: folder.path, intervalSeconds: 1, quality: 80, keep: 2)
        let pool = testPool(width: 64, height: 48)
        let start = ContinuousClock.now
        // 15 fps for 3.5 seconds: frame times are multiples of 1/15 s.
        var written: [UInt64] = []
        for index in 0..<53 {
            let time = start + .nanoseconds(Int64(index) * 1_000_000_000 / 15)
            let before = writer.statistics.framesWritten
            try writer.write(redactedPattern(pool, format: .i420, width: 64, height: 48, index: UInt64(index), captureTime: time))
            if writer.statistics.framesWritten > before { written.append(UInt64(index)) }
        }
        // Due at 0, 1, 2 and 3 s: frames 0, 15, 30, 45 (exactly on the second).
        #expect(written == [0, 15, 30, 45])
        #expect(writer.statistics.framesNotDue == 49)
        #expect(writer.statistics.filesDeleted == 2)
        #expect(try folder.names() == [SnapshotWriter.fileName(sequence: 30), SnapshotWriter.fileName(sequence: 45)])
        #expect(SnapshotWriter.fileName(sequence: 45) == "snapshot-000000000045.jpg")
        #expect(writer.snapshots == [SnapshotWriter.fileName(sequence: 30), SnapshotWriter.fileName(sequence: 45)])
        let decoded = try decodeJPEG(try fileBytes(folder.file(SnapshotWriter.fileName(sequence: 45))))
        #expect(decoded.width == 64 && decoded.height == 48)
        #expect(isSinkFileMode(try permissions(folder.file(SnapshotWriter.fileName(sequence: 45)))))
    }

    @Test func theCadenceDoesNotDriftWithAnUnevenFrameRate() throws {
        let folder = try SinkTemporaryFolder()
        let writer = try SnapshotWriter(folder: folder.path, intervalSeconds: 1, keep: 100)
        let pool = testPool(width: 16, height: 16)
        let start = ContinuousClock.now
        // Frames every 0.7 s: due times 0, 1, 2, 3, 4 are met by frames at 0, 1.4, 2.1, 3.5, 4.2.
        var written: [Int] = []
        for index in 0..<7 {
            let before = writer.statistics.framesWritten
            try writer.write(redactedPattern(pool, format: .gray8, width: 16, height: 16, index: UInt64(index),
                                             captureTime: start + .milliseconds(700 * index)))
            if writer.statistics.framesWritten > before { written.append(index) }
        }
        #expect(written == [0, 2, 3, 5, 6])
    }

    @Test func snapshotsFromAnEarlierRunArePrunedFirstAndTemporaryFilesRemoved() throws {
        let folder = try SinkTemporaryFolder()
        // An earlier run got further in its sequence; its files are older all the same.
        let old = [SnapshotWriter.fileName(sequence: 900), SnapshotWriter.fileName(sequence: 901)]
        for (offset, name) in old.enumerated() {
            #expect(FileManager.default.createFile(atPath: folder.file(name), contents: Data([0xFF, 0xD8])))
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: Double(-3600 + offset))],
                                                  ofItemAtPath: folder.file(name))
        }
        #expect(FileManager.default.createFile(atPath: folder.file(".snapshot-000000000902.jpg.tmp"), contents: Data([1])))
        #expect(FileManager.default.createFile(atPath: folder.file("notes.txt"), contents: Data([1])))
        let writer = try SnapshotWriter(folder: folder.path, intervalSeconds: 5, keep: 2)
        #expect(writer.snapshots == old)
        #expect(try folder.names() == ["notes.txt"] + old, "the leftover temporary file is gone")

        let pool = testPool(width: 16, height: 16)
        let start = ContinuousClock.now
        try writer.write(redactedPattern(pool, format: .gray8, width: 16, height: 16, index: 0, captureTime: start))
        #expect(try folder.names() == ["notes.txt", SnapshotWriter.fileName(sequence: 0), old[1]])
        try writer.write(redactedPattern(pool, format: .gray8, width: 16, height: 16, index: 1, captureTime: start + .seconds(5)))
        #expect(try folder.names() == ["notes.txt", SnapshotWriter.fileName(sequence: 0), SnapshotWriter.fileName(sequence: 1)])
        #expect(writer.statistics.filesDeleted == 2)
    }

    @Test func aFolderOverTheLimitIsPrunedAtStart() throws {
        let folder = try SinkTemporaryFolder()
        let names = (0..<5).map { SnapshotWriter.fileName(sequence: UInt64($0)) }
        for (offset, name) in names.enumerated() {
            #expect(FileManager.default.createFile(atPath: folder.file(name), contents: Data([0xFF, 0xD8])))
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: Double(offset - 100))],
                                                  ofItemAtPath: folder.file(name))
        }
        let writer = try SnapshotWriter(folder: folder.path, intervalSeconds: 1, keep: 2)
        #expect(try folder.names() == Array(names.suffix(2)))
        #expect(writer.statistics.filesDeleted == 3)
    }

    @Test func aCaptureClockThatJumpsBackRestartsTheCadence() throws {
        let folder = try SinkTemporaryFolder()
        let writer = try SnapshotWriter(folder: folder.path, intervalSeconds: 10, keep: 5)
        let pool = testPool(width: 16, height: 16)
        let start = ContinuousClock.now
        try writer.write(redactedPattern(pool, format: .gray8, width: 16, height: 16, index: 0, captureTime: start + .seconds(100)))
        try writer.write(redactedPattern(pool, format: .gray8, width: 16, height: 16, index: 1, captureTime: start + .seconds(101)))
        // A new source whose clock is far behind: without a restart it would wait 100 s.
        try writer.write(redactedPattern(pool, format: .gray8, width: 16, height: 16, index: 2, captureTime: start))
        try writer.write(redactedPattern(pool, format: .gray8, width: 16, height: 16, index: 3, captureTime: start + .seconds(1)))
        #expect(writer.statistics.framesWritten == 2)
        #expect(writer.snapshots == [SnapshotWriter.fileName(sequence: 0), SnapshotWriter.fileName(sequence: 2)])
    }

    @Test func aFailedSnapshotIsCountedOncePerInterval() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("snaps")
        let writer = try SnapshotWriter(folder: path, intervalSeconds: 1, keep: 3)
        try FileManager.default.removeItem(atPath: path)
        let pool = testPool(width: 16, height: 16)
        let start = ContinuousClock.now
        var thrown = 0
        for index in 0..<20 {  // two seconds at 10 fps
            do {
                try writer.write(redactedPattern(pool, format: .gray8, width: 16, height: 16, index: UInt64(index),
                                                 captureTime: start + .milliseconds(100 * index)))
            } catch {
                thrown += 1
                #expect(error.reason.contains("errno"))
            }
        }
        #expect(thrown == 2)
        #expect(writer.statistics.errors == 2)
        #expect(writer.statistics.framesWritten == 0)
    }

    @Test func badParametersAreRefused() throws {
        let folder = try SinkTemporaryFolder()
        #expect(throws: SinkError.self) { try SnapshotWriter(folder: folder.path, intervalSeconds: 0) }
        #expect(throws: SinkError.self) { try SnapshotWriter(folder: folder.path, intervalSeconds: .nan) }
        #expect(throws: SinkError.self) { try SnapshotWriter(folder: folder.path, intervalSeconds: 1, keep: 0) }
        #expect(throws: SinkError.self) { try SnapshotWriter(folder: folder.path, intervalSeconds: 1, quality: 101) }
        #expect(throws: SinkError.self) { try SnapshotWriter(folder: folder.file("x/y"), intervalSeconds: 1) }
    }
}
