// The image-folder camera: the bootstrap stills as JPEG, PGM and PPM (PGM pixels equal to the
// files, PPM converted to I420), ordering, mixed folders, size changes, bad PNM headers, empty
// and missing folders.

import Foundation
import Testing
@testable import Capture
import Frames

@Suite struct ImageFolderSourceTests {
    @Test func jpegStillsPlayInNameOrder() throws {
        let stills = try fixture("stills")
        let source = try ImageFolderSource(path: stills, images: .jpeg, pacing: .freeRunning)
        #expect(source.mode == SourceMode(width: 640, height: 480, format: .mjpeg, fps: CameraSpec.defaultFileFPS))
        #expect(source.files.map { URL(fileURLWithPath: $0).lastPathComponent } == (1...10).map { String(format: "frame_%03d.jpg", $0) })
        var index = 1
        try drain(source) { frame in
            let expected = try contents(try fixture(String(format: "stills/frame_%03d.jpg", index)))
            #expect(Data(frame.payload) == expected)
            index += 1
        }
        #expect(index == 11)
        #expect(source.counters.corrupt == 0)
    }

    @Test func pgmStillsAreGray8WithTheFilePixels() throws {
        let source = try ImageFolderSource(path: try fixture("stills"), images: .pgm, pacing: .freeRunning)
        #expect(source.mode.format == .gray8)
        var index = 1
        try drain(source) { frame in
            let file = try contents(try fixture(String(format: "stills/frame_%03d.pgm", index)))
            #expect(planeSamples(frame, 0) == Array(file.suffix(640 * 480)))
            index += 1
        }
        #expect(index == 11)
    }

    @Test func ppmStillsAreConvertedToI420() throws {
        let source = try ImageFolderSource(path: try fixture("stills"), images: .ppm, pacing: .freeRunning)
        #expect(source.mode == SourceMode(width: 640, height: 480, format: .i420, fps: CameraSpec.defaultFileFPS))
        let file = try contents(try fixture("stills/frame_001.ppm"))
        let rgb = Array(file.suffix(640 * 480 * 3))
        // The reference kernel over the whole image, against the source's banded conversion.
        var luma = [UInt8](repeating: 0, count: 640 * 480)
        var blue = [UInt8](repeating: 0, count: 320 * 240)
        var red = [UInt8](repeating: 0, count: 320 * 240)
        rgb.withUnsafeBytes { source in
            luma.withUnsafeMutableBytes { luma in
                blue.withUnsafeMutableBytes { blue in
                    red.withUnsafeMutableBytes { red in
                        convertRGBToI420Reference(rgb: source, rgbStride: 640 * 3, width: 640, height: 480,
                                                  luma: luma, lumaStride: 640, chromaBlue: blue, chromaBlueStride: 320,
                                                  chromaRed: red, chromaRedStride: 320)
                    }
                }
            }
        }
        let frame = try requireFrame(source)
        #expect(planeSamples(frame, 0) == luma)
        #expect(planeSamples(frame, 1) == blue)
        #expect(planeSamples(frame, 2) == red)
    }

    @Test func mixedFolderNeedsAChoice() throws {
        let stills = try fixture("stills")
        let error = expectCaptureError { () throws(CaptureError) in _ = try ImageFolderSource(path: stills) }
        guard case let .unsupported(_, reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains("?images="))
        let opened = try openCamera(spec: "file:\(stills)?images=pgm", pacing: .freeRunning)
        #expect(opened.mode.format == .gray8)
    }

    @Test func singleKindFolderNeedsNoChoiceAndIgnoresOtherFiles() throws {
        let folder = try TemporaryFolder()
        for index in [3, 1, 2] {
            let name = String(format: "frame_%03d.pgm", index)
            try folder.write(name, try contents(try fixture("stills/" + name)))
        }
        try folder.write("notes.txt", Data("not an image".utf8))
        try folder.write(".hidden.pgm", Data("P5 junk".utf8))
        let source = try openCamera(spec: "file:\(folder.path)?loop=true&pacing=free")
        #expect(source.mode.format == .gray8)
        var sequences: [UInt64] = []
        try drain(source, limit: 7) { sequences.append($0.sequence) }
        #expect(sequences == Array(0..<7))
        #expect(source.counters.loops == 2)
    }

    @Test func pnmCommentsAndWhitespace() throws {
        let folder = try TemporaryFolder()
        var image = Data("P5\n# made by hand\n3 # width\n2\n# maxval next\n255\n".utf8)
        image.append(Data([1, 2, 3, 4, 5, 6]))
        try folder.write("a.pgm", image)
        let source = try ImageFolderSource(path: folder.path, pacing: .freeRunning)
        #expect(source.mode == SourceMode(width: 3, height: 2, format: .gray8, fps: CameraSpec.defaultFileFPS))
        let frame = try requireFrame(source)
        #expect(planeSamples(frame, 0) == [1, 2, 3, 4, 5, 6])
    }

    @Test func oddSizedPPM() throws {
        let folder = try TemporaryFolder()
        let width = 7, height = 5
        let rgb = (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
        try folder.write("odd.ppm", Data("P6 \(width) \(height) 255\n".utf8) + Data(rgb))
        let source = try ImageFolderSource(path: folder.path, pacing: .freeRunning)
        let frame = try requireFrame(source)
        var luma = [UInt8](repeating: 0, count: width * height)
        var blue = [UInt8](repeating: 0, count: 4 * 3)
        var red = [UInt8](repeating: 0, count: 4 * 3)
        rgb.withUnsafeBytes { source in
            luma.withUnsafeMutableBytes { luma in
                blue.withUnsafeMutableBytes { blue in
                    red.withUnsafeMutableBytes { red in
                        convertRGBToI420Reference(rgb: source, rgbStride: width * 3, width: width, height: height,
                                                  luma: luma, lumaStride: width, chromaBlue: blue, chromaBlueStride: 4,
                                                  chromaRed: red, chromaRedStride: 4)
                    }
                }
            }
        }
        #expect(planeSamples(frame, 0) == luma)
        #expect(planeSamples(frame, 1) == blue)
        #expect(planeSamples(frame, 2) == red)
    }

    @Test func imageOfAnotherSizeIsCountedAndSkipped() throws {
        let folder = try TemporaryFolder()
        try folder.write("a.pgm", Data("P5 2 2 255\n".utf8) + Data([1, 2, 3, 4]))
        try folder.write("b.pgm", Data("P5 3 2 255\n".utf8) + Data([1, 2, 3, 4, 5, 6]))
        try folder.write("c.pgm", Data("P5 2 2 255\n".utf8) + Data([5, 6, 7, 8]))
        let source = try ImageFolderSource(path: folder.path, pacing: .freeRunning)
        var frames: [[UInt8]] = []
        try drain(source) { frames.append(planeSamples($0, 0)) }
        #expect(frames == [[1, 2, 3, 4], [5, 6, 7, 8]])
        #expect(source.counters.corrupt == 1)
        #expect(source.lastDefect?.contains("b.pgm") == true)
        #expect(source.lastDefect?.contains("3x2") == true)
    }

    @Test func truncatedImageIsCountedAndSkipped() throws {
        let folder = try TemporaryFolder()
        try folder.write("a.pgm", Data("P5 2 2 255\n".utf8) + Data([1, 2, 3, 4]))
        try folder.write("b.pgm", Data("P5 2 2 255\n".utf8) + Data([1, 2]))
        let source = try ImageFolderSource(path: folder.path, pacing: .freeRunning)
        #expect(try drain(source) == 1)
        #expect(source.counters.corrupt == 1)
    }

    @Test(arguments: [
        ("P5 2 2 65535\n", "maxval 65535"),
        ("P5 2 2 100\n", "maxval 100"),
    ])
    func wrongMaxvalIsRefused(header: String, fragment: String) throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("deep.pgm", Data(header.utf8) + Data(repeating: 0, count: 16))
        let error = expectCaptureError { () throws(CaptureError) in _ = try ImageFolderSource(path: folder.path) }
        guard case let .unsupported(errorPath, reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(errorPath == path)
        #expect(reason.contains(fragment))
    }

    @Test(arguments: [
        ("P3 2 2 255\n", "expected the magic P5 (PGM) or P6 (PPM)"),
        ("P5 two 2 255\n", "expected the width"),
        ("P5 2 2", "expected the maxval"),
        ("P5 0 2 255\n", "out of range"),
        ("P6 2 2 255\n", "expected P5 for a .pgm file"),
    ])
    func badPNMHeadersAreRefused(header: String, fragment: String) throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("bad.pgm", Data(header.utf8) + Data(repeating: 0, count: 12))
        let error = expectCaptureError { () throws(CaptureError) in _ = try ImageFolderSource(path: folder.path) }
        guard case let .badHeader(errorPath, _, reason)? = error else { Issue.record("'\(header)': got \(String(describing: error))"); return }
        #expect(errorPath == path)
        #expect(reason.contains(fragment), "'\(header)': \(reason)")
    }

    @Test func emptyFolderIsEmpty() throws {
        let folder = try TemporaryFolder()
        try folder.write("readme.txt", Data("nothing here".utf8))
        let error = expectCaptureError { () throws(CaptureError) in _ = try openCamera(spec: "file:\(folder.path)") }
        guard case let .empty(path, reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(path == folder.path)
        #expect(reason.contains(".jpg"))
    }

    @Test func missingFolderIsNotFound() {
        let error = expectCaptureError { () throws(CaptureError) in _ = try ImageFolderSource(path: "/nonexistent/stills") }
        #expect(error == .notFound(path: "/nonexistent/stills"))
    }
}
