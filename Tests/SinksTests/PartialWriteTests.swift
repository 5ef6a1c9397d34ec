// What a real disk does only when it fills up, scripted: a frame cut short by ENOSPC is cut back
// off so the stream ends on a whole JPEG; a JPEG whose index line fails is removed too; EINTR
// and short writes are retried until the frame is whole.

import Capture
import Foundation
import Frames
import Redaction
@testable import Sinks
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Counts and scripts the writes of one file.
private final class WriteScript {
    var calls = 0
}

@Suite struct PartialWriteTests {
    private func frames(_ path: String) throws -> (count: Int, corrupt: UInt64) {
        let source = try MJPEGFileSource(path: path, pacing: .freeRunning)
        var count = 0
        while try source.nextFrame() != nil { count += 1 }
        return (count, source.counters.corrupt)
    }

    @Test func aFrameCutShortByAFullDiskIsCutBackOff() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("out.mjpeg")
        let writer = try MJPEGStreamWriter(path: path)
        let pool = testPool(width: 64, height: 48)
        try writer.write(redactedPattern(pool, format: .i420, width: 64, height: 48, index: 0))
        let firstLength = try fileBytes(path).count

        // Half the next JPEG reaches the disk, then the disk is full.
        let script = WriteScript()
        writer.stream.writeCall = { descriptor, base, count in
            script.calls += 1
            if script.calls == 1 { return systemWrite(descriptor, base, count / 2) }
            errno = ENOSPC
            return -1
        }
        do {
            try writer.write(redactedPattern(pool, format: .i420, width: 64, height: 48, index: 1))
            Issue.record("the scripted full disk did not fail the write")
        } catch {
            #expect(error.reason.contains("errno \(ENOSPC)") && error.reason.contains("cut off"), "\(error)")
        }
        #expect(try fileBytes(path).count == firstLength, "the half-written JPEG is gone")
        #expect(writer.statistics.errors == 1)

        // Space comes back: the stream goes on from the last whole frame.
        writer.stream.writeCall = systemWrite
        try writer.write(redactedPattern(pool, format: .i420, width: 64, height: 48, index: 2))
        try writer.close()
        #expect(try MJPEGStreamWriter.readIndex(path: path + ".index").map(\.sequence) == [0, 2])
        let played = try frames(path)
        #expect(played.count == 2 && played.corrupt == 0)
    }

    @Test func aJPEGWhoseIndexLineFailsIsRemovedToo() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("out.mjpeg")
        let writer = try MJPEGStreamWriter(path: path)
        let pool = testPool(width: 64, height: 48)
        try writer.write(redactedPattern(pool, format: .i420, width: 64, height: 48, index: 0))
        let firstLength = try fileBytes(path).count
        let indexLength = try fileBytes(path + ".index").count

        writer.index.writeCall = { descriptor, base, count in
            // A few bytes of the line, then EIO.
            if count > 3 { return systemWrite(descriptor, base, 3) }
            errno = EIO
            return -1
        }
        do {
            try writer.write(redactedPattern(pool, format: .i420, width: 64, height: 48, index: 1))
            Issue.record("the scripted index failure did not fail the write")
        } catch {
            #expect(error.path == path + ".index")
            #expect(error.errno == EIO)
            #expect(error.reason.contains("errno \(EIO)") && error.reason.contains(path), "\(error)")
        }
        #expect(try fileBytes(path).count == firstLength, "the JPEG without an index line is gone")
        #expect(try fileBytes(path + ".index").count == indexLength, "the partial index line is gone")

        writer.index.writeCall = systemWrite
        try writer.write(redactedPattern(pool, format: .i420, width: 64, height: 48, index: 2))
        try writer.close()
        let index = try MJPEGStreamWriter.readIndex(path: path + ".index")
        #expect(index.map(\.sequence) == [0, 2])
        #expect(index.last.map { $0.offset + $0.length } == Int64(try fileBytes(path).count))
        #expect(try frames(path).count == 2)
    }

    @Test func interruptedAndShortWritesAreRetriedUntilTheFrameIsWhole() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("out.mjpeg")
        let writer = try MJPEGStreamWriter(path: path)
        let script = WriteScript()
        writer.stream.writeCall = { descriptor, base, count in
            script.calls += 1
            if script.calls % 2 == 0 {
                errno = EINTR
                return -1
            }
            return systemWrite(descriptor, base, min(count, 100))
        }
        let pool = testPool(width: 64, height: 48)
        try writer.write(redactedPattern(pool, format: .i420, width: 64, height: 48, index: 0))
        try writer.close()
        let length = try fileBytes(path).count
        #expect(script.calls >= 2 * (length / 100), "the frame went out in many short writes")
        #expect(try frames(path).count == 1)
        #expect(writer.statistics.errors == 0)
    }
}
