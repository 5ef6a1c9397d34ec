// Level matching (Frames' `matchMaskedLevels`, run by the Redactor after pixelating luma, and by
// the coefficient path through `setLumaBlocks`): the masked samples get back the grey levels
// they held, in the order of their cell values, so the frame's histogram, and with it every
// unmasked sample's histogram-equalised level, is what it was in the input; and the output still
// keeps nothing finer than a cell.

import Analysis
import Codec
import Foundation
import Frames
import Redaction
import Testing

/// Cumulative counts (256) of `samples` at the given indices.
private func cumulative(_ samples: [UInt8], _ indices: [Int]) -> [Int] {
    var counts = [Int](repeating: 0, count: 256)
    for index in indices { counts[Int(samples[index])] += 1 }
    var sum = 0
    return counts.map { sum += $0; return sum }
}

/// The largest difference between two cumulative histograms.
private func largestGap(_ first: [Int], _ second: [Int]) -> Int {
    zip(first, second).map { abs($0 - $1) }.max() ?? 0
}

/// The histogram-equalisation table OpenCV's `equalizeHist` would use for `samples`.
private func equalisation(_ samples: [UInt8]) -> [UInt8] {
    var histogram = [Int](repeating: 0, count: 256)
    for sample in samples { histogram[Int(sample)] += 1 }
    return histogram.withUnsafeBufferPointer { equalizationTable(histogram: $0.baseAddress!, total: samples.count) }
}

/// A GRAY8 frame holding `pixels` (`width` x `height`, tightly packed).
private func grayFrame(_ pool: FramePool, _ layout: FrameLayout, _ pixels: [UInt8]) -> Frame {
    let frame = pool.makeFrame(layout: layout, sequence: 5, captureTime: .now)!
    let stride = layout.planes[0].stride, bytes = frame.planeBytes(0)
    for row in 0..<layout.height {
        for column in 0..<layout.width { bytes[row * stride + column] = pixels[row * layout.width + column] }
    }
    return frame
}

/// Redacts `pixels` with pixelate under `boxes` (pixel path) and returns the luma, tightly packed.
private func redactGray(_ pixels: [UInt8], width: Int, height: Int, boxes: [DetectionBox]) -> [UInt8] {
    let layout = FrameLayout(format: .gray8, width: width, height: height)
    let pool = FramePool(count: 1, layout: layout)
    let redactor = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0), method: .pixelate))
    let output = outputBytes(redactor.redact(grayFrame(pool, layout, pixels), analysis: RedactionInput(unverified: boxes)))
    let stride = layout.planes[0].stride
    var packed = [UInt8](repeating: 0, count: width * height)
    for row in 0..<height {
        for column in 0..<width { packed[row * width + column] = output[row * stride + column] }
    }
    return packed
}

@Suite("Level matching")
struct LevelMatchingTests {
    @Test("matchMaskedLevels keeps the masked histogram to half a unit, keeps the order of current values, and writes only masked samples")
    func kernel() {
        let width = 101, height = 77
        var generator = Generator(state: 21)
        // Current values: a coarse pattern of 12 levels (as cells would be); target: a skewed
        // histogram of as many samples as the mask covers.
        var samples = [UInt8](repeating: 0, count: width * height)
        for row in 0..<height {
            for column in 0..<width { samples[row * width + column] = UInt8(60 + 10 * ((row / 13 + column / 11) % 12)) }
        }
        var mask = [UInt8](repeating: 0, count: width * height)
        var masked: [Int] = []
        let region = PixelRectangle(left: 5, top: 3, right: 96, bottom: 70)
        for row in region.top..<region.bottom {
            for column in region.left..<region.right where (row - 40) * (row - 40) + (column - 50) * (column - 50) < 36 * 36 {
                mask[row * width + column] = 255
                masked.append(row * width + column)
            }
        }
        var target = [Int](repeating: 0, count: 256)
        for _ in masked {
            let level = Int(generator.next() % 200)
            target[level * level / 200 + 30] += 1
        }
        var output = samples
        var scratch = [UInt8](repeating: 0, count: levelMatchingScratchCount(width: region.width, height: region.height))
        output.withUnsafeMutableBytes { bytes in
            mask.withUnsafeBytes { maskBytes in
                target.withUnsafeBufferPointer { targetCounts in
                    scratch.withUnsafeMutableBytes { scratchBytes in
                        matchMaskedLevels(SamplePlane(base: bytes.baseAddress!, width: width, height: height, stride: width),
                                          region: region, mask: maskBytes.baseAddress!, maskStride: width,
                                          target: targetCounts.baseAddress!, scratch: scratchBytes.baseAddress!)
                    }
                }
            }
        }
        var sum = 0
        let targetCumulative = target.map { sum += $0; return sum }
        let gap = largestGap(cumulative(output, masked), targetCumulative)
        #expect(gap <= levelMatchingTile * levelMatchingTile / 2, "cumulative histograms differ by \(gap) samples")
        // Order: every sample of a lower current value holds a level no higher than any of a higher one.
        var highest = [Int: UInt8](), lowest = [Int: UInt8]()
        for index in masked {
            let value = Int(samples[index])
            highest[value] = max(highest[value] ?? 0, output[index])
            lowest[value] = min(lowest[value] ?? 255, output[index])
        }
        let values = highest.keys.sorted()
        for (lower, higher) in zip(values, values.dropFirst()) {
            #expect(highest[lower]! <= lowest[higher]!, "value \(lower) reaches \(highest[lower]!), value \(higher) starts at \(lowest[higher]!)")
        }
        var outside = 0
        for index in samples.indices where mask[index] == 0 && output[index] != samples[index] { outside += 1 }
        #expect(outside == 0, "\(outside) unmasked samples written")
    }

    @Test("the Redactor's pixelate keeps the frame's histogram: every unmasked sample equalises as in the input")
    func histogramKept() throws {
        #expect(Redactor.matchLevels)
        let still = try loadStill("frame_001.pgm")
        let boxes = [DetectionBox(x: 300, y: 150, width: 90, height: 180), DetectionBox(x: 40, y: 60, width: 120, height: 100)]
        let output = redactGray(still.pixels, width: still.width, height: still.height, boxes: boxes)
        var maskedIndices: [Int] = []
        for row in 0..<still.height {
            for column in 0..<still.width where boxes.contains(where: { inside($0, column, row) }) {
                maskedIndices.append(row * still.width + column)
            }
        }
        let gap = largestGap(cumulative(output, maskedIndices), cumulative(still.pixels, maskedIndices))
        #expect(gap <= 32, "masked samples' cumulative histograms differ by \(gap)")
        let before = equalisation(still.pixels), after = equalisation(output)
        var worst = 0, changed = 0
        for index in still.pixels.indices where !boxes.contains(where: { inside($0, index % still.width, index / still.width) }) {
            #expect(output[index] == still.pixels[index])
            worst = max(worst, abs(Int(before[Int(still.pixels[index])]) - Int(after[Int(output[index])])))
        }
        for index in maskedIndices where output[index] != still.pixels[index] { changed += 1 }
        // 32 samples of 307,200 move a level's equalised value by 0.03 levels at most.
        #expect(worst <= 1, "an unmasked sample's equalised level moved by \(worst)")
        #expect(changed > maskedIndices.count / 2, "only \(changed) of \(maskedIndices.count) masked samples changed")
    }

    @Test("nothing finer than a cell survives: shuffling samples within cells gives the same output, moving them between cells does not")
    func nothingFinerThanACell() throws {
        let still = try loadStill("frame_001.pgm")
        let width = still.width, height = still.height
        // Cells of 16 (96 / 6), starting at the box's corner.
        let box = DetectionBox(x: 256, y: 160, width: 96, height: 96), cell = 16
        var generator = Generator(state: 9)
        var shuffled = still.pixels
        for cellTop in stride(from: box.y, to: box.y + box.height, by: cell) {
            for cellLeft in stride(from: box.x, to: box.x + box.width, by: cell) {
                var indices: [Int] = []
                for row in cellTop..<(cellTop + cell) {
                    for column in cellLeft..<(cellLeft + cell) { indices.append(row * width + column) }
                }
                var values = indices.map { shuffled[$0] }
                for index in stride(from: values.count - 1, to: 0, by: -1) { values.swapAt(index, Int(generator.next() % UInt64(index + 1))) }
                for (index, value) in zip(indices, values) { shuffled[index] = value }
            }
        }
        #expect(shuffled != still.pixels)
        let original = redactGray(still.pixels, width: width, height: height, boxes: [box])
        #expect(redactGray(shuffled, width: width, height: height, boxes: [box]) == original)
        // Control: swap two whole cells of different means (same histogram, different cell
        // means): the output changes, so the test above can fail.
        var swapped = still.pixels
        for row in 0..<cell {
            for column in 0..<cell {
                swapped.swapAt((box.y + row) * width + box.x + column, (box.y + 3 * cell + row) * width + box.x + 2 * cell + column)
            }
        }
        #expect(redactGray(swapped, width: width, height: height, boxes: [box]) != original)
    }

    @Test("coefficient domain: the redacted JPEG keeps the masked MCUs' histogram and every unmasked pixel exactly")
    func coefficientHistogramKept() throws {
        var checked = 0
        for (name, jpeg) in try CompressedFixtures.samples() {
            let geometry = try {
                let editor = JPEGCoefficientEditor()
                defer { editor.abort() }
                return try jpeg.withUnsafeBytes { try editor.read($0) }
            }()
            // Levels are kept only as closely as a DC step allows (docs: quality below about 75).
            guard geometry.component(0).dcQuantizer <= 8 else { continue }
            let boxes = CompressedRedactionTests.alignedBoxes
            let input = planeSamples(try CompressedFixtures.decode(jpeg, output: .gray))[0]
            let redactor = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0), method: .pixelate))
            let redacted = redactor.redactCompressed(try CompressedFixtures.mjpegFrame(jpeg), analysis: RedactionInput(unverified: boxes),
                                                     outputPool: CompressedFixtures.outputPool())
            let output = try decodedPayload(redacted)[0]
            let width = geometry.width
            var maskedIndices: [Int] = []
            var outsideChanged = 0
            for index in input.indices {
                if boxes.contains(where: { inside($0, index % width, index / width) }) {
                    maskedIndices.append(index)
                } else if output[index] != input[index] {
                    outsideChanged += 1
                }
            }
            let gap = largestGap(cumulative(output, maskedIndices), cumulative(input, maskedIndices))
            #expect(outsideChanged == 0, "\(name): \(outsideChanged) unmasked pixels changed")
            #expect(gap <= 32, "\(name): masked pixels' cumulative histograms differ by \(gap)")
            checked += 1
        }
        #expect(checked >= 3, "only \(checked) fixtures with a DC step of at most 8")
    }
}
