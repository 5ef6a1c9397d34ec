// The MJPEG file camera against the bootstrap footage (frame counts from ffprobe, payloads equal
// to the file's bytes) and against generated bad streams: garbage between frames, a truncated
// last frame, an EXIF thumbnail with nested SOI/EOI, an oversized frame.

import Foundation
import Testing
@testable import Capture
import Frames

@Suite struct MJPEGFileSourceTests {
    @Test(arguments: ["vtest_640x480.mjpeg", "vtest_1280x720.mjpeg", "vtest_640x480_422.mjpeg"])
    func frameCountMatchesFFprobe(name: String) throws {
        let path = try fixture(name)
        let expected = try ffprobeFrameCount(path)
        let source = try MJPEGFileSource(path: path, pacing: .freeRunning)
        var payloadBytes = 0
        var lastSequence: UInt64? = nil
        let count = try drain(source) { frame in
            #expect(frame.format == .mjpeg)
            #expect(frame.payload.count > 0)
            #expect(frame.payload[0] == 0xFF && frame.payload[1] == 0xD8)
            #expect(frame.payload[frame.payload.count - 2] == 0xFF && frame.payload[frame.payload.count - 1] == 0xD9)
            if let lastSequence { #expect(frame.sequence == lastSequence + 1) }
            lastSequence = frame.sequence
            payloadBytes += frame.payloadSize
        }
        #expect(count == expected)
        #expect(source.counters.delivered == UInt64(expected))
        #expect(source.counters.corrupt == 0)
        // Concatenated JPEGs with nothing between them: the payloads add up to the file.
        let fileSize = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(payloadBytes == fileSize)
    }

    @Test func modeComesFromTheFirstFrame() throws {
        let source = try MJPEGFileSource(path: try fixture("vtest_1280x720.mjpeg"), pacing: .freeRunning)
        #expect(source.mode == SourceMode(width: 1280, height: 720, format: .mjpeg, fps: CameraSpec.defaultFileFPS))
        let fast = try MJPEGFileSource(path: try fixture("vtest_640x480.mjpeg"), fps: 25)
        #expect(fast.mode.fps == 25)
    }

    @Test func payloadsAreTheStillFiles() throws {
        // Concatenate stills and expect each one back, byte for byte.
        let folder = try TemporaryFolder()
        var stream = Data()
        var stills: [Data] = []
        for index in 1...4 {
            let still = try contents(try fixture(String(format: "stills/frame_%03d.jpg", index)))
            stills.append(still)
            stream.append(still)
        }
        let path = try folder.write("four.mjpeg", stream)
        let source = try MJPEGFileSource(path: path, pacing: .freeRunning)
        var index = 0
        try drain(source) { frame in
            #expect(Data(frame.payload) == stills[index])
            index += 1
        }
        #expect(index == 4)
    }

    @Test func garbageBetweenFramesIsCountedAndSkipped() throws {
        let folder = try TemporaryFolder()
        let first = try contents(try fixture("stills/frame_001.jpg"))
        let second = try contents(try fixture("stills/frame_002.jpg"))
        var stream = Data("leading junk".utf8)
        stream.append(first)
        let garbageOffset = stream.count
        stream.append(Data([0x00, 0x12, 0xFF, 0x00, 0xFF, 0xD9, 0x42]))   // even a stray EOI
        stream.append(second)
        stream.append(Data("trailing".utf8))
        let source = try MJPEGFileSource(path: try folder.write("garbage.mjpeg", stream), pacing: .freeRunning)
        var payloads: [Data] = []
        try drain(source) { payloads.append(Data($0.payload)) }
        #expect(payloads == [first, second])
        #expect(source.counters.corrupt == 3)
        #expect(source.lastDefect == JPEGStreamDefect(offset: garbageOffset + 7 + second.count, kind: .garbage(byteCount: 8)))
    }

    @Test func longGarbageAcrossReadWindowsIsOneDefect() throws {
        // 2 MB of bytes with 0xFF in them but no SOI, spanning several read windows.
        let folder = try TemporaryFolder()
        let first = try contents(try fixture("stills/frame_001.jpg"))
        let second = try contents(try fixture("stills/frame_002.jpg"))
        var stream = first
        let garbage = Data([UInt8]((0..<(512 * 1024)).flatMap { _ in [0x12, 0xFF, 0x00, 0xFF] }))
        stream.append(garbage)
        stream.append(second)
        let source = try MJPEGFileSource(path: try folder.write("long.mjpeg", stream), pacing: .freeRunning)
        var payloads: [Data] = []
        try drain(source) { payloads.append(Data($0.payload)) }
        #expect(payloads == [first, second])
        #expect(source.counters.corrupt == 1)
        #expect(source.lastDefect == JPEGStreamDefect(offset: first.count, kind: .garbage(byteCount: garbage.count)))
    }

    @Test func truncatedLastFrameIsCounted() throws {
        let folder = try TemporaryFolder()
        let first = try contents(try fixture("stills/frame_001.jpg"))
        let second = try contents(try fixture("stills/frame_002.jpg"))
        var stream = first
        stream.append(second.prefix(second.count / 2))
        let source = try MJPEGFileSource(path: try folder.write("truncated.mjpeg", stream), pacing: .freeRunning)
        #expect(try drain(source) == 1)
        #expect(source.counters.corrupt == 1)
        #expect(source.lastDefect == JPEGStreamDefect(offset: first.count, kind: .truncated))
    }

    @Test func frameCutOffByTheNextFrameIsCounted() throws {
        // A camera dump where one frame stops mid-scan and the next SOI follows at once.
        let folder = try TemporaryFolder()
        let first = try contents(try fixture("stills/frame_001.jpg"))
        let second = try contents(try fixture("stills/frame_002.jpg"))
        let third = try contents(try fixture("stills/frame_003.jpg"))
        var stream = first
        stream.append(second.prefix(second.count - 1000))
        stream.append(third)
        let source = try MJPEGFileSource(path: try folder.write("cut.mjpeg", stream), pacing: .freeRunning)
        var payloads: [Data] = []
        try drain(source) { payloads.append(Data($0.payload)) }
        #expect(payloads == [first, third])
        #expect(source.counters.corrupt == 1)
    }

    @Test func frameCutOffInsideItsHeadersStillFindsTheNext() throws {
        // Cut inside the tables: the stale segment length swallows the next frame's SOI.
        let folder = try TemporaryFolder()
        let first = try contents(try fixture("stills/frame_001.jpg"))
        let second = try contents(try fixture("stills/frame_002.jpg"))
        let third = try contents(try fixture("stills/frame_003.jpg"))
        var stream = first
        stream.append(second.prefix(30))
        stream.append(third)
        let source = try MJPEGFileSource(path: try folder.write("header-cut.mjpeg", stream), pacing: .freeRunning)
        var payloads: [Data] = []
        try drain(source) { payloads.append(Data($0.payload)) }
        #expect(payloads == [first, third])
        #expect(source.counters.corrupt == 1)
    }

    @Test func exifThumbnailDoesNotSplitTheFrame() throws {
        let folder = try TemporaryFolder()
        // A real small JPEG from ffmpeg as the thumbnail, spliced into an APP1 "Exif" segment.
        let thumbnailPath = folder.file("thumbnail.jpg")
        _ = try run("ffmpeg", ["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=32x24:rate=1",
                               "-frames:v", "1", "-q:v", "5", thumbnailPath])
        let thumbnail = try contents(thumbnailPath)
        #expect(thumbnail.count < 60_000)
        #expect(thumbnail.starts(with: [0xFF, 0xD8]))
        // "Exif\0\0", a little-endian TIFF header with an empty IFD, then the thumbnail bytes.
        var body = Data("Exif".utf8) + Data([0, 0])
        body.append(Data([0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]))
        body.append(thumbnail)
        let length = body.count + 2
        var app1 = Data([0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)])
        app1.append(body)

        let first = try contents(try fixture("stills/frame_001.jpg"))
        let second = try contents(try fixture("stills/frame_002.jpg"))
        var withExif = first.prefix(2)
        withExif.append(app1)
        withExif.append(first.dropFirst(2))
        var stream = withExif
        stream.append(second)
        stream.append(withExif)
        let source = try MJPEGFileSource(path: try folder.write("exif.mjpeg", stream), pacing: .freeRunning)
        #expect(source.mode.width == 640 && source.mode.height == 480)
        var payloads: [Data] = []
        try drain(source) { payloads.append(Data($0.payload)) }
        #expect(payloads == [withExif, second, withExif])
        #expect(source.counters.corrupt == 0)
    }

    @Test func progressiveAndRestartIntervalJPEGs() throws {
        // libjpeg-turbo's cjpeg: a progressive JPEG (several scans with tables between them) and
        // one with a restart marker every MCU row (RSTn inside the entropy-coded data).
        let folder = try TemporaryFolder()
        let progressive = folder.file("progressive.jpg"), restarts = folder.file("restarts.jpg")
        _ = try run("cjpeg", ["-progressive", "-outfile", progressive, try fixture("stills/frame_001.ppm")])
        _ = try run("cjpeg", ["-restart", "1", "-outfile", restarts, try fixture("stills/frame_002.ppm")])
        let first = try contents(progressive), second = try contents(restarts)
        #expect(first.count > 1000 && second.count > 1000)
        var stream = first
        stream.append(second)
        stream.append(first)
        let source = try MJPEGFileSource(path: try folder.write("mixed.mjpeg", stream), pacing: .freeRunning)
        var payloads: [Data] = []
        try drain(source) { payloads.append(Data($0.payload)) }
        #expect(payloads == [first, second, first])
        #expect(source.counters.corrupt == 0)
    }

    @Test func frameLargerThanTheBufferIsCounted() throws {
        let folder = try TemporaryFolder()
        let stills = try (1...5).map { index in try contents(try fixture(String(format: "stills/frame_%03d.jpg", index))) }
        let capacity = stills.map(\.count).min()! + 1
        var stream = Data()
        for still in stills { stream.append(still) }
        let source = try MJPEGFileSource(path: try folder.write("big.mjpeg", stream), pacing: .freeRunning, maxFrameBytes: capacity)
        var payloads: [Data] = []
        try drain(source) { payloads.append(Data($0.payload)) }
        let fitting = stills.filter { $0.count <= capacity }
        #expect(payloads == fitting)
        #expect(source.counters.corrupt == UInt64(stills.count - fitting.count))
        guard case let .tooLarge(byteCount, bufferCapacity)? = source.lastDefect?.kind else {
            Issue.record("expected a too-large defect, got \(String(describing: source.lastDefect))")
            return
        }
        #expect(byteCount > bufferCapacity && bufferCapacity == capacity)
    }

    @Test func fileWithoutAnyJPEGIsEmpty() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("nothing.mjpeg", Data(repeating: 0x55, count: 5000))
        let error = expectCaptureError { () throws(CaptureError) in _ = try MJPEGFileSource(path: path) }
        guard case .empty(path, _)? = error else { Issue.record("got \(String(describing: error))"); return }
    }

    @Test func missingFileIsNotFound() {
        let error = expectCaptureError { () throws(CaptureError) in _ = try MJPEGFileSource(path: "/nonexistent/clip.mjpeg") }
        #expect(error == .notFound(path: "/nonexistent/clip.mjpeg"))
    }
}
