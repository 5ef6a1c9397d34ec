// The Y4M file camera: the bootstrap footage (frame counts from ffprobe, pixels equal to the
// file's bytes, 4:2:0 / 4:2:2 / mono formats) and a generated bad file for every kind of header
// error, each expected to name where it is and what was expected.

import Foundation
import Testing
@testable import Capture
import Frames

@Suite struct Y4MFileSourceTests {
    @Test(arguments: [
        ("vtest_640x480.y4m", PixelFormat.i420),
        ("vtest_640x480_422.y4m", PixelFormat.i422),
        ("vtest_640x480_mono.y4m", PixelFormat.gray8),
    ])
    func fixtureCountAndFormat(name: String, format: PixelFormat) throws {
        let path = try fixture(name)
        let expected = try ffprobeFrameCount(path)
        let source = try Y4MFileSource(path: path, pacing: .freeRunning)
        #expect(source.mode == SourceMode(width: 640, height: 480, format: format, fps: 10))
        #expect(try drain(source) == expected)
        #expect(source.counters.corrupt == 0)
        #expect(source.counters.delivered == UInt64(expected))
    }

    @Test func pixelsAreTheFileBytes() throws {
        let path = try fixture("vtest_640x480.y4m")
        let source = try Y4MFileSource(path: path, pacing: .freeRunning)
        let frameBytes = 640 * 480 * 3 / 2
        #expect(source.frameByteCount == frameBytes)
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let headerLine = try #require(try handle.read(upToCount: 200))
        let headerLength = try #require(headerLine.firstIndex(of: 0x0A)) + 1
        #expect(source.header.byteCount == headerLength)
        #expect(source.header.colourSpace == "420jpeg")
        #expect(source.header.extensions.contains("COLORRANGE=LIMITED"))
        #expect(source.header.colourRange == "LIMITED")
        let checked: Set<Int> = [0, 1, 2, 397, 794]
        var index = 0
        try drain(source) { frame in
            defer { index += 1 }
            guard checked.contains(index) else { return }
            // ffmpeg writes a bare "FRAME\n" before each frame.
            try handle.seek(toOffset: UInt64(headerLength + index * (6 + frameBytes)))
            let stored = try #require(try handle.read(upToCount: 6 + frameBytes))
            #expect(stored.prefix(6) == Data("FRAME\n".utf8))
            let pixels = planeSamples(frame, 0) + planeSamples(frame, 1) + planeSamples(frame, 2)
            #expect(pixels == Array(stored.dropFirst(6)), "frame \(index)")
        }
        #expect(index == 795)
    }

    /// A small file with odd sizes (padded strides: the row-by-row path) and frame parameters.
    @Test func oddSizeWithFrameParameters() throws {
        let folder = try TemporaryFolder()
        var file = Data("YUV4MPEG2 W5 H3 F25:1 It A1:1 C420mpeg2 XFOO=1 Zunknown\n".utf8)
        var frames: [[UInt8]] = []
        for index in 0..<3 {
            let pixels = (0..<(15 + 6 + 6)).map { UInt8(truncatingIfNeeded: $0 * 7 + index * 31) }
            frames.append(pixels)
            file.append(Data((index == 1 ? "FRAME Ib XBAR=2\n" : "FRAME\n").utf8))
            file.append(Data(pixels))
        }
        let source = try Y4MFileSource(path: try folder.write("odd.y4m", file), pacing: .freeRunning)
        #expect(source.mode == SourceMode(width: 5, height: 3, format: .i420, fps: 25))
        #expect(source.header.interlacing == "t")
        #expect(source.header.aspectNumerator == 1 && source.header.aspectDenominator == 1)
        var index = 0
        try drain(source) { frame in
            #expect(frame.plane(0).stride > 5)
            #expect(planeSamples(frame, 0) + planeSamples(frame, 1) + planeSamples(frame, 2) == frames[index])
            index += 1
        }
        #expect(index == 3)
    }

    @Test func specFPSOverridesTheFTag() throws {
        let source = try Y4MFileSource(path: try fixture("vtest_640x480_mono.y4m"), fps: 24)
        #expect(source.mode.fps == 24)
        let opened = try openCamera(spec: "file:\(try fixture("vtest_640x480_mono.y4m"))?fps=5")
        #expect(opened.mode.fps == 5)
    }

    /// Stream headers that must be refused, with the location and a fragment of the reason.
    @Test(arguments: [
        ("YUV4MPEG W4 H2 F1:1\n", "byte 0", "magic"),
        ("RIFF....WAVEfmt \n", "byte 0", "magic"),
        ("YUV4MPEG2 H2 F1:1 C420jpeg\n", "byte 26", "no W (width)"),
        ("YUV4MPEG2 W4 F1:1\n", "byte 17", "no H (height)"),
        ("YUV4MPEG2 W4x H2 F1:1\n", "byte 10", "W (width) must be a whole number"),
        ("YUV4MPEG2 W0 H2 F1:1\n", "byte 10", "W (width)"),
        ("YUV4MPEG2 W4 H-2 F1:1\n", "byte 13", "H (height)"),
        ("YUV4MPEG2 W4 H2 F25\n", "byte 16", "F (frame rate)"),
        ("YUV4MPEG2 W4 H2 F25:0\n", "byte 16", "F (frame rate)"),
        ("YUV4MPEG2 W4 H2 F0:1\n", "byte 16", "F (frame rate)"),
        ("YUV4MPEG2 W4 H2 Fab:cd\n", "byte 16", "F (frame rate)"),
        ("YUV4MPEG2 W4 H2\n", "byte 0", "no F (frame rate)"),
        ("YUV4MPEG2 W4 H2 F1:1 Ix\n", "byte 21", "I (interlacing)"),
        ("YUV4MPEG2 W4 H2 F1:1 A1\n", "byte 21", "A (pixel aspect)"),
    ])
    func rejectsBadStreamHeaders(header: String, location: String, fragment: String) throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("bad.y4m", Data(header.utf8) + Data("FRAME\n".utf8) + Data(repeating: 0, count: 12))
        let error = expectCaptureError { () throws(CaptureError) in _ = try Y4MFileSource(path: path) }
        guard case let .badHeader(errorPath, errorLocation, reason)? = error else {
            Issue.record("'\(header)': got \(String(describing: error))")
            return
        }
        #expect(errorPath == path)
        #expect(errorLocation == location, "'\(header)': \(reason)")
        #expect(reason.contains(fragment), "'\(header)': \(reason)")
    }

    @Test func headerWithoutNewline() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("nonl.y4m", Data("YUV4MPEG2 W4 H2 F1:1".utf8))
        let error = expectCaptureError { () throws(CaptureError) in _ = try Y4MFileSource(path: path) }
        #expect(error == .badHeader(path: path, location: "byte 20", reason: "the file ends inside the stream header (no newline)"))
    }

    @Test(arguments: ["444", "444alpha", "411", "420p10", "mono16"])
    func rejectsUnsupportedColourSpaces(tag: String) throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("c.y4m", Data("YUV4MPEG2 W4 H2 F1:1 C\(tag)\n".utf8))
        let error = expectCaptureError { () throws(CaptureError) in _ = try Y4MFileSource(path: path) }
        guard case let .unsupported(_, reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains("C\(tag)"))
    }

    @Test func badFrameHeaderNamesTheFrame() throws {
        let folder = try TemporaryFolder()
        let header = "YUV4MPEG2 W4 H2 F1:1 C420jpeg\n"
        var file = Data(header.utf8)
        file.append(Data("FRAME\n".utf8) + Data(repeating: 1, count: 12))
        file.append(Data("FRAMX\n".utf8) + Data(repeating: 2, count: 12))
        let source = try Y4MFileSource(path: try folder.write("frame.y4m", file), pacing: .freeRunning)
        #expect(try gotFrame(source))
        let error = expectCaptureError { () throws(CaptureError) in _ = try source.nextFrame() }
        #expect(error == .badHeader(path: source.path, location: "frame 1 at byte \(header.utf8.count + 18)",
                                    reason: "expected 'FRAME', found 'FRAMX\\x0A'"))
        #expect(source.counters.corrupt == 1)
    }

    @Test func shortFinalFrameIsAnError() throws {
        let folder = try TemporaryFolder()
        let header = "YUV4MPEG2 W4 H2 F1:1\n"
        var file = Data(header.utf8)
        for _ in 0..<2 { file.append(Data("FRAME\n".utf8) + Data(repeating: 9, count: 12)) }
        file.append(Data("FRAME\n".utf8) + Data(repeating: 9, count: 5))
        let source = try Y4MFileSource(path: try folder.write("short.y4m", file), pacing: .freeRunning)
        #expect(try gotFrame(source))
        #expect(try gotFrame(source))
        let error = expectCaptureError { () throws(CaptureError) in _ = try source.nextFrame() }
        guard case let .badHeader(_, location, reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(location == "frame 2 at byte \(header.utf8.count + 2 * 18 + 6)")
        #expect(reason.contains("5 of the frame's 12 pixel bytes"))
        #expect(source.counters.corrupt == 1)
        #expect(source.counters.delivered == 2)
    }

    @Test func emptyAndMissingFiles() throws {
        let folder = try TemporaryFolder()
        let empty = try folder.write("empty.y4m", Data())
        let error = expectCaptureError { () throws(CaptureError) in _ = try Y4MFileSource(path: empty) }
        guard case .empty? = error else { Issue.record("got \(String(describing: error))"); return }
        let missing = expectCaptureError { () throws(CaptureError) in _ = try Y4MFileSource(path: folder.file("none.y4m")) }
        #expect(missing == .notFound(path: folder.file("none.y4m")))
    }

    @Test func headerOnlyFileEndsAtOnce() throws {
        let folder = try TemporaryFolder()
        let source = try Y4MFileSource(path: try folder.write("h.y4m", Data("YUV4MPEG2 W4 H2 F1:1\n".utf8)), loop: true)
        #expect(try !gotFrame(source))
    }
}
