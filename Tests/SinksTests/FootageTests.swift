// The sinks on the sample footage from tools/bootstrap: MJPEG frames redacted in the coefficient
// domain are written byte for byte as the redactor made them (stream, still, snapshot) and
// refused where raw pixels are needed; raw Y4M footage redacted and written as MJPEG and Y4M
// plays back through Capture.

import Analysis
import Capture
import Codec
import Foundation
import Frames
import Redaction
import Sinks
import Testing

@Suite struct FootageTests {
    @Test func compressedFramesAreWrittenAsTheRedactorMadeThem() throws {
        let source = try MJPEGFileSource(path: try sinkFixture("vtest_640x480.mjpeg"), pacing: .freeRunning)
        let width = source.mode.width, height = source.mode.height
        let outputPool = FramePool(count: 2, layout: Redactor.compressedOutputLayout(width: width, height: height, subsampling: .yuv420))
        let redactor = boxRedactor()
        let box = maskedBox(width: width, height: height)
        let folder = try SinkTemporaryFolder()
        let stream = try MJPEGStreamWriter(path: folder.file("redacted.mjpeg"))
        let still = try ImageWriter(path: folder.file("still.jpg"))
        let grey = try ImageWriter(path: folder.file("still.pgm"))
        let snapshots = try SnapshotWriter(folder: folder.file("snapshots"), intervalSeconds: 3600, keep: 1)
        var payloads: [[UInt8]] = []
        for _ in 0..<4 {
            guard let frame = try source.nextFrame() else { break }
            let redacted = redactor.redactCompressed(frame, analysis: RedactionInput(unverified: [box]), outputPool: outputPool)
            let payload = Array(redacted.payload)
            #expect(!payload.isEmpty, "the redactor dropped a good frame")
            payloads.append(payload)
            try stream.write(redacted)
            try still.write(redacted)
            try snapshots.write(redacted)
            #expect(throws: SinkError.self) { try grey.write(redacted) }
        }
        try stream.close()
        #expect(payloads.count == 4)
        #expect(stream.statistics.framesWritten == 4)
        #expect(stream.statistics.bufferAllocations == 0, "compressed frames need no encode buffer")
        #expect(grey.statistics.errors == 4)

        let file = try fileBytes(folder.file("redacted.mjpeg"))
        let index = try MJPEGStreamWriter.readIndex(path: folder.file("redacted.mjpeg.index"))
        #expect(index.count == 4)
        for (entry, payload) in zip(index, payloads) {
            #expect(Array(file[Int(entry.offset)..<Int(entry.offset + entry.length)]) == payload)
        }
        #expect(try fileBytes(folder.file("still.jpg")) == payloads[3])
        #expect(try fileBytes(snapshots.lastPath ?? "") == payloads[0])
        // What was written is redacted: the box decodes to the fill grey.
        let decoded = try decodeJPEG(payloads[0])
        let centre = decoded.planes[0][(box.y + box.height / 2) * width + box.x + box.width / 2]
        #expect(abs(Int(centre) - 128) <= 2)
    }

    @Test func rawFootageRoundTripsThroughY4MAndMJPEG() throws {
        let source = try Y4MFileSource(path: try sinkFixture("vtest_640x480.y4m"), pacing: .freeRunning)
        let folder = try SinkTemporaryFolder()
        let y4m = try Y4MWriter(path: folder.file("redacted.y4m"), fps: source.mode.fps)
        let mjpeg = try MJPEGStreamWriter(path: folder.file("redacted.mjpeg"), quality: 85)
        let redactor = boxRedactor()
        let box = maskedBox(width: source.mode.width, height: source.mode.height)
        var written: [[[UInt8]]] = []
        for _ in 0..<6 {
            guard let frame = try source.nextFrame() else { break }
            let redacted = redactor.redact(frame, analysis: RedactionInput(unverified: [box]))
            written.append(planarSamples(redacted))
            try y4m.write(redacted)
            try mjpeg.write(redacted)
        }
        try y4m.close()
        try mjpeg.close()
        #expect(written.count == 6)

        let y4mBack = try Y4MFileSource(path: folder.file("redacted.y4m"), pacing: .freeRunning)
        #expect(y4mBack.mode == source.mode)
        var read = 0
        while let frame = try y4mBack.nextFrame() {
            let planes = frame.layout.planes.map { planeRows(UnsafeRawBufferPointer(frame.buffer.bytes), $0) }
            #expect(planes == written[read])
            read += 1
        }
        #expect(read == 6)

        let mjpegBack = try openCamera(spec: "file:\(folder.file("redacted.mjpeg"))?pacing=free")
        read = 0
        while let frame = try mjpegBack.nextFrame() {
            let decoded = try decodeJPEG(Array(frame.payload))
            #expect(psnr(decoded.planes[0], written[read][0]) > 32)
            read += 1
        }
        #expect(read == 6)
    }

    @Test func aRedactedFolderKeepsTheInputNames() throws {
        // `obscura redact` over a folder: every still in, the same names out.
        let source = try ImageFolderSource(path: try sinkFixture("stills"), images: .ppm, pacing: .freeRunning)
        let names = source.files.map { URL(fileURLWithPath: $0).lastPathComponent }
        let folder = try SinkTemporaryFolder()
        let writer = try ImageFolderWriter(folder: folder.file("redacted"), extension: "jpg", naming: .names(names))
        let redactor = boxRedactor()
        let box = maskedBox(width: source.mode.width, height: source.mode.height)
        while let frame = try source.nextFrame() {
            try writer.write(redactor.redact(frame, analysis: RedactionInput(unverified: [box])))
        }
        let written = try FileManager.default.contentsOfDirectory(atPath: writer.folder).sorted()
        #expect(written == names.map { $0.replacingOccurrences(of: ".ppm", with: ".jpg") })
        #expect(written.count == 10)
        let decoded = try decodeJPEG(try fileBytes(writer.folder + "/" + written[0]))
        #expect(decoded.width == source.mode.width && decoded.height == source.mode.height)
        let centre = decoded.planes[0][(box.y + box.height / 2) * source.mode.width + box.x + box.width / 2]
        #expect(abs(Int(centre) - 128) <= 2)
    }
}
