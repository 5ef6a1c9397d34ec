// Redaction kernels in Frames against plain per-pixel references, on odd sizes, padded strides
// and interleaved samples: polygon rasterising, mask scaling and reduction, pixelate and blur.

import Frames
import Testing

/// Even-odd point-in-polygon test at one point (the classic crossing test).
func referenceInside(_ polygon: [PixelPoint], x: Double, y: Double) -> Bool {
    var inside = false
    var previous = polygon[polygon.count - 1]
    for current in polygon {
        if (current.y > y) != (previous.y > y),
           x < (previous.x - current.x) * (y - current.y) / (previous.y - current.y) + current.x {
            inside.toggle()
        }
        previous = current
    }
    return inside
}

/// A concave, self-touching-free "C" with a notch, and a self-intersecting star (even-odd leaves
/// its centre empty).
let testPolygons: [[PixelPoint]] = [
    [(2.0, 1.5), (30.7, 3.0), (31.0, 9.0), (12.0, 9.3), (12.5, 14.0), (28.0, 15.0), (26.0, 21.7), (3.2, 20.0)]
        .map { PixelPoint(x: $0.0, y: $0.1) },
    [(18.0, -2.0), (24.0, 22.0), (-3.0, 6.0), (38.0, 7.0), (9.0, 24.5)].map { PixelPoint(x: $0.0, y: $0.1) },
]

@Test(arguments: [(37, 23, 37, 0), (37, 23, 45, 0), (12, 9, 16, 0), (37, 23, 37, 1), (37, 23, 45, 1), (12, 9, 16, 1)])
func polygonMaskMatchesPointInPolygon(width: Int, height: Int, stride: Int, polygonIndex: Int) {
    let polygon = testPolygons[polygonIndex]
    var mask = [UInt8](repeating: 0, count: stride * height)
    var crossings: [Double] = []
    mask.withUnsafeMutableBytes {
        _ = fillPolygonMask($0.baseAddress!, width: width, height: height, stride: stride, polygon: polygon, crossings: &crossings)
    }
    var mismatches = 0, inside = 0
    for row in 0..<height {
        for column in 0..<width {
            let expected = referenceInside(polygon, x: Double(column) + 0.5, y: Double(row) + 0.5)
            if expected { inside += 1 }
            if (mask[row * stride + column] == 255) != expected { mismatches += 1 }
        }
        for padding in width..<stride { #expect(mask[row * stride + padding] == 0) }
    }
    #expect(mismatches == 0)
    #expect(inside > 0)
}

/// Naive blur: each output the rounded mean of the clamped window, three passes each way, then
/// quantised, written where the mask is set.
func referenceBlur(_ input: [UInt8], width: Int, height: Int, stride: Int, step: Int, region: PixelRectangle,
                   radius: Int, quantisation: Int, mask: [UInt8]?, maskStride: Int) -> [UInt8] {
    let regionWidth = region.width, regionHeight = region.height
    var samples = [Int](repeating: 0, count: regionWidth * regionHeight)
    for row in 0..<regionHeight {
        for column in 0..<regionWidth {
            samples[row * regionWidth + column] = Int(input[(region.top + row) * stride + (region.left + column) * step])
        }
    }
    let divisor = 2 * radius + 1
    for _ in 0..<3 {
        var next = samples
        for row in 0..<regionHeight {
            for column in 0..<regionWidth {
                var sum = 0
                for offset in -radius...radius { sum += samples[row * regionWidth + min(max(column + offset, 0), regionWidth - 1)] }
                next[row * regionWidth + column] = (sum + divisor / 2) / divisor
            }
        }
        samples = next
    }
    for _ in 0..<3 {
        var next = samples
        for row in 0..<regionHeight {
            for column in 0..<regionWidth {
                var sum = 0
                for offset in -radius...radius { sum += samples[min(max(row + offset, 0), regionHeight - 1) * regionWidth + column] }
                next[row * regionWidth + column] = (sum + divisor / 2) / divisor
            }
        }
        samples = next
    }
    var output = input
    for row in 0..<regionHeight {
        for column in 0..<regionWidth {
            if let mask, mask[(region.top + row) * maskStride + region.left + column] == 0 { continue }
            let level = min(samples[row * regionWidth + column] / quantisation * quantisation + quantisation / 2, 255)
            output[(region.top + row) * stride + (region.left + column) * step] = UInt8(level)
        }
    }
    return output
}

func referencePixelate(_ input: [UInt8], stride: Int, step: Int, region: PixelRectangle, cell: Int,
                       mask: [UInt8]?, maskStride: Int) -> [UInt8] {
    var output = input
    for cellTop in Swift.stride(from: region.top, to: region.bottom, by: cell) {
        for cellLeft in Swift.stride(from: region.left, to: region.right, by: cell) {
            let bottom = min(cellTop + cell, region.bottom), right = min(cellLeft + cell, region.right)
            var sum = 0, count = 0
            for row in cellTop..<bottom { for column in cellLeft..<right { sum += Int(input[row * stride + column * step]); count += 1 } }
            for row in cellTop..<bottom {
                for column in cellLeft..<right {
                    if let mask, mask[row * maskStride + column] == 0 { continue }
                    output[row * stride + column * step] = UInt8((sum + count / 2) / count)
                }
            }
        }
    }
    return output
}

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
}

/// A random 0/255 mask with blobs rather than salt, so both masked and unmasked runs occur.
func randomMask(width: Int, height: Int, stride: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix(seed: seed)
    var mask = [UInt8](repeating: 0, count: stride * height)
    for row in 0..<height {
        for column in 0..<width where (column / 3 + row / 2 + Int(generator.next() % 3)) % 4 != 0 { mask[row * stride + column] = 255 }
    }
    return mask
}

@Test(arguments: [(37, 23, 41, 1, 3, false), (33, 17, 70, 2, 2, false), (9, 31, 40, 4, 5, false), (25, 25, 25, 1, 12, false), (300, 7, 301, 1, 200, false),
                  (37, 23, 41, 1, 3, true), (33, 17, 70, 2, 2, true), (9, 31, 40, 4, 5, true), (25, 25, 25, 1, 12, true)])
func blurMatchesReference(width: Int, height: Int, stride: Int, step: Int, radius: Int, masked: Bool) {
    let input = randomBytes(stride * height, seed: UInt64(width * 31 + height))
    let region = PixelRectangle(left: 3, top: 2, right: width - 1, bottom: height - 3)
    let mask = masked ? randomMask(width: width, height: height, stride: width, seed: 7) : nil
    var output = input
    var scratch = [UInt8](repeating: 0, count: blurScratchCount(width: width, height: height))
    output.withUnsafeMutableBytes { bytes in
        scratch.withUnsafeMutableBytes { scratchBytes in
            let plane = SamplePlane(base: bytes.baseAddress!, width: width, height: height, stride: stride, step: step)
            if let mask {
                mask.withUnsafeBytes {
                    blurMasked(plane, region: region, radius: radius, quantisationStep: 8, mask: $0.baseAddress!,
                               maskStride: width, scratch: scratchBytes.baseAddress!)
                }
            } else {
                blurMasked(plane, region: region, radius: radius, quantisationStep: 8, mask: nil, maskStride: 0,
                           scratch: scratchBytes.baseAddress!)
            }
        }
    }
    let expected = referenceBlur(input, width: width, height: height, stride: stride, step: step, region: region,
                                 radius: radius, quantisation: 8, mask: mask, maskStride: width)
    #expect(output == expected)
    #expect(output != input)
}

@Test(arguments: [(37, 23, 41, 1, 5, false), (33, 17, 70, 2, 4, false), (9, 31, 40, 4, 3, false), (25, 25, 25, 1, 25, false),
                  (37, 23, 41, 1, 5, true), (33, 17, 70, 2, 4, true), (9, 31, 40, 4, 3, true), (25, 25, 25, 1, 25, true)])
func pixelateMatchesReference(width: Int, height: Int, stride: Int, step: Int, cell: Int, masked: Bool) {
    let input = randomBytes(stride * height, seed: UInt64(width * 17 + height))
    let region = PixelRectangle(left: 1, top: 2, right: width - 2, bottom: height)
    let mask = masked ? randomMask(width: width, height: height, stride: width + 3, seed: 9) : nil
    var output = input
    output.withUnsafeMutableBytes { bytes in
        let plane = SamplePlane(base: bytes.baseAddress!, width: width, height: height, stride: stride, step: step)
        if let mask {
            mask.withUnsafeBytes { pixelateMasked(plane, region: region, cellSize: cell, mask: $0.baseAddress!, maskStride: width + 3) }
        } else {
            pixelateMasked(plane, region: region, cellSize: cell, mask: nil, maskStride: 0)
        }
    }
    #expect(output == referencePixelate(input, stride: stride, step: step, region: region, cell: cell, mask: mask, maskStride: width + 3))
}

@Test(arguments: [(10, 7, 4, 41, 29), (10, 7, 4, 40, 28), (5, 3, 3, 17, 11)])
func upscaledMaskMatchesReference(sourceWidth: Int, sourceHeight: Int, factor: Int, width: Int, height: Int) {
    let source = randomMask(width: sourceWidth, height: sourceHeight, stride: sourceWidth, seed: 3)
    var output = [UInt8](repeating: 0, count: (width + 2) * height)
    source.withUnsafeBytes { input in
        output.withUnsafeMutableBytes {
            upscaleMask(source: input.baseAddress!, sourceWidth: sourceWidth, sourceHeight: sourceHeight, sourceStride: sourceWidth,
                        factor: factor, destination: $0.baseAddress!, width: width, height: height, destinationStride: width + 2)
        }
    }
    for row in 0..<height {
        for column in 0..<width {
            let expected = source[min(row / factor, sourceHeight - 1) * sourceWidth + min(column / factor, sourceWidth - 1)]
            #expect(output[row * (width + 2) + column] == expected, "at \(column), \(row)")
        }
        #expect(output[row * (width + 2) + width] == 0)
    }
}

@Test(arguments: [(37, 23, 2, 2), (37, 23, 2, 1), (8, 6, 2, 2)])
func chromaMaskCoversLuma(width: Int, height: Int, horizontal: Int, vertical: Int) {
    let luma = randomMask(width: width, height: height, stride: width, seed: 11)
    let chromaWidth = (width + horizontal - 1) / horizontal, chromaHeight = (height + vertical - 1) / vertical
    var chroma = [UInt8](repeating: 7, count: chromaWidth * chromaHeight)
    luma.withUnsafeBytes { input in
        chroma.withUnsafeMutableBytes {
            reduceMaskToChroma(luma: input.baseAddress!, width: width, height: height, stride: width, horizontal: horizontal,
                               vertical: vertical, lumaRegion: PixelRectangle(left: 0, top: 0, right: width, bottom: height),
                               chroma: $0.baseAddress!, chromaStride: chromaWidth)
        }
    }
    for chromaRow in 0..<chromaHeight {
        for chromaColumn in 0..<chromaWidth {
            var any = false
            for row in (chromaRow * vertical)..<min(chromaRow * vertical + vertical, height) {
                for column in (chromaColumn * horizontal)..<min(chromaColumn * horizontal + horizontal, width) where luma[row * width + column] != 0 {
                    any = true
                }
            }
            #expect(chroma[chromaRow * chromaWidth + chromaColumn] == (any ? 255 : 0))
        }
    }
}

@Test(arguments: [(37, 23, 41), (64, 8, 64), (7, 5, 9), (100, 3, 131)])
func countMaskedMatchesReference(width: Int, height: Int, stride: Int) {
    // Arbitrary non-zero values, not only 255, so the per-byte fold is exercised.
    var mask = randomBytes(stride * height, seed: UInt64(width))
    for index in mask.indices where index % 3 == 0 { mask[index] = 0 }
    let region = PixelRectangle(left: 1, top: 1, right: width, bottom: height)
    var expected = 0
    for row in region.top..<region.bottom { for column in region.left..<region.right where mask[row * stride + column] != 0 { expected += 1 } }
    let counted = mask.withUnsafeBytes { countMasked($0.baseAddress!, stride: stride, region: region) }
    #expect(counted == expected)
}

@Test func polygonFarOutsideOrNotFiniteDoesNotTrap() {
    var mask = [UInt8](repeating: 0, count: 20 * 10)
    var crossings: [Double] = []
    let huge = [PixelPoint(x: -1e300, y: -1e300), PixelPoint(x: 1e300, y: -1e300), PixelPoint(x: 1e300, y: 1e300), PixelPoint(x: -1e300, y: 1e300)]
    let broken = [PixelPoint(x: 0, y: 0), PixelPoint(x: .nan, y: 5), PixelPoint(x: 10, y: .infinity)]
    mask.withUnsafeMutableBytes {
        _ = fillPolygonMask($0.baseAddress!, width: 20, height: 10, stride: 20, polygon: broken, crossings: &crossings)
    }
    #expect(mask.allSatisfy { $0 == 0 })
    mask.withUnsafeMutableBytes {
        _ = fillPolygonMask($0.baseAddress!, width: 20, height: 10, stride: 20, polygon: huge, crossings: &crossings)
    }
    #expect(mask.allSatisfy { $0 == 255 })
}
