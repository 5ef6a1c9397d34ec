// openCamera: the file camera's kind chosen by folder, extension or first bytes, options that do
// not fit the kind, and the errors for files it cannot play.

import Foundation
import Testing
@testable import Capture
import Frames

@Suite struct OpenCameraTests {
    @Test func kindByExtensionAndFolder() throws {
        #expect(try FileCameraKind.detect(path: try fixture("vtest_640x480_422.mjpeg")) == .mjpeg)
        #expect(try FileCameraKind.detect(path: try fixture("vtest_640x480_mono.y4m")) == .y4m)
        #expect(try FileCameraKind.detect(path: try fixture("stills/frame_001.jpg")) == .mjpeg)
        #expect(try FileCameraKind.detect(path: try fixture("stills")) == .imageFolder)
    }

    @Test func kindByContent() throws {
        let folder = try TemporaryFolder()
        let y4m = try folder.write("clip.raw", Data("YUV4MPEG2 W4 H2 F5:1 Cmono\nFRAME\n".utf8) + Data(repeating: 7, count: 8))
        let mjpeg = try folder.write("clip.bin", try contents(try fixture("stills/frame_001.jpg")))
        let other = try folder.write("clip.dat", Data("RIFF....AVI LIST".utf8))
        #expect(try FileCameraKind.detect(path: y4m) == .y4m)
        #expect(try FileCameraKind.detect(path: mjpeg) == .mjpeg)
        let source = try openCamera(spec: "file:\(y4m)", pacing: .freeRunning)
        #expect(source.mode == SourceMode(width: 4, height: 2, format: .gray8, fps: 5))
        #expect(try drain(source) == 1)
        let error = expectCaptureError { () throws(CaptureError) in _ = try openCamera(spec: "file:\(other)") }
        guard case let .unsupported(path, reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(path == other)
        #expect(reason.contains(".y4m"))
    }

    @Test func singleJPEGPlaysAsAOneFrameStream() throws {
        let source = try openCamera(spec: "file:\(try fixture("stills/frame_002.jpg"))?loop=true&pacing=free")
        #expect(source.mode == SourceMode(width: 640, height: 480, format: .mjpeg, fps: CameraSpec.defaultFileFPS))
        #expect(try drain(source, limit: 3) == 3)
        #expect(source.counters.loops == 2)
    }

    @Test func imagesOptionOnlyForFolders() throws {
        let path = try fixture("vtest_640x480_422.mjpeg")
        let error = expectCaptureError { () throws(CaptureError) in _ = try openCamera(spec: "file:\(path)?images=jpeg") }
        guard case let .invalidSpec(_, reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains("images= only applies to a folder"))
    }

    @Test func missingPathAndZeroPool() throws {
        let missing = expectCaptureError { () throws(CaptureError) in _ = try openCamera(spec: "file:/nonexistent/clip.mjpeg") }
        #expect(missing == .notFound(path: "/nonexistent/clip.mjpeg"))
        let pool = expectCaptureError { () throws(CaptureError) in _ = try openCamera(spec: "pattern:64x48@30", poolSize: 0) }
        guard case .invalidSpec? = pool else { Issue.record("got \(String(describing: pool))"); return }
    }

    @Test func sourceNameIsTheSpec() throws {
        let source = try openCamera(spec: "pattern:64x48@30?format=nv12")
        #expect(source.name == "pattern:64x48@30?format=nv12")
        #expect(source.mode.format == .nv12)
    }
}
