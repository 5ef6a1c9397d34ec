// The redacted MJPEG stream: written, then read back by Capture's MJPEG source and decoded; the
// index against the file; every raw format; dropped compressed frames; size changes; file
// permissions; no per-frame allocation; and write errors (full disk, missing folder, a file that
// cannot be written) reported as SinkError and counted, with the file left whole.

import Capture
import Codec
import Foundation
import Frames
import Redaction
import Sinks
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct MJPEGStreamWriterTests {
    @Test func streamReadsBackThroughTheMJPEGSourceAndMatchesItsIndex() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("out.mjpeg")
        let width = 320, height = 240
        let pool = testPool(width: width, height: height)
        let writer = try MJPEGStreamWriter(path: path, quality: 90)
        let start = ContinuousClock.now
        var expected: [[[UInt8]]] = []
        for index in 0..<5 {
            let frame = redactedPattern(pool, format: .i420, width: width, height: height, index: UInt64(10 + index),
                                        captureTime: start + .milliseconds(100 * index))
            expected.append(planarSamples(frame))
            try writer.write(frame)
        }
        try writer.close()
        #expect(writer.statistics.framesWritten == 5)
        #expect(writer.statistics.errors == 0)

        let stream = try fileBytes(path)
        let index = try MJPEGStreamWriter.readIndex(path: path + ".index")
        #expect(index.map(\.sequence) == [10, 11, 12, 13, 14])
        #expect(index.map(\.captureMilliseconds) == [0, 100, 200, 300, 400])
        // Contiguous from 0 to the end of the file, each slice one whole JPEG.
        var offset: Int64 = 0
        for entry in index {
            #expect(entry.offset == offset)
            let slice = stream[Int(entry.offset)..<Int(entry.offset + entry.length)]
            #expect(slice.prefix(2).elementsEqual([0xFF, 0xD8]) && slice.suffix(2).elementsEqual([0xFF, 0xD9]))
            offset += entry.length
        }
        #expect(offset == Int64(stream.count))
        #expect(writer.statistics.bytesWritten == UInt64(stream.count) + UInt64(try fileBytes(path + ".index").count))

        // Capture's MJPEG source splits the same frames; each decodes close to the redacted
        // pixels, with the masked box grey.
        let source = try MJPEGFileSource(path: path, pacing: .freeRunning)
        #expect(source.mode.width == width && source.mode.height == height)
        var read = 0
        while let frame = try source.nextFrame() {
            let entry = index[read]
            #expect(Array(frame.payload) == Array(stream[Int(entry.offset)..<Int(entry.offset + entry.length)]))
            let decoded = try decodeJPEG(Array(frame.payload))
            #expect(decoded.format == .i420 && decoded.width == width && decoded.height == height)
            for plane in 0..<3 {
                let quality = psnr(decoded.planes[plane], expected[read][plane])
                #expect(quality > 30, "frame \(read) plane \(plane): \(quality) dB")
            }
            let box = maskedBox(width: width, height: height)
            let centre = decoded.planes[0][(box.y + box.height / 2) * width + box.x + box.width / 2]
            #expect(abs(Int(centre) - 128) <= 2)
            read += 1
        }
        #expect(read == 5)
        #expect(source.counters.corrupt == 0)

        // And through the camera factory, as `obscura run --camera file:...` opens it.
        let camera = try openCamera(spec: "file:\(path)?pacing=free")
        var count = 0
        while try camera.nextFrame() != nil { count += 1 }
        #expect(count == 5)
    }

    @Test(arguments: [(PixelFormat.i420, JPEGSubsampling.yuv420, PixelFormat.i420), (.nv12, .yuv420, .i420),
                      (.i422, .yuv422, .i422), (.yuyv, .yuv422, .i422), (.gray8, .grayscale, .gray8)])
    func everyRawFormatEncodes(format: PixelFormat, subsampling: JPEGSubsampling, decodedFormat: PixelFormat) throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("out.mjpeg")
        let width = 97, height = 61  // odd, so the conversions' tails run
        let pool = testPool(width: width, height: height)
        let writer = try MJPEGStreamWriter(path: path, quality: 95)
        let frame = redactedPattern(pool, format: format, width: width, height: height, index: 3)
        let expected = planarSamples(frame)
        try writer.write(frame)
        try writer.close()
        let jpeg = try fileBytes(path)
        let header = try jpeg.withUnsafeBytes { try JPEGDecoder().readHeader($0) }
        #expect(header.subsampling == subsampling)
        let decoded = try decodeJPEG(jpeg)
        #expect(decoded.format == decodedFormat)
        for plane in 0..<expected.count {
            let quality = psnr(decoded.planes[plane], expected[plane])
            #expect(quality > 30, "\(format) plane \(plane): \(quality) dB")
        }
    }

    @Test func aCompressedFrameDroppedByTheRedactorIsLeftOut() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("out.mjpeg")
        let writer = try MJPEGStreamWriter(path: path)
        let layout = FrameLayout(format: .mjpeg, width: 64, height: 48, payloadCapacity: 4096)
        let pool = FramePool(count: 1, layout: layout)
        guard var frame = pool.makeFrame(layout: layout, sequence: 4, captureTime: .now) else {
            Issue.record("pool exhausted")
            return
        }
        // A payload that would be a leak if written: the redactor cannot redact it yet, so it
        // drops it, and the writer must then write nothing.
        let secret: [UInt8] = [0xFF, 0xD8, 0xFF, 0xD9]
        #expect(secret.withUnsafeBytes { frame.setPayload($0) })
        let redacted = Redactor().redact(frame, analysis: RedactionInput())
        let wholeFrameMasked = redacted.wholeFrameMasked
        #expect(wholeFrameMasked)
        try writer.write(redacted)
        try writer.close()
        #expect(writer.statistics.droppedFrames == 1)
        #expect(writer.statistics.framesWritten == 0)
        #expect(try fileBytes(path).isEmpty)
        #expect(try MJPEGStreamWriter.readIndex(path: path + ".index").isEmpty)
    }

    @Test func aFrameOfAnotherSizeIsAnErrorAndTheStreamStaysWhole() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("out.mjpeg")
        let writer = try MJPEGStreamWriter(path: path)
        let pool = testPool(width: 64, height: 48)
        try writer.write(redactedPattern(pool, format: .i420, width: 64, height: 48, index: 0))
        #expect(throws: SinkError.self) {
            try writer.write(redactedPattern(pool, format: .i420, width: 32, height: 48, index: 1))
        }
        #expect(writer.statistics.errors == 1)
        #expect(writer.lastError?.reason.contains("32x48") == true)
        try writer.write(redactedPattern(pool, format: .i420, width: 64, height: 48, index: 2))
        try writer.close()
        #expect(try MJPEGStreamWriter.readIndex(path: path + ".index").map(\.sequence) == [0, 2])
        let source = try MJPEGFileSource(path: path, pacing: .freeRunning)
        var count = 0
        while try source.nextFrame() != nil { count += 1 }
        #expect(count == 2)
        #expect(source.counters.corrupt == 0)
    }

    @Test func filesAreNotWorldReadable() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("out.mjpeg")
        // An old file that anyone could read must not stay so.
        #expect(FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3]), attributes: [.posixPermissions: 0o666]))
        let writer = try MJPEGStreamWriter(path: path)
        try writer.close()
        #expect(isSinkFileMode(try permissions(path)))
        #expect(try permissions(path + ".index") & 0o007 == 0)
        #expect(try fileBytes(path).isEmpty, "an existing file is truncated")
        // A stricter mode is kept: the writer only ever takes permissions away.
        let strict = folder.file("strict.mjpeg")
        #expect(FileManager.default.createFile(atPath: strict, contents: Data(), attributes: [.posixPermissions: 0o600]))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: strict)
        try MJPEGStreamWriter(path: strict).close()
        #expect(try permissions(strict) == 0o600)
    }

    @Test func steadyStateAllocatesNoFrameMemory() throws {
        let folder = try SinkTemporaryFolder()
        for (format, allocations) in [(PixelFormat.i420, UInt64(1)), (.nv12, 2), (.yuyv, 2)] {
            let writer = try MJPEGStreamWriter(path: folder.file("\(format).mjpeg"))
            let pool = testPool(width: 160, height: 120)
            for index in 0..<20 {
                try writer.write(redactedPattern(pool, format: format, width: 160, height: 120, index: UInt64(index)))
            }
            try writer.close()
            // One output buffer (and one conversion buffer for interleaved formats), made at the
            // first frame and reused for the other 19.
            #expect(writer.statistics.bufferAllocations == allocations, "\(format)")
            #expect(writer.statistics.framesWritten == 20)
        }
    }

    @Test func aFullDiskIsASinkErrorCountedPerFrame() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("full.mjpeg")
        // /dev/full fails every write with ENOSPC, as a full SD card does.
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/full")
        let writer = try MJPEGStreamWriter(path: path)
        let pool = testPool(width: 64, height: 48)
        for index in 0..<3 {
            do {
                try writer.write(redactedPattern(pool, format: .i420, width: 64, height: 48, index: UInt64(index)))
                Issue.record("a write to a full disk succeeded")
            } catch {
                #expect(error.path == path)
                #expect(error.reason.contains("No space left on device (errno \(ENOSPC))"), "\(error)")
                #expect(error.errno == ENOSPC)
            }
        }
        #expect(writer.statistics.errors == 3)
        #expect(writer.statistics.framesWritten == 0)
        // The index lists no frame that did not reach the stream.
        #expect(try MJPEGStreamWriter.readIndex(path: path + ".index").isEmpty)
        try? writer.close()
    }

    @Test func aMissingFolderOrUnwritableFileFailsAtOpenNamingThePath() throws {
        let folder = try SinkTemporaryFolder()
        let missing = folder.file("no-such-folder/out.mjpeg")
        #expect {
            try MJPEGStreamWriter(path: missing)
        } throws: { error in
            guard let error = error as? SinkError else { return false }
            return error.path == missing && error.reason.contains("No such file or directory (errno \(ENOENT))")
        }
        let readOnly = try unwritableFile(in: folder)
        #expect {
            try MJPEGStreamWriter(path: readOnly)
        } throws: { error in
            guard let error = error as? SinkError else { return false }
            return error.path == readOnly && error.reason.contains("(errno \(EACCES))")
        }
        #expect(throws: SinkError.self) { try MJPEGStreamWriter(path: folder.file("q.mjpeg"), quality: 0) }
    }

    @Test func writesAfterCloseFail() throws {
        let folder = try SinkTemporaryFolder()
        let writer = try MJPEGStreamWriter(path: folder.file("out.mjpeg"))
        try writer.close()
        try writer.close()
        let pool = testPool(width: 16, height: 16)
        #expect(throws: SinkError.self) { try writer.write(redactedPattern(pool, format: .gray8, width: 16, height: 16, index: 0)) }
        #expect(writer.counters["errors"] == 1)
    }

    @Test func malformedIndexNamesTheLine() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("bad.index")
        try Data("obscura-mjpeg-index 1\n0 10 0 0\n10 x 1 5\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            try MJPEGStreamWriter.readIndex(path: path)
        } throws: { error in
            (error as? SinkError)?.reason.hasPrefix("line 3:") == true
        }
    }
}

@Suite struct PipeOutputTests {
    @Test func aPipeWhoseReaderLeftIsAnErrorNotADeadProcess() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("pipe.mjpeg")
        #expect(mkfifo(path, 0o600) == 0)
        // A reader must be there for the writer's open to return.
        let reader = open(path, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        let writer = try MJPEGStreamWriter(path: path)
        close(reader)
        let pool = testPool(width: 32, height: 32)
        do {
            try writer.write(redactedPattern(pool, format: .i420, width: 32, height: 32, index: 0))
            Issue.record("a write to a pipe without a reader succeeded")
        } catch {
            #expect(error.reason.contains("errno \(EPIPE)"), "\(error)")
        }
        #expect(writer.statistics.errors == 1)
        #expect(try MJPEGStreamWriter.readIndex(path: path + ".index").isEmpty)
    }
}
