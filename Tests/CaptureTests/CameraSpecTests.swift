// CameraSpec parsing: every form, the canonical printing round trip, and the errors for each
// kind of mistake (each must say what is wrong).

import Testing
@testable import Capture
import Frames

@Suite struct CameraSpecTests {
    @Test func parsesPattern() throws {
        let spec = try CameraSpec(parsing: "pattern:640x480@30")
        #expect(spec == .pattern(.init(width: 640, height: 480, fps: 30)))
        let full = try CameraSpec(parsing: "pattern:1280x720@29.97?format=nv12&pacing=free&frames=300")
        #expect(full == .pattern(.init(width: 1280, height: 720, fps: 29.97, format: .nv12, pacing: .freeRunning, frameLimit: 300)))
        let fraction = try CameraSpec(parsing: "pattern:64x48@30000/1001?format=YUYV")
        guard case let .pattern(options) = fraction else { Issue.record("not a pattern"); return }
        #expect(abs(options.fps - 29.97003) < 0.0001)
        #expect(options.format == .yuyv)
    }

    @Test func parsesFiles() throws {
        #expect(try CameraSpec(parsing: "file:Fixtures/vtest_640x480.mjpeg") == .file(path: "Fixtures/vtest_640x480.mjpeg", options: .init()))
        #expect(try CameraSpec(parsing: "file:/tmp/a.y4m?fps=12.5&loop=true&pacing=nominal")
            == .file(path: "/tmp/a.y4m", options: .init(fps: 12.5, loop: true, pacing: .nominal)))
        #expect(try CameraSpec(parsing: "file:stills?images=ppm&loop=false")
            == .file(path: "stills", options: .init(images: .ppm)))
    }

    @Test func parsesV4L2() throws {
        #expect(try CameraSpec(parsing: "/dev/video0") == .v4l2(path: "/dev/video0", options: .init()))
        #expect(try CameraSpec(parsing: "v4l2:/dev/video2?size=1280x720&fps=30&format=mjpeg")
            == .v4l2(path: "/dev/video2", options: .init(width: 1280, height: 720, fps: 30, format: .mjpeg)))
    }

    @Test(arguments: [
        "pattern:640x480@30", "pattern:320x240@15?format=gray8&pacing=free&frames=10",
        "file:clip.mjpeg", "file:/a/b.y4m?fps=12.5&loop=true&pacing=nominal", "file:stills?images=jpeg",
        "/dev/video0", "v4l2:/dev/video1?width=640&height=480&fps=30&format=yuyv",
    ])
    func descriptionRoundTrips(text: String) throws {
        let spec = try CameraSpec(parsing: text)
        #expect(spec.description == text)
        #expect(try CameraSpec(parsing: spec.description) == spec)
    }

    /// Each bad spec and a fragment its error message must contain.
    @Test(arguments: [
        ("", "empty"),
        ("camera0", "no scheme"),
        ("rtsp://host/stream", "unknown scheme 'rtsp'"),
        ("file:", "needs a path"),
        ("file:a.mjpeg?speed=2", "unknown option 'speed'"),
        ("file:a.mjpeg?fps=fast", "fps 'fast' is not a number"),
        ("file:a.mjpeg?fps=0", "out of range"),
        ("file:a.mjpeg?fps=-5", "out of range"),
        ("file:a.mjpeg?loop=maybe", "loop=maybe: expected true or false"),
        ("file:a.mjpeg?pacing=fast", "pacing=fast: expected nominal, busy or free"),
        ("file:a.mjpeg?loop", "'loop' is not key=value"),
        ("file:a.mjpeg?fps=", "fps= has no value"),
        ("file:a.mjpeg?fps=5&fps=6", "fps is given twice"),
        ("file:stills?images=gif", "images=gif: expected jpeg, pgm or ppm"),
        ("pattern:640x480", "needs a size and a rate"),
        ("pattern:640@30", "expected WIDTHxHEIGHT"),
        ("pattern:0x480@30", "width in '0x480' 0 is out of range"),
        ("pattern:640x-480@30", "height in '640x-480' -480 is out of range"),
        ("pattern:640xABC@30", "is not a whole number"),
        ("pattern:640x480@0", "out of range"),
        ("pattern:640x480@-1", "out of range"),
        ("pattern:640x480@thirty", "is not a number"),
        ("pattern:640x480@30/0", "is not a number"),
        ("pattern:640x480@30?format=rgb24", "format=rgb24: expected i420"),
        ("pattern:640x480@30?format=mjpeg", "format=mjpeg: expected i420"),
        ("pattern:640x480@30?frames=0", "frames=0"),
        ("pattern:640x480@30?loop=true", "unknown option 'loop'"),
        ("v4l2:video0", "device path"),
        ("/dev/video0?exposure=10", "unknown option 'exposure'"),
    ])
    func rejectsBadSpecs(text: String, fragment: String) {
        do {
            let spec = try CameraSpec(parsing: text)
            Issue.record("'\(text)' parsed as \(spec)")
        } catch {
            guard case let .invalidSpec(spec, reason) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(spec == text)
            #expect(reason.contains(fragment), "'\(text)': \(reason)")
            #expect(error.description.contains("'\(text)'"))
        }
    }

    @Test func examplesParseAndAreVirtual() throws {
        #expect(CameraSpec.examples.count >= 5)
        for example in CameraSpec.examples {
            let spec = try CameraSpec(parsing: example.spec)
            if case .v4l2 = spec { Issue.record("\(example.spec) is not a virtual camera") }
            #expect(!example.summary.isEmpty)
        }
        #expect(!CameraSpec.syntax.isEmpty)
    }

    /// The examples point at the bootstrap footage: each must open from the package root.
    @Test func examplesOpen() throws {
        _ = try fixture("vtest_640x480.mjpeg")
        for example in CameraSpec.examples {
            var spec = try CameraSpec(parsing: example.spec)
            if case let .file(path, options) = spec {
                spec = .file(path: packageRoot.appendingPathComponent(path).path, options: options)
            }
            let source = try openCamera(spec: spec, pacing: .freeRunning, poolSize: 2)
            #expect(try gotFrame(source), "\(example.spec)")
        }
    }

    @Test func v4l2GoesToTheV4L2Camera() {
        // No such device here: the V4L2 camera's own error, naming the device, not a spec error.
        let path = "/dev/video-obscura-test-none"
        let error = expectCaptureError { () throws(CaptureError) in _ = try openCamera(spec: "v4l2:\(path)?size=640x480") }
        if case .invalidSpec? = error { Issue.record("a valid V4L2 spec was refused: \(String(describing: error))") }
        #expect(error?.description.contains(path) == true, "\(String(describing: error))")
    }
}
