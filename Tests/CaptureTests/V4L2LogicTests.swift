// Host-runnable tests of the V4L2 capture path's pure logic: fourcc codes, format choice,
// geometry clamping, copying driver buffers into pooled frames, the JPEG completeness check,
// sequence gaps, backoff and control naming. No device needed; the device tests are in
// V4L2DeviceTests.swift and run inside the VM (tools/v4l2-vm-test).

import Testing
@testable import Capture
import Frames

@Suite struct V4L2FourCCTests {
    @Test func packsLikeTheKernelMacro() {
        // v4l2_fourcc('Y','U','Y','V') == 0x56595559 in videodev2.h.
        #expect(V4L2FourCC("YUYV")?.rawValue == 0x5659_5559)
        #expect(V4L2FourCC.mjpeg.description == "MJPG")
        #expect(V4L2FourCC(rawValue: 0x3231_564E).description == "NV12")
        #expect(V4L2FourCC("Y16")?.description == "Y16 ")
        #expect(V4L2FourCC("TOOLONG") == nil)
        #expect(V4L2FourCC.grey.pixelFormat == .gray8)
        #expect(V4L2FourCC.yu12.pixelFormat == .i420)
        #expect(V4L2FourCC("RGB3")?.pixelFormat == nil)
    }

    @Test func intervalFromRate() {
        #expect(V4L2Interval(fps: 25) == V4L2Interval(numerator: 1, denominator: 25))
        #expect(V4L2Interval(fps: 12.5) == V4L2Interval(numerator: 1000, denominator: 12500))
        #expect(V4L2Interval(numerator: 2, denominator: 25).fps == 12.5)
        #expect(V4L2Interval(numerator: 0, denominator: 0).fps == 0)
    }
}

@Suite struct V4L2FormatChoiceTests {
    let webcam: [V4L2OfferedFormat] = [
        V4L2OfferedFormat(pixelFormat: .yuyv, sizes: [(640, 480, [30, 15]), (1280, 720, [10])]),
        V4L2OfferedFormat(pixelFormat: .mjpeg, sizes: [(640, 480, [30]), (1280, 720, [30]), (1920, 1080, [30])]),
    ]

    @Test func defaultsToYUYVAtVGAAtTheFastestRate() {
        let proposal = chooseV4L2Format(offered: webcam, options: V4L2Options())
        #expect(proposal == V4L2FormatProposal(pixelFormat: .yuyv, width: 640, height: 480, fps: 30))
    }

    @Test func prefersMJPEGForLargeSizes() {
        let proposal = chooseV4L2Format(offered: webcam, options: V4L2Options(width: 1280, height: 720))
        #expect(proposal == V4L2FormatProposal(pixelFormat: .mjpeg, width: 1280, height: 720, fps: 30))
    }

    @Test func honoursARequestedFormatAndRate() {
        let proposal = chooseV4L2Format(offered: webcam, options: V4L2Options(pixelFormat: .yuyv, width: 1280, height: 720, fps: 5))
        #expect(proposal == V4L2FormatProposal(pixelFormat: .yuyv, width: 1280, height: 720, fps: 5))
    }

    @Test func rawOrderIsYUYVThenNV12ThenGREY() {
        let offered = [
            V4L2OfferedFormat(pixelFormat: .grey, sizes: [(640, 480, [25])]),
            V4L2OfferedFormat(pixelFormat: .nv12, sizes: [(640, 480, [25])]),
        ]
        #expect(chooseV4L2Format(offered: offered, options: V4L2Options())?.pixelFormat == .nv12)
        #expect(chooseV4L2Format(offered: [offered[0]], options: V4L2Options())?.pixelFormat == .grey)
    }

    @Test func neverChoosesEmulatedOrUnknownFormats() {
        let offered = [
            V4L2OfferedFormat(pixelFormat: V4L2FourCC("RGB3")!, sizes: [(640, 480, [30])]),
            V4L2OfferedFormat(pixelFormat: .yu12, emulated: true, sizes: [(640, 480, [30])]),
            V4L2OfferedFormat(pixelFormat: .grey, sizes: [(320, 240, [30])]),
        ]
        #expect(chooseV4L2Format(offered: offered, options: V4L2Options()) ==
                V4L2FormatProposal(pixelFormat: .grey, width: 320, height: 240, fps: 30))
        #expect(chooseV4L2Format(offered: Array(offered.prefix(2)), options: V4L2Options()) == nil)
    }

    @Test func stepwiseSizesTakeVGAInsideTheRange() {
        let offered = [V4L2OfferedFormat(pixelFormat: .yuyv, sizeRange: (16, 4096, 16, 2160))]
        #expect(chooseV4L2Format(offered: offered, options: V4L2Options()) ==
                V4L2FormatProposal(pixelFormat: .yuyv, width: 640, height: 480, fps: nil))
    }
}

@Suite struct V4L2GeometryTests {
    @Test func clampsShortRowsAndImagesAsCaptureCDoes() {
        let yuyv = clampV4L2Geometry(.yuyv, width: 640, height: 480, bytesPerLine: 0, sizeImage: 0)
        #expect(yuyv.bytesPerLine == 1280 && yuyv.sizeImage == 1280 * 480)
        let padded = clampV4L2Geometry(.yuyv, width: 640, height: 480, bytesPerLine: 1536, sizeImage: 1000)
        #expect(padded.bytesPerLine == 1536 && padded.sizeImage == 1536 * 480)
        let generous = clampV4L2Geometry(.grey, width: 640, height: 480, bytesPerLine: 640, sizeImage: 400_000)
        #expect(generous.bytesPerLine == 640 && generous.sizeImage == 400_000)
    }

    @Test func planarImagesIncludeTheirChroma() {
        let nv12 = clampV4L2Geometry(.nv12, width: 5, height: 3, bytesPerLine: 0, sizeImage: 0)
        #expect(nv12.bytesPerLine == 6 && nv12.sizeImage == 6 * 3 + 6 * 2)
        let yu12 = clampV4L2Geometry(.yu12, width: 640, height: 480, bytesPerLine: 640, sizeImage: 0)
        #expect(yu12.sizeImage == 640 * 480 * 3 / 2)
    }

    @Test func compressedFormatsFallBackToTheBufferLength() {
        let mjpeg = clampV4L2Geometry(.mjpeg, width: 640, height: 480, bytesPerLine: 1280, sizeImage: 0, bufferLength: 614_400)
        #expect(mjpeg.bytesPerLine == 0 && mjpeg.sizeImage == 614_400)
    }
}

@Suite struct V4L2FrameCopyTests {
    /// A driver buffer whose every byte says where it came from (plane, row, column).
    func source(planes: [(offset: Int, stride: Int, rows: Int, rowBytes: Int)], length: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0xEE, count: length)
        for (planeIndex, plane) in planes.enumerated() {
            for row in 0..<plane.rows {
                for column in 0..<plane.rowBytes {
                    bytes[plane.offset + row * plane.stride + column] = UInt8(truncatingIfNeeded: planeIndex * 100 + row * 10 + column)
                }
            }
        }
        return bytes
    }

    func check(_ code: V4L2FourCC, width: Int, height: Int, bytesPerLine: Int) {
        let format = V4L2GrantedFormat(pixelFormat: code, width: width, height: height, bytesPerLine: bytesPerLine,
                                       sizeImage: v4l2ImageBytes(code, bytesPerLine: bytesPerLine, height: height), fps: 30)
        let planes = v4l2SourcePlanes(code, width: width, height: height, bytesPerLine: bytesPerLine)
        let bytes = source(planes: planes, length: format.sizeImage)
        let layout = FrameLayout(format: code.pixelFormat!, width: width, height: height)
        let pool = FramePool(count: 1, layout: layout)
        var frame = pool.makeFrame(layout: layout, sequence: 0, captureTime: .now)!
        let copied = bytes.withUnsafeBytes { copyV4L2Image(from: $0, format: format, into: &frame) }
        #expect(copied)
        for (planeIndex, plane) in planes.enumerated() {
            let destination = frame.plane(planeIndex)
            #expect(destination.rowBytes == plane.rowBytes, "plane \(planeIndex) of \(code)")
            let view = frame.planeBytes(planeIndex)
            for row in 0..<plane.rows {
                for column in 0..<plane.rowBytes {
                    let expected = UInt8(truncatingIfNeeded: planeIndex * 100 + row * 10 + column)
                    if view[row * destination.stride + column] != expected {
                        Issue.record("\(code) plane \(planeIndex) row \(row) column \(column): \(view[row * destination.stride + column]) != \(expected)")
                        return
                    }
                }
            }
        }
        // One byte short of the last sample must be refused, not half-copied. (The padding after
        // the last row is not needed.)
        let last = planes[planes.count - 1]
        let needed = last.offset + last.stride * (last.rows - 1) + last.rowBytes
        let short = bytes.prefix(needed - 1).withUnsafeBytes { copyV4L2Image(from: $0, format: format, into: &frame) }
        #expect(!short)
    }

    @Test func copiesPaddedRowsOfEveryRawFormat() {
        check(.yuyv, width: 6, height: 3, bytesPerLine: 16)
        check(.yuyv, width: 32, height: 2, bytesPerLine: 64)
        check(.grey, width: 7, height: 5, bytesPerLine: 9)
        check(.nv12, width: 5, height: 3, bytesPerLine: 8)
        check(.yu12, width: 6, height: 4, bytesPerLine: 8)
        check(.yuv422Planar, width: 6, height: 3, bytesPerLine: 6)
    }
}

@Suite struct V4L2JPEGCheckTests {
    func complete(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes(isCompleteJPEG) }

    @Test func acceptsSOIToEOIWithSmallZeroPadding() {
        let body: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 0xFF, 0xD9]
        #expect(complete(body))
        #expect(complete(body + [UInt8](repeating: 0, count: 16)))
    }

    @Test func rejectsTruncatedAndHeadlessPayloads() {
        let body: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 0xFF, 0xD9]
        #expect(!complete(Array(body.dropLast(3))))
        #expect(!complete(Array(body.dropFirst(2))))
        #expect(!complete(body + [UInt8](repeating: 0, count: 40)))
        #expect(!complete([UInt8](repeating: 0, count: 4096)))
        #expect(!complete([]))
    }
}

@Suite struct V4L2SequenceAndBackoffTests {
    @Test func gapsCountAsDriverDrops() {
        var tracker = V4L2SequenceTracker()
        #expect([0, 1, 2, 5, 6, 10].map { tracker.record($0) } == [0, 0, 0, 2, 0, 3])
        var wrapping = V4L2SequenceTracker()
        #expect([UInt32.max - 1, UInt32.max, 0, 2].map { wrapping.record($0) } == [0, 0, 0, 1])
        var restarted = V4L2SequenceTracker()
        #expect([40, 41, 3].map { restarted.record($0) } == [0, 0, 0])
    }

    @Test func backoffDoublesUpToItsBound() {
        let backoff = V4L2Backoff(initial: .milliseconds(100), maximum: .seconds(1))
        #expect((0..<6).map { backoff.delay(afterFailures: $0) } ==
                [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
        #expect(backoff.delay(afterFailures: 10_000) == .seconds(1))
    }
}

@Suite struct V4L2ControlNamingTests {
    @Test func keysMatchV4L2Ctl() {
        #expect(v4l2ControlKey("White Balance Temperature") == "white_balance_temperature")
        #expect(v4l2ControlKey("Inject V4L2_BUF_FLAG_ERROR") == "inject_v4l2_buf_flag_error")
        #expect(v4l2ControlKey("Exposure, Auto Priority") == "exposure_auto_priority")
        #expect(v4l2ControlKey("  Power Line Frequency ") == "power_line_frequency")
    }

    func control(_ name: String, type: String, range: ClosedRange<Int64> = 0...255, menu: [V4L2MenuItem] = []) -> V4L2ControlInfo {
        V4L2ControlInfo(id: 1, name: name, key: v4l2ControlKey(name), type: type, minimum: range.lowerBound,
                        maximum: range.upperBound, step: 1, defaultValue: 0, value: 0, flags: [], menu: menu)
    }

    @Test func aliasesFindTheStandardExposureAndWhiteBalance() {
        let controls = [control("Exposure Time, Absolute", type: "integer"), control("White Balance Temperature", type: "integer")]
        #expect(findV4L2Control(named: "exposure", in: controls)?.key == "exposure_time_absolute")
        #expect(findV4L2Control(named: "White Balance", in: controls)?.key == "white_balance_temperature")
        #expect(findV4L2Control(named: "gain", in: controls) == nil)
    }

    @Test func valuesAreCheckedAgainstTypeRangeAndMenu() throws {
        let powerLine = control("Power Line Frequency", type: "menu", range: 0...2, menu: [
            V4L2MenuItem(index: 0, name: "Disabled", value: nil), V4L2MenuItem(index: 1, name: "50 Hz", value: nil),
            V4L2MenuItem(index: 2, name: "60 Hz", value: nil)])
        #expect(try parseV4L2ControlValue("50 Hz", for: powerLine).get() == 1)
        #expect(try parseV4L2ControlValue("60_hz", for: powerLine).get() == 2)
        #expect(try parseV4L2ControlValue("0", for: powerLine).get() == 0)
        #expect(throws: CaptureError.self) { try parseV4L2ControlValue("45 Hz", for: powerLine).get() }
        let brightness = control("Brightness", type: "integer", range: -64...64)
        #expect(try parseV4L2ControlValue(" -10 ", for: brightness).get() == -10)
        #expect(throws: CaptureError.self) { try parseV4L2ControlValue("65", for: brightness).get() }
        #expect(try parseV4L2ControlValue("on", for: control("Mirror", type: "boolean")).get() == 1)
    }

    @Test func settingsParseFromNameEqualsValue() {
        #expect(V4L2ControlSetting(parsing: "power_line_frequency=50 Hz") == V4L2ControlSetting(name: "power_line_frequency", value: "50 Hz"))
        #expect(V4L2ControlSetting(parsing: "=3") == nil)
    }

    @Test func systemErrorsNameTheCallAndErrno() {
        let error = CaptureError.system(call: "VIDIOC_STREAMON", path: "/dev/video0", errno: 22)
        #expect(error.description == "/dev/video0: VIDIOC_STREAMON failed: Invalid argument (errno 22)")
    }
}

@Suite struct V4L2CopyCostTests {
    /// The per-frame cost of the capture path's copy (driver buffer to pooled frame) for one
    /// 640x480 YUYV frame with padded driver rows. Printed, not asserted: the VM run prints the
    /// same line, and the ratio of the two is the emulation's cost (see tools/v4l2-vm-test).
    @Test func copyCostPerFrameIsReported() {
        let format = V4L2GrantedFormat(pixelFormat: .yuyv, width: 640, height: 480, bytesPerLine: 1344,
                                       sizeImage: 1344 * 480, fps: 25)
        let source = [UInt8](repeating: 0x80, count: format.sizeImage)
        let layout = FrameLayout(format: .yuyv, width: 640, height: 480)
        let pool = FramePool(count: 1, layout: layout)
        let rounds = 200
        var copied = 0
        let start = ContinuousClock.now
        for round in 0..<rounds {
            var frame = pool.makeFrame(layout: layout, sequence: UInt64(round), captureTime: .now)!
            if source.withUnsafeBytes({ copyV4L2Image(from: $0, format: format, into: &frame) }) { copied += 1 }
        }
        let elapsed = ContinuousClock.now - start
        let microseconds = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
        print("v4l2 copy cost: 640x480 YUYV \(String(Int(microseconds / Double(rounds)))) us per frame over \(rounds) frames")
        #expect(copied == rounds)
    }
}

@Suite struct V4L2SpecBridgeTests {
    @Test func specOptionsBecomeCameraOptions() {
        let options = V4L2Options(spec: CameraSpec.V4L2Options(width: 1280, height: 720, fps: 30, format: .mjpeg), poolSize: 6)
        #expect(options.pixelFormat == .mjpeg && options.width == 1280 && options.height == 720)
        #expect(options.fps == 30 && options.poolSize == 6)
        #expect(V4L2Options(spec: CameraSpec.V4L2Options()).pixelFormat == nil)
        #expect(PixelFormat.allCases.allSatisfy { V4L2FourCC($0).pixelFormat == $0 })
    }
}
