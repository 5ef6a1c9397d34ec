// The coefficient-domain path against the pixel path: the same regions redacted both ways on
// real MJPEG frames (4:2:0, 4:2:2, greyscale) decode to the same pixels within what DC
// re-quantisation allows, every pixel outside the masked MCUs is bit-exact, masked cells keep no
// detail, the mask rounds outward to whole MCUs, and every failure drops the frame, counted.

import Analysis
import Codec
import Foundation
import Frames
import Redaction
import Testing

// MARK: - Helpers

enum CompressedFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The first JPEG of a concatenated-MJPEG fixture, or a failure naming tools/bootstrap.
    static func firstJPEG(_ name: String) throws -> [UInt8] {
        let path = root.appendingPathComponent("Fixtures/\(name)").path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CompressedTestError(description: "fixture \(path) is missing: run tools/bootstrap to prepare Fixtures/")
        }
        defer { try? handle.close() }
        let bytes = [UInt8](handle.readData(ofLength: 1 << 20))
        var index = 2
        while index + 1 < bytes.count {
            if bytes[index] == 0xFF && bytes[index + 1] == 0xD9 {
                let end = index + 2
                if end == bytes.count || (end + 1 < bytes.count && bytes[end] == 0xFF && bytes[end + 1] == 0xD8) {
                    return Array(bytes[..<end])
                }
            }
            index += 1
        }
        throw CompressedTestError(description: "no complete JPEG at the start of \(path): run tools/bootstrap again")
    }

    /// A greyscale JPEG of the 4:2:0 frame's luma, made by the project's encoder.
    static func greyJPEG() throws -> [UInt8] {
        let decoded = try decode(try firstJPEG("vtest_640x480.mjpeg"), output: .gray)
        return try JPEGEncoder().encode(decoded, quality: 80)
    }

    /// The 4:2:0 frame re-encoded at quality 30: coarse DC steps (27 for luma), where the
    /// re-quantisation of a cell's mean DC matters most.
    static func lowQualityJPEG() throws -> [UInt8] {
        try JPEGEncoder().encode(try decode(try firstJPEG("vtest_640x480.mjpeg")), quality: 30)
    }

    /// The 4:2:2 frame as UVC webcams code it: luma sampled 2x1, so MCUs are 16x8 (ffmpeg's
    /// 4:2:2 uses 2x2 luma and 1x2 chroma, 16x16 MCUs). The project's encoder writes 2x1.
    static func webcam422JPEG() throws -> [UInt8] {
        try JPEGEncoder().encode(try decode(try firstJPEG("vtest_640x480_422.mjpeg")), quality: 75)
    }

    /// One JPEG of each kind under test.
    static func samples() throws -> [(name: String, jpeg: [UInt8])] {
        [("4:2:0", try firstJPEG("vtest_640x480.mjpeg")), ("4:2:2", try firstJPEG("vtest_640x480_422.mjpeg")), ("grey", try greyJPEG()),
         ("4:2:0 q30", try lowQualityJPEG()), ("4:2:2 16x8 MCUs", try webcam422JPEG())]
    }

    static func decode(_ jpeg: [UInt8], output: JPEGOutput = .yuv) throws -> Frame {
        let pool = FramePool(count: 1, layout: FrameLayout(format: .i422, width: 656, height: 496))
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: max(jpeg.count, 1), alignment: 16)
        defer { payload.deallocate() }
        payload.copyBytes(from: jpeg)
        return try JPEGDecoder().decode(UnsafeRawBufferPointer(rebasing: payload[0..<jpeg.count]), from: pool, output: output)
    }

    /// An `.mjpeg` frame holding `jpeg`, from a pool of one.
    static func mjpegFrame(_ jpeg: [UInt8], sequence: UInt64 = 3) throws -> Frame {
        let pool = FramePool(count: 1, layout: FrameLayout(format: .mjpeg, width: 640, height: 480, payloadCapacity: 1 << 20))
        guard var frame = pool.makeFrame(layout: FrameLayout(format: .mjpeg, width: 640, height: 480, payloadCapacity: 1 << 20),
                                         sequence: sequence, captureTime: .now) else {
            throw CompressedTestError(description: "no frame from a fresh pool")
        }
        // Past the payload, bytes as an earlier, longer capture would have left them.
        frame.buffer.bytes.initializeMemory(as: UInt8.self, repeating: 0xA5)
        guard jpeg.withUnsafeBytes({ frame.setPayload($0) }) else { throw CompressedTestError(description: "payload does not fit") }
        return frame
    }

    static func outputPool(count: Int = 2) -> FramePool {
        FramePool(count: count, layout: Redactor.compressedOutputLayout(width: 640, height: 480, subsampling: .yuv422))
    }
}

struct CompressedTestError: Error, CustomStringConvertible {
    var description: String
}

/// The samples of every plane, without row padding.
func planeSamples(_ layout: FrameLayout, _ bytes: (Int) -> UnsafeRawBufferPointer) -> [[UInt8]] {
    layout.planes.indices.map { index in
        let plane = layout.planes[index], data = bytes(index)
        return (0..<plane.height).flatMap { row in Array(data[(row * plane.stride)..<(row * plane.stride + plane.width)]) }
    }
}

func planeSamples(_ frame: borrowing Frame) -> [[UInt8]] {
    planeSamples(frame.layout) { UnsafeRawBufferPointer(frame.planeBytes($0)) }
}

func planeSamples(_ frame: borrowing RedactedFrame) -> [[UInt8]] {
    planeSamples(frame.layout) { frame.planeBytes($0) }
}

/// A copy of a redacted MJPEG frame's payload.
func payloadBytes(_ frame: borrowing RedactedFrame) -> [UInt8] { Array(frame.payload) }

/// The decoded planes of a redacted MJPEG frame's payload.
func decodedPayload(_ frame: borrowing RedactedFrame) throws -> [[UInt8]] {
    planeSamples(try CompressedFixtures.decode(Array(frame.payload)))
}

/// Which MCU each sample of each plane belongs to, for a `width` x `height` image of these planes.
struct MCUMap {
    var mcuWidth: Int
    var mcuHeight: Int
    var columns: Int

    func mcu(plane: Plane, x: Int, y: Int, width: Int, height: Int) -> Int {
        // Plane samples per MCU: the MCU scaled by the plane's share of the image.
        let perColumn = max(1, mcuWidth * plane.width / width), perRow = max(1, mcuHeight * plane.height / height)
        return (y / perRow) * columns + x / perColumn
    }
}

// MARK: - Tests

@Suite("Redactor, coefficient domain")
struct CompressedRedactionTests {
    /// Boxes on the MCU grid whose pixel-path cell (longer side / `pixelateCellsAcross`, 6) is a
    /// whole number of MCUs: 96 pixels gives 16-pixel cells, 192 gives 32; so both paths use the
    /// same cell grid. The third overlaps the first on the same grid: the later region's cells
    /// are made from what the earlier one wrote, in both paths.
    static let alignedBoxes = [DetectionBox(x: 96, y: 64, width: 96, height: 96),
                               DetectionBox(x: 320, y: 224, width: 192, height: 144),
                               DetectionBox(x: 160, y: 128, width: 96, height: 96)]

    @Test("pixelate and fill match the pixel path within DC re-quantisation; outside the masked MCUs every pixel is bit-exact",
          arguments: [RedactionMethod.pixelate, .fill])
    func matchesPixelPath(method: RedactionMethod) throws {
        for (name, jpeg) in try CompressedFixtures.samples() {
            let configuration = RedactionConfiguration(policy: .detections(margin: 0), method: method)
            let analysis = RedactionInput(unverified: Self.alignedBoxes)
            let original = try CompressedFixtures.decode(jpeg)
            let originalPlanes = planeSamples(original)
            let layout = original.layout

            let pixelRedactor = Redactor(configuration: configuration)
            let pixelPath = planeSamples(pixelRedactor.redact(try CompressedFixtures.decode(jpeg), analysis: analysis))

            let compressedRedactor = Redactor(configuration: configuration)
            #expect(compressedRedactor.canRedactCompressed)
            let redacted = compressedRedactor.redactCompressed(try CompressedFixtures.mjpegFrame(jpeg), analysis: analysis,
                                                               outputPool: CompressedFixtures.outputPool())
            #expect(redacted.format == .mjpeg && !redacted.wholeFrameMasked && redacted.sequence == 3, "\(name)")
            let coefficientPath = try decodedPayload(redacted)

            // Each plane's DC quantiser bounds the difference: a cell's DC mean is re-quantised
            // (error up to half a step, Q/2, which is Q/16 grey levels since a DC of 8 is one
            // level), both paths round their value to a level (1 more), and a decoded block's
            // mean differs from its DC by the IDCT's per-pixel rounding and clamping (1 more).
            let editor = JPEGCoefficientEditor()
            let geometry = try jpeg.withUnsafeBytes { try editor.read($0) }
            editor.abort()
            let map = MCUMap(mcuWidth: geometry.mcuWidth, mcuHeight: geometry.mcuHeight, columns: geometry.mcuColumns)
            var maskedMCUs = Set<Int>()
            for box in Self.alignedBoxes {
                for row in (box.y / geometry.mcuHeight)..<((box.y + box.height) / geometry.mcuHeight) {
                    for column in (box.x / geometry.mcuWidth)..<((box.x + box.width) / geometry.mcuWidth) {
                        maskedMCUs.insert(row * geometry.mcuColumns + column)
                    }
                }
            }
            for index in layout.planes.indices {
                let plane = layout.planes[index]
                let quantizer = geometry.component(index).dcQuantizer
                let bound = (quantizer + 15) / 16 + 2
                var total = 0, count = 0, worst = 0, outsideChanged = 0, pixelPathOutsideChanged = 0
                for y in 0..<plane.height {
                    for x in 0..<plane.width {
                        let offset = y * plane.width + x
                        if maskedMCUs.contains(map.mcu(plane: plane, x: x, y: y, width: layout.width, height: layout.height)) {
                            let difference = abs(Int(coefficientPath[index][offset]) - Int(pixelPath[index][offset]))
                            total += difference
                            count += 1
                            worst = max(worst, difference)
                        } else {
                            if coefficientPath[index][offset] != originalPlanes[index][offset] { outsideChanged += 1 }
                            if pixelPath[index][offset] != originalPlanes[index][offset] { pixelPathOutsideChanged += 1 }
                        }
                    }
                }
                let mean = Double(total) / Double(max(count, 1))
                print("coefficient vs pixel path, \(name) \(method) plane \(index): DC step \(quantizer), mean \(mean), max \(worst) (bound \(bound))")
                #expect(count > 0)
                #expect(worst <= bound, "\(name) \(method) plane \(index): max difference \(worst) over \(bound) (DC step \(quantizer))")
                #expect(mean <= Double(quantizer) / 32 + 1, "\(name) \(method) plane \(index): mean difference \(mean)")
                if method == .fill { #expect(worst == 0, "\(name) plane \(index): fill is exact") }
                #expect(outsideChanged == 0, "\(name) \(method) plane \(index): \(outsideChanged) samples outside the masked MCUs changed")
                #expect(pixelPathOutsideChanged == 0, "\(name) \(method) plane \(index): the pixel path changed \(pixelPathOutsideChanged) samples outside")
            }
            #expect(compressedRedactor.counters.compressedFrames == 1 && compressedRedactor.counters.compressedDropped == 0)
            #expect(abs(redacted.maskedFraction - Double(maskedMCUs.count * geometry.mcuWidth * geometry.mcuHeight) / Double(640 * 480)) < 1e-9)
        }
    }

    @Test("pixelated cells hold no trace of the original: every chroma cell and every luma block is one value")
    func cellsAreFlat() throws {
        for (name, jpeg) in try CompressedFixtures.samples() {
            let redactor = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0), method: .pixelate))
            let redacted = redactor.redactCompressed(try CompressedFixtures.mjpegFrame(jpeg), analysis: RedactionInput(unverified: Self.alignedBoxes),
                                                     outputPool: CompressedFixtures.outputPool())
            let planes = try decodedPayload(redacted)
            let layout = try CompressedFixtures.decode(jpeg).layout
            for index in layout.planes.indices {
                let plane = layout.planes[index]
                let horizontal = (layout.width + plane.width - 1) / plane.width
                let vertical = (layout.height + plane.height - 1) / plane.height
                for box in Self.alignedBoxes {
                    // The pixel path's cell: a box's longer side / 6, chroma divided by the
                    // horizontal subsampling.
                    // Luma is level-matched after pixelation: one value per 8x8 block of a cell
                    // (LevelMatchingTests checks that nothing finer than a cell decides it).
                    let cell = index == 0 ? levelMatchingTile : max(box.width, box.height) / Redactor.pixelateCellsAcross / horizontal
                    var cells = 0, flat = 0
                    for top in stride(from: box.y / vertical, to: (box.y + box.height) / vertical, by: cell) {
                        for left in stride(from: box.x / horizontal, to: (box.x + box.width) / horizontal, by: cell) {
                            var values = Set<UInt8>()
                            for y in top..<min(top + cell, (box.y + box.height) / vertical) {
                                for x in left..<min(left + cell, (box.x + box.width) / horizontal) { values.insert(planes[index][y * plane.width + x]) }
                            }
                            cells += 1
                            if values.count == 1 { flat += 1 }
                        }
                    }
                    #expect(cells > 0 && flat == cells, "\(name) plane \(index) box \(box): \(flat) of \(cells) cells flat")
                }
            }
        }
    }

    @Test("the mask rounds outward: any masked pixel masks its whole MCU, in boxes and in the foreground")
    func roundsOutward() throws {
        let jpeg = try CompressedFixtures.firstJPEG("vtest_640x480.mjpeg")
        let originalLuma = planeSamples(try CompressedFixtures.decode(jpeg))[0]
        // A 3x2 box straddling four MCUs, and one foreground pixel of a 1/4-scale mask (a 4x4
        // block at (200, 300)), dilation off.
        var coarse = [UInt8](repeating: 0, count: 160 * 120)
        coarse[75 * 160 + 50] = 255
        let analysis = RedactionInput(unverified: [DetectionBox(x: 15, y: 31, width: 3, height: 2)],
                                      foreground: ForegroundMask(width: 160, height: 120, pixels: coarse, scale: 4))
        let redactor = Redactor(configuration: RedactionConfiguration(policy: .foreground(margin: 0), method: .fill, foregroundDilation: 0))
        let redacted = redactor.redactCompressed(try CompressedFixtures.mjpegFrame(jpeg), analysis: analysis,
                                                 outputPool: CompressedFixtures.outputPool())
        let luma = try decodedPayload(redacted)[0]
        let expected: Set<Int> = [1 * 40 + 0, 1 * 40 + 1, 2 * 40 + 0, 2 * 40 + 1, (300 / 16) * 40 + 200 / 16]
        var wrong = 0
        for y in 0..<480 {
            for x in 0..<640 {
                let masked = expected.contains((y / 16) * 40 + x / 16)
                if masked ? luma[y * 640 + x] != 128 : luma[y * 640 + x] != originalLuma[y * 640 + x] { wrong += 1 }
            }
        }
        #expect(wrong == 0, "\(wrong) luma samples are not as the MCU mask says")
        #expect(abs(redacted.maskedFraction - 5.0 * 256 / (640 * 480)) < 1e-9)
    }

    @Test("prepareCompressed: one entropy decode gives the analysis luma and the same redacted output; a read is used only for its own frame")
    func preparedRead() throws {
        let first = try CompressedFixtures.firstJPEG("vtest_640x480.mjpeg")
        let second = try CompressedFixtures.webcam422JPEG()
        let configuration = RedactionConfiguration(policy: .detections(margin: 0.3), method: .pixelate)
        let analysis = RedactionInput(unverified: Self.alignedBoxes)
        let lumaPool = FramePool(count: 1, layout: FrameLayout(format: .gray8, width: 640, height: 480))

        // Without preparing: the reference output of each frame.
        let reference = Redactor(configuration: configuration)
        // Copied inside a call that borrows the frame: `payload` points into the frame's buffer,
        // which a temporary would release (and, its pool gone, free) before the copy.
        let firstReference = payloadBytes(reference.redactCompressed(try CompressedFixtures.mjpegFrame(first, sequence: 5), analysis: analysis,
                                                                     outputPool: CompressedFixtures.outputPool()))
        let secondReference = payloadBytes(reference.redactCompressed(try CompressedFixtures.mjpegFrame(second, sequence: 6), analysis: analysis,
                                                                      outputPool: CompressedFixtures.outputPool()))

        let redactor = Redactor(configuration: configuration)
        let frame = try CompressedFixtures.mjpegFrame(first, sequence: 5)
        guard var luma = lumaPool.makeFrame(layout: FrameLayout(format: .gray8, width: 0, height: 0), sequence: 5, captureTime: .now) else {
            throw CompressedTestError(description: "no luma frame")
        }
        try redactor.prepareCompressed(frame, lumaInto: &luma)
        #expect(planeSamples(luma)[0] == planeSamples(try CompressedFixtures.decode(first))[0])
        let prepared = redactor.redactCompressed(frame, analysis: analysis, outputPool: CompressedFixtures.outputPool())
        let preparedBytes = payloadBytes(prepared)
        let differing = preparedBytes.indices.filter { $0 >= firstReference.count || preparedBytes[$0] != firstReference[$0] }
        #expect(preparedBytes.count == firstReference.count && differing.isEmpty,
                "sizes \(preparedBytes.count) \(firstReference.count), \(differing.count) bytes differ, first \(differing.prefix(8)): \(differing.prefix(8).map { (preparedBytes[$0], firstReference[$0]) })")
        #expect(redactor.compressedJPEGCounters.decoded == 1)

        // As RedactStep calls it: prepared, and given the analysis luma for level matching (the
        // call above had none, so the redactor read the frame again with its own decode). The
        // same output, from the prepared read.
        let live = Redactor(configuration: configuration)
        let liveFrame = try CompressedFixtures.mjpegFrame(first, sequence: 9)
        try live.prepareCompressed(liveFrame, lumaInto: &luma)
        let lumaPlane = SamplePlane(base: luma.planeBytes(0).baseAddress!, width: luma.width, height: luma.height, stride: luma.plane(0).stride)
        let liveBytes = payloadBytes(live.redactCompressed(liveFrame, analysis: analysis, outputPool: CompressedFixtures.outputPool(), luma: lumaPlane))
        #expect(liveBytes == firstReference, "with the caller's luma: \(liveBytes.count) bytes against \(firstReference.count)")
        #expect(live.compressedJPEGCounters.decoded == 1)

        // Prepared for one frame, then given another: the other is read afresh, never redacted
        // from the first one's coefficients.
        let preparedFirst = try CompressedFixtures.mjpegFrame(first, sequence: 7)
        try redactor.prepareCompressed(preparedFirst, lumaInto: &luma)
        let other = redactor.redactCompressed(try CompressedFixtures.mjpegFrame(second, sequence: 8), analysis: analysis,
                                              outputPool: CompressedFixtures.outputPool())
        let otherBytes = payloadBytes(other)
        let otherDiffering = otherBytes.indices.filter { $0 >= secondReference.count || otherBytes[$0] != secondReference[$0] }
        #expect(otherBytes.count == secondReference.count && otherDiffering.isEmpty,
                "sizes \(otherBytes.count) \(secondReference.count), \(otherDiffering.count) bytes differ, first \(otherDiffering.prefix(8))")
        #expect(redactor.counters.compressedFrames == 2 && redactor.counters.compressedDropped == 0)
    }

    @Test("analysis failed: every block is filled in the coefficient domain")
    func analysisFailed() throws {
        for (name, jpeg) in try CompressedFixtures.samples() {
            let redactor = Redactor()
            let redacted = redactor.redactCompressed(try CompressedFixtures.mjpegFrame(jpeg), analysis: .failed,
                                                     outputPool: CompressedFixtures.outputPool())
            #expect(redacted.wholeFrameMasked && redacted.maskedFraction == 1, "\(name)")
            #expect(redacted.payload.count > 0 && redacted.payload.count < 8000, "\(name): \(redacted.payload.count) bytes")
            for (index, plane) in try decodedPayload(redacted).enumerated() {
                #expect(plane.allSatisfy { $0 == 128 }, "\(name) plane \(index)")
            }
            #expect(redactor.counters.fullFrameMasks == 1 && redactor.counters.compressedFrames == 1)
        }
    }

    @Test("truncated or corrupt MJPEG is dropped with its bytes zeroed, counted, and the next frame is redacted")
    func badInputFailsClosed() throws {
        let jpeg = try CompressedFixtures.firstJPEG("vtest_640x480.mjpeg")
        let redactor = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0.3), method: .pixelate))
        let pool = CompressedFixtures.outputPool(count: 1)
        var corrupt = jpeg
        for index in stride(from: 700, to: corrupt.count - 2, by: 97) { corrupt[index] = 0xFF }
        for (label, bytes) in [("truncated", Array(jpeg[..<(jpeg.count / 2)])), ("corrupt", corrupt), ("not a JPEG", [0x00, 0x11, 0x22, 0x33])] {
            let redacted = redactor.redactCompressed(try CompressedFixtures.mjpegFrame(bytes), analysis: RedactionInput(),
                                                     outputPool: pool)
            #expect(redacted.payload.isEmpty && redacted.wholeFrameMasked && redacted.maskedFraction == 1, "\(label)")
            #expect(redacted.bytes.allSatisfy { $0 == 0 }, "\(label): the whole input buffer is zeroed")
            #expect(pool.available == 1, "\(label): no output buffer is held")
        }
        #expect(redactor.counters.compressedDropped == 3 && redactor.counters.fullFrameMasks == 3)
        let jpegCounters = redactor.compressedJPEGCounters
        #expect(jpegCounters.truncated >= 1 && jpegCounters.notJPEG == 1 && jpegCounters.failed == 3)
        // An exhausted output pool also drops, and a good frame afterwards is redacted.
        let held = redactor.redactCompressed(try CompressedFixtures.mjpegFrame(jpeg), analysis: RedactionInput(), outputPool: pool)
        #expect(!held.payload.isEmpty)
        let starved = redactor.redactCompressed(try CompressedFixtures.mjpegFrame(jpeg), analysis: RedactionInput(), outputPool: pool)
        #expect(starved.payload.isEmpty && starved.wholeFrameMasked)
        #expect(redactor.counters.compressedDropped == 4 && redactor.counters.compressedFrames == 1)
        // An output buffer too small for the JPEG: dropped, never a partial JPEG.
        let tiny = FramePool(count: 1, bufferCapacity: 4096)
        let cramped = redactor.redactCompressed(try CompressedFixtures.mjpegFrame(jpeg), analysis: RedactionInput(), outputPool: tiny)
        #expect(cramped.payload.isEmpty && redactor.compressedJPEGCounters.frameTooSmall == 1)
    }

    @Test("blur has no coefficient-domain form: canRedactCompressed is false, and a frame sent anyway is filled")
    func blurFallsBackToFill() throws {
        let jpeg = try CompressedFixtures.firstJPEG("vtest_640x480.mjpeg")
        let redactor = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0), method: .blur))
        #expect(!redactor.canRedactCompressed)
        let redacted = redactor.redactCompressed(try CompressedFixtures.mjpegFrame(jpeg), analysis: RedactionInput(unverified: Self.alignedBoxes),
                                                 outputPool: CompressedFixtures.outputPool())
        let luma = try decodedPayload(redacted)[0]
        let box = Self.alignedBoxes[0]
        #expect((box.y..<(box.y + box.height)).allSatisfy { y in (box.x..<(box.x + box.width)).allSatisfy { luma[y * 640 + $0] == 128 } })
    }

    @Test("raw frames given to redactCompressed take the pixel path")
    func rawFramesUsePixelPath() throws {
        let jpeg = try CompressedFixtures.firstJPEG("vtest_640x480.mjpeg")
        let redactor = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0), method: .fill))
        let redacted = redactor.redactCompressed(try CompressedFixtures.decode(jpeg), analysis: RedactionInput(unverified: Self.alignedBoxes),
                                                 outputPool: CompressedFixtures.outputPool())
        #expect(redacted.format == .i420 && redacted.maskedFraction > 0)
        #expect(redactor.counters.compressedFrames == 0 && redactor.counters.frames == 1)
    }
}

@Suite("Redactor, coefficient domain, smoothed pixelation")
struct CompressedSmoothedPixelationTests {
    @Test("a plain wall whose cell means differ by a fraction of a level comes out as a ramp of its own levels, not a pattern, as in the pixel path")
    func plainWallIsEven() throws {
        // 16-pixel cells of mean 112.0, every other cell of every other row 112.7 (its pixels
        // 112 and 113, scattered), coded as a greyscale JPEG at quality 95 (DC step 2: a quarter
        // of a level). Flat cells come out 112 and 113; evened out, no cell mixes in more than
        // four of the 112.7 cells of nine (112.31), so every cell is 112.
        let width = 640, height = 480, cell = 16
        let layout = FrameLayout(format: .gray8, width: width, height: height)
        let pool = FramePool(count: 1, layout: layout)
        guard let frame = pool.makeFrame(layout: layout, sequence: 1, captureTime: .now) else {
            Issue.record("no frame from a fresh pool")
            return
        }
        var generator = Generator(state: 5)
        let bytes = frame.planeBytes(0), rowStride = frame.plane(0).stride
        for cellRow in 0..<(height / cell) {
            for cellColumn in 0..<(width / cell) {
                let highCount = cellRow % 2 == 0 && cellColumn % 2 == 0 ? 179 : 0  // of 256: 112.7 or 112.0
                var levels = [UInt8](repeating: 112, count: cell * cell)
                for index in 0..<highCount { levels[index] = 113 }
                for index in stride(from: levels.count - 1, to: 0, by: -1) { levels.swapAt(index, Int(generator.next() % UInt64(index + 1))) }
                for row in 0..<cell {
                    for column in 0..<cell { bytes[(cellRow * cell + row) * rowStride + cellColumn * cell + column] = levels[row * cell + column] }
                }
            }
        }
        let jpeg = try JPEGEncoder().encode(frame, quality: 95)
        let box = DetectionBox(x: 96, y: 64, width: 96, height: 96)
        let redactor = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0), method: .pixelate))
        let redacted = redactor.redactCompressed(try CompressedFixtures.mjpegFrame(jpeg), analysis: RedactionInput(unverified: [box]),
                                                 outputPool: CompressedFixtures.outputPool())
        let luma = try decodedPayload(redacted)[0]
        // Then level-matched: the box gets back its own 112s and 113s in the cells' order, and
        // with every cell evened out to 112 (a tie) that is the blocks' order, row by row: a ramp
        // that rises once, not a pattern (SmoothedPixelationTests has the pixel path's).
        #expect(Redactor.smoothPixelation && Redactor.matchLevels)
        let levels = tileLevels(luma, width: width, box: PixelRectangle(left: box.x, top: box.y, right: box.x + box.width, bottom: box.y + box.height))
        #expect(Set(levels) == [112, 113], "levels in the box: \(Set(levels).sorted())")
        #expect(levels == levels.sorted(), "levels do not rise block by block: \(levels)")
    }
}
