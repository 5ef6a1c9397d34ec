// The redaction stage end to end: what is masked under each policy, that masked pixels keep no
// detail, that every other byte is untouched, chroma follows luma in every format, zones,
// persistence, fail-closed, and that only the Redaction module can make a RedactedFrame.

import Analysis
import Foundation
import Frames
import Redaction
import Testing

// MARK: - Helpers

/// Deterministic generator so failures reproduce.
struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// A frame of random bytes (padding included) from a pool of one, and a copy of its bytes.
func randomFrame(_ pool: FramePool, _ layout: FrameLayout, seed: UInt64 = 1) -> Frame {
    let frame = pool.makeFrame(layout: layout, sequence: 7, captureTime: .now)!
    var generator = Generator(state: seed)
    let bytes = frame.buffer.bytes
    for index in 0..<layout.byteCount { bytes[index] = UInt8(truncatingIfNeeded: generator.next()) }
    return frame
}

/// A copy of a frame's bytes, to compare the redacted output against.
func inputBytes(_ frame: borrowing Frame) -> [UInt8] { Array(frame.buffer.bytes[0..<frame.layout.byteCount]) }

func outputBytes(_ frame: borrowing RedactedFrame) -> [UInt8] {
    var output = [UInt8](repeating: 0, count: frame.layout.byteCount)
    for index in 0..<frame.layout.planes.count {
        let plane = frame.plane(index)
        let bytes = frame.planeBytes(index)
        for offset in 0..<plane.byteCount { output[plane.offset + offset] = bytes[offset] }
    }
    return output
}

/// Byte offsets of each pixel's luma sample, and of each chroma sample with the luma pixels it
/// covers, for every raw format.
struct SampleMap {
    var luma: [Int]  // index: row * width + column
    var chroma: [(offset: Int, pixels: [Int])]

    init(_ layout: FrameLayout) {
        let width = layout.width, height = layout.height, planes = layout.planes
        luma = []
        chroma = []
        for row in 0..<height {
            for column in 0..<width {
                switch layout.format {
                case .yuyv: luma.append(planes[0].offset + row * planes[0].stride + column * 2)
                default: luma.append(planes[0].offset + row * planes[0].stride + column)
                }
            }
        }
        let horizontal = layout.format == .gray8 ? 1 : 2
        let vertical = (layout.format == .i420 || layout.format == .nv12) ? 2 : 1
        let chromaWidth = (width + 1) / 2, chromaHeight = (height + vertical - 1) / vertical
        guard layout.format != .gray8 else { return }
        for chromaRow in 0..<chromaHeight {
            for chromaColumn in 0..<chromaWidth {
                var pixels: [Int] = []
                for row in (chromaRow * vertical)..<min(chromaRow * vertical + vertical, height) {
                    for column in (chromaColumn * horizontal)..<min(chromaColumn * horizontal + horizontal, width) {
                        pixels.append(row * width + column)
                    }
                }
                let offsets: [Int]
                switch layout.format {
                case .i420, .i422:
                    offsets = [1, 2].map { planes[$0].offset + chromaRow * planes[$0].stride + chromaColumn }
                case .nv12:
                    offsets = [0, 1].map { planes[1].offset + chromaRow * planes[1].stride + chromaColumn * 2 + $0 }
                case .yuyv:
                    offsets = [1, 3].map { planes[0].offset + chromaRow * planes[0].stride + chromaColumn * 4 + $0 }
                default: offsets = []
                }
                for offset in offsets { chroma.append((offset, pixels)) }
            }
        }
    }
}

func inside(_ box: DetectionBox, _ column: Int, _ row: Int) -> Bool {
    column >= box.x && column < box.x + box.width && row >= box.y && row < box.y + box.height
}

/// Reads a binary PGM (P5, 8-bit) from the fixtures.
func loadStill(_ name: String) throws -> (width: Int, height: Int, pixels: [UInt8]) {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let data = try [UInt8](Data(contentsOf: root.appendingPathComponent("Fixtures/stills/\(name)")))
    var fields: [Int] = [], index = 2, current = -1
    while fields.count < 3 {
        let byte = data[index]
        if byte >= 48 && byte <= 57 { current = max(current, 0) * 10 + Int(byte - 48) } else if current >= 0 {
            fields.append(current)
            current = -1
        }
        index += 1
    }
    return (fields[0], fields[1], Array(data[index..<(index + fields[0] * fields[1])]))
}

/// Sum of squared horizontal and vertical differences inside a box: the image's fine detail.
func detailEnergy(_ bytes: [UInt8], stride: Int, box: DetectionBox) -> Double {
    var energy = 0.0
    for row in box.y..<(box.y + box.height - 1) {
        for column in box.x..<(box.x + box.width - 1) {
            let here = Double(bytes[row * stride + column])
            let right = Double(bytes[row * stride + column + 1]) - here
            let below = Double(bytes[(row + 1) * stride + column]) - here
            energy += right * right + below * below
        }
    }
    return energy
}

// MARK: - Methods

@Suite("Redactor")
struct RedactorTests {
    @Test("pixelate: inside a box every unit (a cell's part of an 8x8 tile) is one value, the box changed, everything else identical")
    func pixelate() {
        let layout = FrameLayout(format: .gray8, width: 97, height: 61)
        let pool = FramePool(count: 1, layout: layout)
        let frame = randomFrame(pool, layout)
        let input = inputBytes(frame)
        let box = DetectionBox(x: 10, y: 7, width: 40, height: 33)
        let redactor = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0), method: .pixelate))
        let output = outputBytes(redactor.redact(frame, analysis: RedactionInput(unverified: [box])))
        let stride = layout.planes[0].stride
        let cell = (40 + Redactor.pixelateCellsAcross - 1) / Redactor.pixelateCellsAcross
        var changed = 0
        for row in 0..<layout.height {
            for column in 0..<layout.width {
                let offset = row * stride + column
                if inside(box, column, row) {
                    // Luma is level-matched after pixelation (LevelMatchingTests): one value per
                    // cell and tile of the plane's grid, the unit's first sample.
                    let cellTop = box.y + (row - box.y) / cell * cell, cellLeft = box.x + (column - box.x) / cell * cell
                    let tile = levelMatchingTile
                    let unitOrigin = max(cellTop, row / tile * tile) * stride + max(cellLeft, column / tile * tile)
                    #expect(output[offset] == output[unitOrigin])
                    if output[offset] != input[offset] { changed += 1 }
                } else {
                    #expect(output[offset] == input[offset])
                }
            }
        }
        #expect(changed > box.area * 9 / 10)
        // Padding bytes past each row are not pixels and must not be written either.
        // (The last row's padding lies past the plane's bytes, which a RedactedFrame does not expose.)
        for row in 0..<(layout.height - 1) { #expect(output[(row * stride + layout.width)..<(row * stride + stride)] == input[(row * stride + layout.width)..<(row * stride + stride)]) }
    }

    @Test("blur on a real still leaves under 2% of the region's fine detail and nothing outside it changes")
    func blurRemovesDetail() throws {
        let still = try loadStill("frame_001.pgm")
        let layout = FrameLayout(format: .gray8, width: still.width, height: still.height)
        let pool = FramePool(count: 1, layout: layout)
        let frame = pool.makeFrame(layout: layout, sequence: 0, captureTime: .now)!
        let stride = layout.planes[0].stride
        var input = [UInt8](repeating: 0, count: layout.byteCount)
        for row in 0..<still.height {
            for column in 0..<still.width { input[row * stride + column] = still.pixels[row * still.width + column] }
        }
        for index in 0..<layout.byteCount { frame.buffer.bytes[index] = input[index] }
        let boxes = [DetectionBox(x: 200, y: 150, width: 60, height: 120), DetectionBox(x: 20, y: 20, width: 100, height: 80)]
        let redactor = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0), method: .blur))
        let output = outputBytes(redactor.redact(frame, analysis: RedactionInput(unverified: boxes)))
        for box in boxes {
            let before = detailEnergy(input, stride: stride, box: box), after = detailEnergy(output, stride: stride, box: box)
            #expect(before > 0)
            #expect(after < before * 0.02, "detail \(after) of \(before) in \(box)")
        }
        for row in 0..<layout.height {
            for column in 0..<layout.width where !boxes.contains(where: { inside($0, column, row) }) {
                #expect(output[row * stride + column] == input[row * stride + column])
            }
        }
    }

    @Test("fill writes one constant luma and neutral chroma")
    func fill() {
        let layout = FrameLayout(format: .i420, width: 64, height: 48)
        let pool = FramePool(count: 1, layout: layout)
        let frame = randomFrame(pool, layout)
        let _ = inputBytes(frame)
        let redactor = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0), method: .fill))
        let box = DetectionBox(x: 8, y: 8, width: 16, height: 16)
        let output = outputBytes(redactor.redact(frame, analysis: RedactionInput(unverified: [box])))
        let map = SampleMap(layout)
        for row in 8..<24 { for column in 8..<24 { #expect(output[map.luma[row * 64 + column]] == Redactor.fillValue) } }
        for sample in map.chroma where sample.pixels.allSatisfy({ inside(box, $0 % 64, $0 / 64) }) { #expect(output[sample.offset] == 128) }
    }

    // MARK: - Chroma follows luma

    @Test("chroma is masked wherever luma is, on odd sizes, and nothing else changes",
          arguments: [PixelFormat.i420, .i422, .nv12, .yuyv, .gray8], [RedactionMethod.fill, .pixelate, .blur])
    func chromaFollowsLuma(format: PixelFormat, method: RedactionMethod) {
        let layout = FrameLayout(format: format, width: 53, height: 37)
        let pool = FramePool(count: 1, layout: layout)
        let frame = randomFrame(pool, layout, seed: 5)
        let input = inputBytes(frame)
        // Odd corners so boxes split chroma blocks.
        let boxes = [DetectionBox(x: 3, y: 5, width: 17, height: 11), DetectionBox(x: 41, y: 30, width: 20, height: 20)]
        let redactor = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0), method: method))
        let output = outputBytes(redactor.redact(frame, analysis: RedactionInput(unverified: boxes)))
        let map = SampleMap(layout)
        func masked(_ pixel: Int) -> Bool { boxes.contains { inside($0, pixel % layout.width, pixel / layout.width) } }
        var touched = Set<Int>()
        var changedLuma = 0, maskedLuma = 0
        for (pixel, offset) in map.luma.enumerated() {
            touched.insert(offset)
            if masked(pixel) {
                maskedLuma += 1
                if output[offset] != input[offset] { changedLuma += 1 }
                if method == .fill { #expect(output[offset] == 128) }
            } else {
                #expect(output[offset] == input[offset], "luma at pixel \(pixel) changed")
            }
        }
        #expect(changedLuma > maskedLuma * 8 / 10)
        var changedChroma = 0, maskedChroma = 0
        for sample in map.chroma {
            touched.insert(sample.offset)
            if sample.pixels.contains(where: masked) {
                maskedChroma += 1
                if output[sample.offset] != input[sample.offset] { changedChroma += 1 }
                if method == .fill { #expect(output[sample.offset] == 128) }
            } else {
                #expect(output[sample.offset] == input[sample.offset], "chroma at \(sample.offset) changed")
            }
        }
        #expect(changedChroma >= maskedChroma * 8 / 10)
        // Padding and inter-plane bytes are untouched.
        for plane in layout.planes {
            for offset in plane.offset..<(plane.offset + plane.byteCount) where !touched.contains(offset) {
                #expect(output[offset] == input[offset])
            }
        }
    }

    // MARK: - Policies

    @Test("a 30% margin grows a box by 15% of its size on each side, clamped to the frame")
    func margins() {
        let layout = FrameLayout(format: .gray8, width: 100, height: 80)
        let pool = FramePool(count: 1, layout: layout)
        let frame = randomFrame(pool, layout)
        let input = inputBytes(frame)
        let redactor = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0.3), method: .fill))
        let middle = DetectionBox(x: 40, y: 30, width: 20, height: 20)  // grows by 3 each side
        let corner = DetectionBox(x: -5, y: 70, width: 20, height: 20)  // grows past the frame
        let detections = [Observation(box: middle, objectClass: .face), Observation(box: corner, objectClass: .person)]
        let result = redactor.redact(frame, analysis: RedactionInput(detections: detections))
        let output = outputBytes(result)
        let stride = layout.planes[0].stride
        let expected = [DetectionBox(x: 37, y: 27, width: 26, height: 26), DetectionBox(x: -8, y: 67, width: 26, height: 26)]
        var count = 0
        for row in 0..<80 {
            for column in 0..<100 {
                let isMasked = expected.contains { inside($0, column, row) }
                if isMasked { count += 1 }
                #expect(output[row * stride + column] == (isMasked ? 128 : input[row * stride + column]), "at \(column), \(row)")
            }
        }
        let maskedFraction = result.maskedFraction
        #expect(abs(maskedFraction - Double(count) / 8000) < 1e-9)
        #expect(redactor.counters.boxesMasked == 2)
    }

    @Test("a concave privacy zone is masked exactly at pixel centres, in every policy",
          arguments: [RedactionPolicy.detections(margin: 0.3), .foreground(margin: 0.3)])
    func privacyZone(policy: RedactionPolicy) {
        let layout = FrameLayout(format: .gray8, width: 61, height: 45)
        let pool = FramePool(count: 1, layout: layout)
        let frame = randomFrame(pool, layout)
        let input = inputBytes(frame)
        // An L with a notch, with fractional vertices.
        let polygon = [(4.0, 3.5), (40.2, 3.5), (40.2, 12.7), (15.5, 12.7), (15.5, 30.0), (50.0, 30.0), (52.3, 41.0), (4.0, 41.0)]
            .map { PixelPoint(x: $0.0, y: $0.1) }
        let redactor = Redactor(configuration: RedactionConfiguration(
            policy: policy, method: .fill, privacyZones: [PrivacyZone(name: "door", polygon: polygon)]))
        let output = outputBytes(redactor.redact(frame, analysis: RedactionInput()))
        let stride = layout.planes[0].stride
        var insideCount = 0
        for row in 0..<45 {
            for column in 0..<61 {
                var isInside = false
                var previous = polygon[polygon.count - 1]
                let x = Double(column) + 0.5, y = Double(row) + 0.5
                for current in polygon {
                    if (current.y > y) != (previous.y > y),
                       x < (previous.x - current.x) * (y - current.y) / (previous.y - current.y) + current.x { isInside.toggle() }
                    previous = current
                }
                if isInside { insideCount += 1 }
                #expect(output[row * stride + column] == (isInside ? 128 : input[row * stride + column]), "at \(column), \(row)")
            }
        }
        #expect(insideCount > 500)
    }

    @Test("analysis failure fills the whole frame, every plane, whatever the policy",
          arguments: [PixelFormat.i420, .nv12, .yuyv], [RedactionPolicy.detections(margin: 0.3), .foreground(margin: 0.3)])
    func failClosed(format: PixelFormat, policy: RedactionPolicy) {
        let layout = FrameLayout(format: format, width: 33, height: 21)
        let pool = FramePool(count: 1, layout: layout)
        let frame = randomFrame(pool, layout)
        let _ = inputBytes(frame)
        let redactor = Redactor(configuration: RedactionConfiguration(policy: policy, method: .blur))
        let result = redactor.redact(frame, analysis: .failed)
        let wholeFrameMasked = result.wholeFrameMasked, maskedFraction = result.maskedFraction
        #expect(wholeFrameMasked)
        #expect(maskedFraction == 1)
        for index in 0..<layout.planes.count {
            let plane = layout.planes[index], bytes = result.planeBytes(index)
            for row in 0..<plane.height {
                for column in 0..<plane.width { #expect(bytes[row * plane.stride + column] == 128) }
            }
        }
        #expect(redactor.counters.fullFrameMasks == 1)
    }

    @Test("unverified regions are masked in every policy and method, without a margin",
          arguments: [RedactionPolicy.detections(margin: 0.3), .foreground(margin: 0.3)], RedactionMethod.allCases)
    func unverified(policy: RedactionPolicy, method: RedactionMethod) {
        let layout = FrameLayout(format: .gray8, width: 80, height: 60)
        let pool = FramePool(count: 1, layout: layout)
        let frame = randomFrame(pool, layout)
        let input = inputBytes(frame)
        let box = DetectionBox(x: 20, y: 10, width: 32, height: 24)
        let redactor = Redactor(configuration: RedactionConfiguration(policy: policy, method: method))
        let output = outputBytes(redactor.redact(frame, analysis: RedactionInput(unverified: [box])))
        let stride = layout.planes[0].stride
        var changed = 0
        for row in 0..<60 {
            for column in 0..<80 {
                let offset = row * stride + column
                if inside(box, column, row) { if output[offset] != input[offset] { changed += 1 } } else { #expect(output[offset] == input[offset]) }
            }
        }
        #expect(changed > box.area * 8 / 10)
    }

    @Test("a detection stays masked for N frames after it disappears, following the predicted box, then stops")
    func persistence() {
        let layout = FrameLayout(format: .gray8, width: 120, height: 60)
        let pool = FramePool(count: 1, layout: layout)
        let frames = 4
        let redactor = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0), method: .fill, persistenceFrames: frames))
        let start = DetectionBox(x: 10, y: 10, width: 20, height: 20)
        func maskedAt(_ box: DetectionBox, _ analysis: RedactionInput) -> (all: Bool, any: Bool) {
            let frame = randomFrame(pool, layout)
        let _ = inputBytes(frame)
            let output = outputBytes(redactor.redact(frame, analysis: analysis))
            let stride = layout.planes[0].stride
            var count = 0
            for row in box.y..<(box.y + box.height) { for column in box.x..<(box.x + box.width) where output[row * stride + column] == 128 { count += 1 } }
            return (count == box.area, count > box.area / 4)
        }
        #expect(maskedAt(start, RedactionInput(detections: [Observation(box: start, objectClass: .face)])).all)
        var box = start
        for step in 1...frames {
            // The tracker predicts the face moving right by 5 pixels a frame.
            box = DetectionBox(x: start.x + 5 * step, y: start.y, width: 20, height: 20)
            // A decoy prediction that barely overlaps comes first: the kept box must follow the
            // best overlap with where it was, not the first prediction that overlaps at all.
            let decoy = DetectionBox(x: box.x - 5, y: box.y + 16, width: 20, height: 20)
            #expect(maskedAt(box, RedactionInput(predicted: [decoy, box])).all, "frame \(step) after the last detection")
        }
        box = DetectionBox(x: start.x + 5 * (frames + 1), y: start.y, width: 20, height: 20)
        #expect(!maskedAt(box, RedactionInput(predicted: [box])).any, "still masked after \(frames) frames")
        #expect(redactor.persistentBoxes.isEmpty)
    }

    @Test("the foreground policy masks the motion mask scaled up and dilated; the detections policy ignores it")
    func foreground() {
        let layout = FrameLayout(format: .i420, width: 64, height: 48)
        let pool = FramePool(count: 2, layout: layout)
        // A 16x12 mask at 1/4 scale with one 3x2 blob at (5, 4).
        var coarse = [UInt8](repeating: 0, count: 16 * 12)
        for row in 4..<6 { for column in 5..<8 { coarse[row * 16 + column] = 255 } }
        let mask = ForegroundMask(width: 16, height: 12, pixels: coarse, scale: 4)
        let redactor = Redactor(configuration: RedactionConfiguration(policy: .foreground(margin: 0.3), method: .fill, foregroundDilation: 1))
        let frame = randomFrame(pool, layout)
        let input = inputBytes(frame)
        let output = outputBytes(redactor.redact(frame, analysis: RedactionInput(foreground: mask)))
        // Dilated by one coarse pixel: columns 4..<9, rows 3..<7, times 4.
        let expected = DetectionBox(x: 16, y: 12, width: 20, height: 16)
        let map = SampleMap(layout)
        for (pixel, offset) in map.luma.enumerated() {
            let isMasked = inside(expected, pixel % 64, pixel / 64)
            #expect(output[offset] == (isMasked ? 128 : input[offset]), "pixel \(pixel % 64), \(pixel / 64)")
        }
        let other = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0.3), method: .fill))
        let second = randomFrame(pool, layout, seed: 2)
        let secondInput = inputBytes(second)
        #expect(outputBytes(other.redact(second, analysis: RedactionInput(foreground: mask))) == secondInput)
    }

    @Test("counters: frames, boxes, full-frame masks and the mean masked fraction")
    func counters() {
        let layout = FrameLayout(format: .gray8, width: 10, height: 10)
        let pool = FramePool(count: 1, layout: layout)
        let redactor = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0), method: .fill))
        _ = redactor.redact(randomFrame(pool, layout), analysis: RedactionInput(unverified: [DetectionBox(x: 0, y: 0, width: 5, height: 10)]))
        _ = redactor.redact(randomFrame(pool, layout), analysis: .failed)
        #expect(redactor.counters.frames == 2)
        #expect(redactor.counters.boxesMasked == 1)
        #expect(redactor.counters.fullFrameMasks == 1)
        #expect(abs(redactor.counters.maskedFraction - 0.75) < 1e-9)
    }

    // MARK: - Only the redaction stage makes a RedactedFrame

    /// Swift cannot test that something does not compile, so this reads the source: a public or
    /// package initialiser, or a public stored frame, would let another module wrap a raw Frame.
    /// This test target imports Redaction without `@testable`, and the only way it obtains a
    /// RedactedFrame anywhere in this file is `Redactor.redact`.
    @Test("RedactedFrame has no initialiser or frame access reachable from other modules")
    func onlyTheRedactorMakesRedactedFrames() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = try String(contentsOf: root.appendingPathComponent("Sources/Redaction/RedactedFrame.swift"), encoding: .utf8)
        let code = source.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }.joined(separator: "\n")
        for forbidden in ["public init", "package init", "public convenience", "open ", "public let frame", "public var frame",
                          "package let frame", "package var frame", "UnsafeMutableRawBufferPointer", "public static func", "extension Frame"] {
            #expect(!code.contains(forbidden), "RedactedFrame.swift contains \(forbidden)")
        }
        #expect(code.contains("init(frame: consuming Frame"))
        // No other file of the module may add a public way to make one.
        let directory = root.appendingPathComponent("Sources/Redaction")
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            #expect(!text.contains("extension RedactedFrame"), "\(file) extends RedactedFrame")
        }
    }
}
