// Device tests of V4L2 capture against the kernel's own drivers: vivid (/dev/video0, its
// colour bars and its fault injection) and v4l2loopback (/dev/video10, MJPEG fed by the test).
// They need those modules loaded, which the host cannot do, so they run only when
// OBSCURA_V4L2_VM=1 is set: tools/v4l2-vm-test boots a VM, loads the modules, sets it and runs
// them. Everywhere else the suite is skipped (reported as such), never failed.

import Testing
@testable import Capture
import Frames
#if canImport(Glibc)
import Glibc
#endif

let insideV4L2VM = getenv("OBSCURA_V4L2_VM").map { String(cString: $0) } == "1"
let vividPath = "/dev/video0"
let loopbackPath = "/dev/video10"

/// vivid's default pattern: 75% colour bars, white to black, as R'G'B' levels (75% of 255).
let colourBars: [(name: String, red: Double, green: Double, blue: Double)] = [
    ("white", 191, 191, 191), ("yellow", 191, 191, 0), ("cyan", 0, 191, 191), ("green", 0, 191, 0),
    ("magenta", 191, 0, 191), ("red", 191, 0, 0), ("blue", 0, 0, 191), ("black", 0, 0, 0),
]

/// A bar's BT.601 limited-range Y'CbCr, the encoding vivid's webcam input uses (sRGB colorspace).
func expectedYCbCr(_ bar: (name: String, red: Double, green: Double, blue: Double)) -> (y: Int, cb: Int, cr: Int) {
    let red = bar.red / 255, green = bar.green / 255, blue = bar.blue / 255
    let y = 16 + 219 * (0.299 * red + 0.587 * green + 0.114 * blue)
    let cb = 128 + 224 * (-0.168736 * red - 0.331264 * green + 0.5 * blue)
    let cr = 128 + 224 * (0.5 * red - 0.418688 * green - 0.081312 * blue)
    return (Int(y.rounded()), Int(cb.rounded()), Int(cr.rounded()))
}

/// What vivid (Linux 6.1) makes of a bar in GREY: full-range luma with BT.709 weights, not the
/// limited-range BT.601 luma of its Y'CbCr formats (seen in the VM: white 190, blue 13, black 0).
func expectedGrey(_ bar: (name: String, red: Double, green: Double, blue: Double)) -> Int {
    Int((0.2126 * bar.red + 0.7152 * bar.green + 0.0722 * bar.blue).rounded())
}

/// vivid's own rounding differs from the textbook formula by a code or two.
let sampleTolerance = 3

func readFile(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    return bytes
}

/// Options for a fast test camera: backoff short enough that recovery shows within seconds.
func testOptions(_ pixelFormat: V4L2FourCC?, width: Int, height: Int, fps: Double?) -> V4L2Options {
    var options = V4L2Options(pixelFormat: pixelFormat, width: width, height: height, fps: fps)
    options.backoff = V4L2Backoff(initial: .milliseconds(20), maximum: .milliseconds(400))
    options.pollTimeout = .milliseconds(200)
    return options
}

/// Captures until `count` frames were delivered or `limit` passes; gives each frame to `body`.
@discardableResult
func captureFrames(_ camera: V4L2Camera, count: Int, limit: Duration = .seconds(20),
                   _ body: (borrowing Frame) -> Void = { _ in }) throws -> (frames: Int, unavailable: Int) {
    let deadline = ContinuousClock.now + limit
    var frames = 0
    var unavailable = 0
    while frames < count && ContinuousClock.now < deadline {
        let result = try camera.capture(timeout: .milliseconds(250))
        switch consume result {
        case .frame(let frame):
            frames += 1
            body(frame)
        case .noFrame: break
        case .deviceUnavailable: unavailable += 1
        }
    }
    return (frames, unavailable)
}

/// Checks one frame's colour bars: for every bar, samples across its inside (away from the
/// edges, where chroma is shared with the neighbour) on rows from top to bottom. Returns the
/// mismatches, empty when the frame is right.
func colourBarMismatches(_ frame: borrowing Frame) -> [String] {
    var problems: [String] = []
    let width = frame.width, height = frame.height
    let barWidth = width / 8
    let luma = frame.planeBytes(0)
    let lumaStride = frame.plane(0).stride
    for (index, bar) in colourBars.enumerated() {
        var expected = expectedYCbCr(bar)
        if frame.format == .gray8 { expected.y = expectedGrey(bar) }
        for y in stride(from: 0, to: height, by: max(1, height / 12)) {
            for x in stride(from: index * barWidth + 4, to: (index + 1) * barWidth - 4, by: 6) {
                var sample = (y: -1, cb: -1, cr: -1)
                switch frame.format {
                case .yuyv:
                    let pair = y * lumaStride + (x / 2) * 4
                    sample = (Int(luma[pair + (x % 2) * 2]), Int(luma[pair + 1]), Int(luma[pair + 3]))
                case .nv12:
                    let chroma = frame.planeBytes(1)
                    let offset = (y / 2) * frame.plane(1).stride + (x / 2) * 2
                    sample = (Int(luma[y * lumaStride + x]), Int(chroma[offset]), Int(chroma[offset + 1]))
                case .i420:
                    let offset = (y / 2) * frame.plane(1).stride + x / 2
                    sample = (Int(luma[y * lumaStride + x]), Int(frame.planeBytes(1)[offset]), Int(frame.planeBytes(2)[offset]))
                case .gray8:
                    sample = (Int(luma[y * lumaStride + x]), expected.cb, expected.cr)
                default:
                    return ["unexpected format \(frame.format)"]
                }
                if abs(sample.y - expected.y) > sampleTolerance || abs(sample.cb - expected.cb) > sampleTolerance
                    || abs(sample.cr - expected.cr) > sampleTolerance {
                    problems.append("\(bar.name) bar at (\(x), \(y)): Y'CbCr \(sample) expected \(expected) ±\(sampleTolerance)")
                    if problems.count >= 5 { return problems }
                }
            }
        }
    }
    return problems
}

@Suite(.serialized, .enabled(if: insideV4L2VM, "needs vivid and v4l2loopback: run tools/v4l2-vm-test"))
struct V4L2DeviceTests {
    init() throws {
        // Without the on-screen text every frame of the pattern is identical across boots.
        let controls = try V4L2DeviceControls(path: vividPath)
        try controls.set(named: "osd_text_mode", to: "2")
        try controls.set(named: "percentage_of_dropped_buffers", to: "0")
    }

    @Test func discoveryListsVividWithFormatsSizesRatesAndControls() throws {
        #expect(V4L2Discovery.devicePaths().contains(vividPath))
        // The loopback node has no writer yet, so no capture format: still listed.
        #expect(V4L2Discovery.devices().map(\.path).contains(loopbackPath))
        let info = try V4L2Discovery.describe(path: vividPath)
        #expect(info.driver == "vivid")
        #expect(info.canCapture && info.capabilities.contains("streaming"))
        let formats = Set(info.formats.map(\.pixelFormat))
        #expect(formats.isSuperset(of: [.yuyv, .nv12, .grey, .yu12]))
        let yuyv = try #require(info.formats.first { $0.pixelFormat == .yuyv })
        let vga = try #require(yuyv.sizes.first { $0.width == 640 && $0.height == 480 })
        #expect(vga.kind == .discrete && vga.intervals.map(\.fps).contains(25))
        #expect(yuyv.sizes.contains { $0.width == 1280 && $0.height == 720 })
        let keys = Set(info.controls.map(\.key))
        #expect(keys.isSuperset(of: ["brightness", "contrast", "osd_text_mode", "inject_fatal_streaming_error", "disconnect"]))
        let osd = try #require(info.controls.first { $0.key == "osd_text_mode" })
        #expect(osd.type == "menu" && osd.value == 2 && osd.menu.count == 3)
    }

    @Test func controlsReadAndSetByName() throws {
        let controls = try V4L2DeviceControls(path: vividPath)
        let original = try controls.value(named: "brightness")
        #expect(try controls.set(named: "brightness", to: "100") == 100)
        #expect(try controls.value(named: "Brightness") == 100)
        try controls.set(named: "brightness", to: "\(original)")
        #expect(throws: CaptureError.self) { try controls.set(named: "brightness", to: "9999") }
        #expect(throws: CaptureError.self) { try controls.set(named: "no_such_control", to: "1") }

        // Controls in the options are applied when the camera opens.
        let contrast = try controls.value(named: "contrast")
        var options = testOptions(.yuyv, width: 640, height: 480, fps: 25)
        options.controls = [V4L2ControlSetting(name: "Contrast", value: "90")]
        let camera = try V4L2Camera(path: vividPath, options: options)
        #expect(try camera.controlValue(named: "contrast") == 90)
        #expect(try camera.setControl(named: "contrast", to: "\(contrast)") == contrast)
    }

    @Test(arguments: [V4L2FourCC.yuyv, .nv12, .grey, .yu12], [(640, 480, 25.0), (1280, 720, 12.5)])
    func capturesColourBars(pixelFormat: V4L2FourCC, size: (width: Int, height: Int, fps: Double)) throws {
        let camera = try V4L2Camera(path: vividPath, options: testOptions(pixelFormat, width: size.width, height: size.height, fps: size.fps))
        #expect(camera.granted.pixelFormat == pixelFormat)
        #expect(camera.granted.width == size.width && camera.granted.height == size.height)
        #expect(camera.mode.fps == size.fps)
        var checked = 0
        var previousSequence: UInt64?
        let result = try captureFrames(camera, count: 3) { frame in
            #expect(frame.format == pixelFormat.pixelFormat)
            if let previousSequence { #expect(frame.sequence > previousSequence) }
            previousSequence = frame.sequence
            let problems = colourBarMismatches(frame)
            #expect(problems.isEmpty, "\(pixelFormat) \(size.width)x\(size.height): \(problems.joined(separator: "; "))")
            checked += 1
        }
        #expect(result.frames == 3 && checked == 3)
        let counters = camera.v4l2Counters
        #expect(counters.delivered == 3 && counters.errorFlagged == 0 && counters.deviceLost == 0)
        let microseconds = Int(counters.captureSeconds / Double(max(1, counters.delivered)) * 1e6)
        print("v4l2 capture cost: \(pixelFormat) \(size.width)x\(size.height) \(microseconds) us per frame, dequeue to pooled frame")
    }

    @Test(arguments: [V4L2FourCC.yuyv, .nv12])
    func capturesFromAMultiPlanarOnlyDevice(pixelFormat: V4L2FourCC) throws {
        let path = "/dev/video1"
        let info = try V4L2Discovery.describe(path: path)
        print("multi-planar vivid: capabilities \(info.capabilities), formats \(info.formats.prefix(6).map(\.pixelFormat.description))")
        #expect(info.canCapture)
        let controls = try V4L2DeviceControls(path: path)
        try controls.set(named: "osd_text_mode", to: "2")
        let camera = try V4L2Camera(path: path, options: testOptions(pixelFormat, width: 640, height: 480, fps: 25))
        #expect(camera.granted.pixelFormat == pixelFormat)
        let result = try captureFrames(camera, count: 2) { frame in
            let problems = colourBarMismatches(frame)
            #expect(problems.isEmpty, "multi-planar \(pixelFormat): \(problems.joined(separator: "; "))")
        }
        #expect(result.frames == 2)
        #expect(info.multiPlanar)
    }

    @Test func formatsInSeveralMemoryPlanesAreRefusedByName() throws {
        // NM12 is NV12 with its chroma in a second memory plane; vivid's multi-planar node has it.
        let error = #expect(throws: CaptureError.self) {
            _ = try V4L2Camera(path: "/dev/video1", options: testOptions(V4L2FourCC("NM12"), width: 640, height: 480, fps: 25))
        }
        #expect(error?.description.contains("NM12 uses 2 memory planes per frame") == true, "\(error.map { "\($0)" } ?? "")")
    }

    @Test func lumaIsTheSameInEveryYCbCrFormat() throws {
        var lumaRows: [V4L2FourCC: [UInt8]] = [:]
        for pixelFormat in [V4L2FourCC.yuyv, .nv12, .yu12] {
            let camera = try V4L2Camera(path: vividPath, options: testOptions(pixelFormat, width: 640, height: 480, fps: 25))
            try captureFrames(camera, count: 1) { frame in
                let plane = frame.planeBytes(0)
                let row = 200 * frame.plane(0).stride
                lumaRows[pixelFormat] = (0..<640).map { x in pixelFormat == .yuyv ? plane[row + x * 2] : plane[row + x] }
            }
        }
        #expect(lumaRows.count == 3)
        #expect(lumaRows[.yuyv] == lumaRows[.nv12])
        #expect(lumaRows[.yuyv] == lumaRows[.yu12])
    }

    @Test func automaticChoiceTakesYUYVAtVGA() throws {
        let camera = try V4L2Camera(path: vividPath, options: testOptions(nil, width: 640, height: 480, fps: nil))
        #expect(camera.granted.pixelFormat == .yuyv)
        #expect(camera.mode.fps == 25)
    }

    @Test func fallingBehindDrainsToTheNewestFrame() throws {
        let camera = try V4L2Camera(path: vividPath, options: testOptions(.grey, width: 640, height: 480, fps: 25))
        var first: UInt64 = 0
        try captureFrames(camera, count: 1) { frame in first = frame.sequence }
        let before = camera.v4l2Counters
        // 600 ms at 25 fps is 15 frames: every one of the 4 buffers fills, so the next capture
        // finds 4 waiting and must hand over only the newest. (vivid does not advance its
        // sequence count while no buffer is queued, so the frames it could not fill show as
        // nothing, not as driver drops.)
        sleepFor(.milliseconds(600))
        var next: UInt64 = 0
        try captureFrames(camera, count: 1) { frame in next = frame.sequence }
        let after = camera.v4l2Counters
        print("drain: frame \(first) then \(next) after 600 ms; skipped \(after.skipped - before.skipped), driver drops \(after.driverDrops - before.driverDrops)")
        #expect(after.skipped - before.skipped >= 2)
        #expect(next - first >= 3)
        // The delivered frame's position accounts for every frame passed over on the way.
        #expect(next - first == (after.skipped - before.skipped) + (after.driverDrops - before.driverDrops) + 1)
        #expect(after.delivered == 2)
    }

    @Test func framesHeldByThePipelineExhaustThePoolAndAreCounted() throws {
        var options = testOptions(.yuyv, width: 640, height: 480, fps: 25)
        options.poolSize = 1
        let camera = try V4L2Camera(path: vividPath, options: options)
        guard let held = try camera.nextFrame() else {
            Issue.record("no first frame")
            return
        }
        let result = try camera.capture(timeout: .seconds(1))
        switch consume result {
        case .frame: Issue.record("a frame was delivered while the only pooled frame was held")
        case .noFrame: break
        case .deviceUnavailable: Issue.record("the device was reported lost")
        }
        #expect(camera.v4l2Counters.poolExhausted >= 1)
        _ = consume held
        #expect(try captureFrames(camera, count: 1).frames == 1)
    }

    @Test func bufferWithErrorFlagIsDiscardedAndCounted() throws {
        let camera = try V4L2Camera(path: vividPath, options: testOptions(.yuyv, width: 640, height: 480, fps: 25))
        try captureFrames(camera, count: 3)
        try camera.setControl(named: "inject_v4l2_buf_flag_error", to: "1")
        let result = try captureFrames(camera, count: 8) { frame in
            #expect(colourBarMismatches(frame).isEmpty)
        }
        let counters = camera.v4l2Counters
        print("fault buf-flag-error: injected 1 flagged buffer; counters \(counters)")
        #expect(result.frames == 8)
        #expect(counters.errorFlagged == 1)
        #expect(counters.source.corrupt == 1)
        #expect(counters.delivered == 11)
        #expect(counters.deviceLost == 0)
    }

    @Test func streamOnFailureNamesTheCallThenTheNextOpenWorks() throws {
        do {
            let controls = try V4L2DeviceControls(path: vividPath)
            try controls.set(named: "inject_vidioc_streamon_error", to: "1")
        }
        let error = #expect(throws: CaptureError.self) {
            _ = try V4L2Camera(path: vividPath, options: testOptions(.yuyv, width: 640, height: 480, fps: 25))
        }
        print("fault streamon-error: injected 1 STREAMON failure; open threw \(error.map { "\($0)" } ?? "nothing")")
        #expect(error == .system(call: "VIDIOC_STREAMON", path: vividPath, errno: EINVAL))
        #expect(error?.description == "\(vividPath): VIDIOC_STREAMON failed: Invalid argument (errno 22)")
        let camera = try V4L2Camera(path: vividPath, options: testOptions(.yuyv, width: 640, height: 480, fps: 25))
        #expect(try captureFrames(camera, count: 2).frames == 2)
    }

    @Test func requestBuffersFailureNamesTheCallThenTheNextOpenWorks() throws {
        do {
            let controls = try V4L2DeviceControls(path: vividPath)
            try controls.set(named: "inject_vidioc_reqbufs_error", to: "1")
        }
        let error = #expect(throws: CaptureError.self) {
            _ = try V4L2Camera(path: vividPath, options: testOptions(.yuyv, width: 640, height: 480, fps: 25))
        }
        print("fault reqbufs-error: injected 1 REQBUFS failure; open threw \(error.map { "\($0)" } ?? "nothing")")
        #expect(error == .system(call: "VIDIOC_REQBUFS", path: vividPath, errno: EINVAL))
        let camera = try V4L2Camera(path: vividPath, options: testOptions(.yuyv, width: 640, height: 480, fps: 25))
        #expect(try captureFrames(camera, count: 2).frames == 2)
    }

    @Test func fatalStreamingErrorIsADeviceLossThatRecovers() throws {
        let camera = try V4L2Camera(path: vividPath, options: testOptions(.nv12, width: 640, height: 480, fps: 25))
        try captureFrames(camera, count: 3)
        try camera.setControl(named: "inject_fatal_streaming_error", to: "1")
        let result = try captureFrames(camera, count: 5) { frame in
            #expect(colourBarMismatches(frame).isEmpty)
        }
        let counters = camera.v4l2Counters
        print("fault fatal-streaming-error: injected 1 (DQBUF EIO); counters \(counters)")
        #expect(result.frames == 5)
        #expect(counters.deviceLost == 1)
        #expect(counters.reconnects == 1)
        #expect(counters.outageSeconds > 0)
        #expect(!counters.isLost)
        #expect(counters.lastError?.contains("(errno 5)") == true)
        #expect(camera.granted.pixelFormat == .nv12)
    }

    @Test func droppedBuffersShowAsSequenceGaps() throws {
        let camera = try V4L2Camera(path: vividPath, options: testOptions(.grey, width: 640, height: 480, fps: 25))
        try captureFrames(camera, count: 5)
        let before = camera.v4l2Counters
        try camera.setControl(named: "percentage_of_dropped_buffers", to: "50")
        var sequences: [UInt64] = []
        try captureFrames(camera, count: 40) { frame in sequences.append(frame.sequence) }
        try camera.setControl(named: "percentage_of_dropped_buffers", to: "0")
        let after = camera.v4l2Counters
        let drops = after.driverDrops - before.driverDrops
        let dequeued = after.dequeued - before.dequeued
        let share = Double(drops) / Double(drops + dequeued)
        print("fault dropped-buffers: injected 50%; \(drops) drops in \(drops + dequeued) frame slots (\(share)); counters \(after)")
        #expect(before.driverDrops <= 1)
        #expect((0.3...0.7).contains(share), "dropped share \(share) for 50% injected")
        // Frame.sequence carries the driver's count: the gaps between delivered frames are
        // exactly the drops plus the frames dequeued but not delivered.
        let gaps = zip(sequences.dropFirst(), sequences).map { $0 - $1 - 1 }.reduce(0, +)
        #expect(sequences.count == 40)
        #expect(gaps <= drops + after.skipped + after.errorFlagged)
        #expect(gaps + UInt64(sequences.count) - 1 == sequences.last! - sequences.first!)
        #expect(after.deviceLost == 0)
    }

    @Test func disconnectWhileStreamingRecoversWithTheOutageCounted() throws {
        // A first reopen attempt only after 600 ms, longer than each 250 ms capture call, so the
        // caller sees the outage as answers (the pipeline keeps running) before frames resume.
        var options = testOptions(.yuyv, width: 640, height: 480, fps: 25)
        options.backoff = V4L2Backoff(initial: .milliseconds(600), maximum: .seconds(2))
        let camera = try V4L2Camera(path: vividPath, options: options)
        try captureFrames(camera, count: 3)
        // The camera's own descriptor is the only one open, so vivid brings the node back as
        // soon as the camera closes it.
        try camera.setControl(named: "disconnect", to: "1")
        let result = try captureFrames(camera, count: 5) { frame in
            #expect(colourBarMismatches(frame).isEmpty)
        }
        let counters = camera.v4l2Counters
        print("fault disconnect: injected 1 disconnect; \(result.unavailable) device-unavailable answers; counters \(counters)")
        #expect(result.frames == 5)
        #expect(result.unavailable >= 1)
        #expect(counters.deviceLost == 1)
        #expect(counters.reconnects == 1)
        #expect(counters.outageSeconds >= 0.6)
        #expect(counters.lastError?.contains("(errno 19)") == true)
    }

    @Test func aDeviceThatStaysAwayIsRetriedWithBackoffUntilItReturns() throws {
        var options = testOptions(.yuyv, width: 640, height: 480, fps: 25)
        options.backoff = V4L2Backoff(initial: .milliseconds(50), maximum: .milliseconds(200))
        let camera = try V4L2Camera(path: vividPath, options: options)
        try captureFrames(camera, count: 3)
        do {
            // vivid brings a disconnected node back only once every handle is closed; this one
            // keeps it away, so the camera's reopen attempts fail (open says ENODEV).
            let keepAway = try V4L2DeviceControls(path: vividPath)
            try keepAway.set(named: "disconnect", to: "1")
            let during = try captureFrames(camera, count: 1, limit: .milliseconds(1500))
            let counters = camera.v4l2Counters
            print("fault disconnect held: \(during.unavailable) device-unavailable answers in 1.5 s; counters \(counters)")
            #expect(during.frames == 0)
            #expect(during.unavailable >= 3)
            #expect(counters.isLost)
            // 50, 100, 200, 200... ms: at least 4 failed attempts in 1.5 s, far fewer than a
            // busy loop would make.
            #expect((4...20).contains(counters.reopenFailures))
            #expect(counters.outageSeconds >= 1.0)
            #expect(counters.lastError?.contains("(errno 19)") == true)
        }
        let after = try captureFrames(camera, count: 3)
        let counters = camera.v4l2Counters
        print("fault disconnect released: counters \(counters)")
        #expect(after.frames == 3)
        #expect(counters.deviceLost == 1 && counters.reconnects == 1 && !counters.isLost)
    }

    @Test func mjpegThroughLoopbackDeliversTheWrittenBytes() throws {
        let folder = getenv("OBSCURA_V4L2_FIXTURES").map { String(cString: $0) } ?? "/fixtures"
        let jpegs = (1...3).compactMap { readFile("\(folder)/frame_\($0).jpg") }
        try #require(jpegs.count == 3)
        let writer = try V4L2OutputWriter(path: loopbackPath, pixelFormat: .mjpeg, width: 640, height: 480,
                                          sizeImage: jpegs.map(\.count).max()! * 2)
        try writer.write(contentsOf: jpegs[0])
        let camera = try V4L2Camera(path: loopbackPath, options: testOptions(nil, width: 640, height: 480, fps: nil))
        #expect(camera.granted.pixelFormat == .mjpeg)
        #expect(camera.mode.format == .mjpeg)
        var matched = 0
        for round in 0..<9 {
            let jpeg = jpegs[round % 3]
            try writer.write(contentsOf: jpeg)
            try captureFrames(camera, count: 1, limit: .seconds(3)) { frame in
                let payload = Array(frame.payload)
                if payload == jpeg { matched += 1 } else {
                    Issue.record("round \(round): payload of \(payload.count) bytes is not the \(jpeg.count)-byte JPEG written")
                }
            }
        }
        let counters = camera.v4l2Counters
        print("mjpeg loopback: 9 JPEGs written, \(matched) payloads equal; counters \(counters)")
        #expect(matched >= 8)
        // v4l2loopback's first buffer is stale (bytesused is the whole buffer): discarded.
        #expect(counters.truncatedJPEG <= 1)

        // A JPEG cut short (a camera losing USB packets) is discarded and counted, never passed
        // on; the whole one written after it comes through.
        let truncated = Array(jpegs[1].prefix(jpegs[1].count / 2))
        try writer.write(contentsOf: truncated)
        let cut = try camera.capture(timeout: .seconds(1))
        switch consume cut {
        case .frame(let frame): Issue.record("a truncated JPEG was delivered as a \(frame.payloadSize)-byte payload")
        case .noFrame: break
        case .deviceUnavailable: Issue.record("the loopback device was reported lost")
        }
        #expect(camera.v4l2Counters.truncatedJPEG == counters.truncatedJPEG + 1)
        try writer.write(contentsOf: jpegs[2])
        var whole = false
        try captureFrames(camera, count: 1, limit: .seconds(3)) { frame in whole = Array(frame.payload) == jpegs[2] }
        #expect(whole)
        print("mjpeg loopback: truncated JPEG written; counters \(camera.v4l2Counters)")
    }
}
