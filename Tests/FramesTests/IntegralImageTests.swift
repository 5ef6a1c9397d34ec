// The integral-image and bilinear-resize kernels against their scalar references on odd sizes
// and padded strides.

import Testing
import Frames

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
private func noise(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state >> 24)
    }
}

@Suite("Integral images")
struct IntegralImageTests {
    static let sizes: [(width: Int, height: Int)] = [(1, 1), (1, 5), (5, 1), (7, 5), (13, 9), (31, 17), (24, 24), (65, 3)]

    @Test("sum, squared sum and tilted sum match the definition", arguments: 0..<sizes.count)
    func matchesReference(sizeIndex: Int) {
        let (width, height) = Self.sizes[sizeIndex]
        let sourceStride = width + 3
        let source = noise(count: sourceStride * height, seed: UInt64(width * 131 + height))
        let stride = width + 1 + 2
        let count = stride * (height + 1)
        var fast = [Int32](repeating: -7, count: 3 * count)
        var reference = [Int32](repeating: -7, count: 3 * count)
        var scratch = [Int32](repeating: 0, count: integralTiltedScratchCount(width: width))
        source.withUnsafeBufferPointer { pixels in
            fast.withUnsafeMutableBufferPointer { out in
                scratch.withUnsafeMutableBufferPointer { scratch in
                    let base = out.baseAddress!
                    computeIntegralImages(source: pixels.baseAddress!, sourceStride: sourceStride, width: width, height: height,
                                          into: IntegralPlanes(sum: base, squaredSum: base + count, tilted: base + 2 * count, stride: stride),
                                          scratch: scratch.baseAddress!)
                }
            }
            reference.withUnsafeMutableBufferPointer { out in
                let base = out.baseAddress!
                computeIntegralImagesReference(source: pixels.baseAddress!, sourceStride: sourceStride, width: width, height: height,
                                               into: IntegralPlanes(sum: base, squaredSum: base + count, tilted: base + 2 * count, stride: stride))
            }
        }
        // Compare only the (width + 1) x (height + 1) planes, not the stride padding.
        for plane in 0..<3 {
            for row in 0...height {
                let start = plane * count + row * stride
                #expect(Array(fast[start...(start + width)]) == Array(reference[start...(start + width)]),
                        "plane \(plane) row \(row) of \(width)x\(height)")
            }
        }
    }

    @Test("a hand-checked 3x2 example")
    func handChecked() {
        // 1 2 3
        // 4 5 6
        let source: [UInt8] = [1, 2, 3, 4, 5, 6]
        var planes = [Int32](repeating: 0, count: 3 * 12)
        var scratch = [Int32](repeating: 0, count: integralTiltedScratchCount(width: 3))
        source.withUnsafeBufferPointer { pixels in
            planes.withUnsafeMutableBufferPointer { out in
                scratch.withUnsafeMutableBufferPointer { scratch in
                    let base = out.baseAddress!
                    computeIntegralImages(source: pixels.baseAddress!, sourceStride: 3, width: 3, height: 2,
                                          into: IntegralPlanes(sum: base, squaredSum: base + 12, tilted: base + 24, stride: 4),
                                          scratch: scratch.baseAddress!)
                }
            }
        }
        #expect(Array(planes[0..<12]) == [0, 0, 0, 0, 0, 1, 3, 6, 0, 5, 12, 21])
        #expect(Array(planes[12..<24]) == [0, 0, 0, 0, 0, 1, 5, 14, 0, 17, 46, 91])
        // tilted[2][x]: apex (x - 1, 1) plus the row above within distance 1.
        #expect(Array(planes[24..<36]) == [0, 0, 0, 0, 0, 1, 2, 3, 1, 7, 11, 11])
    }

    @Test("the squared sum wraps as OpenCV's 32-bit buffers do, keeping window differences exact")
    func wrapping() {
        let width = 300, height = 300
        let source = [UInt8](repeating: 255, count: width * height)
        var planes = [Int32](repeating: 0, count: 2 * (width + 1) * (height + 1))
        source.withUnsafeBufferPointer { pixels in
            planes.withUnsafeMutableBufferPointer { out in
                let base = out.baseAddress!
                computeIntegralImages(source: pixels.baseAddress!, sourceStride: width, width: width, height: height,
                                      into: IntegralPlanes(sum: base, squaredSum: base + (width + 1) * (height + 1),
                                                           tilted: nil, stride: width + 1))
            }
        }
        let squares = Array(planes[((width + 1) * (height + 1))...])
        let stride = width + 1
        // A 24x24 window at the far corner.
        let window = squares[300 * stride + 300] &- squares[276 * stride + 300] &- squares[300 * stride + 276] &+ squares[276 * stride + 276]
        #expect(window == 24 * 24 * 255 * 255)
    }
}

@Suite("Bilinear resize")
struct ResizeTests {
    static let cases: [(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int)] = [
        (640, 480, 582, 436), (640, 480, 529, 397), (641, 479, 33, 27), (31, 17, 29, 13),
        (13, 9, 13, 9), (10, 10, 5, 5), (7, 5, 14, 11), (1, 1, 3, 2), (9, 1, 4, 1),
    ]

    @Test("the row-reusing kernel matches the per-sample reference", arguments: 0..<cases.count)
    func matchesReference(caseIndex: Int) {
        let c = Self.cases[caseIndex]
        let sourceStride = c.sourceWidth + 5
        let source = noise(count: sourceStride * c.sourceHeight, seed: UInt64(caseIndex + 11))
        let destinationStride = c.width + 3
        var fast = [UInt8](repeating: 0, count: destinationStride * c.height)
        var reference = fast
        let resizer = BilinearResizer(sourceWidth: c.sourceWidth, sourceHeight: c.sourceHeight, width: c.width, height: c.height)
        source.withUnsafeBufferPointer { pixels in
            fast.withUnsafeMutableBufferPointer { out in
                resizer.resize(source: pixels.baseAddress!, sourceStride: sourceStride,
                               destination: out.baseAddress!, destinationStride: destinationStride)
            }
            reference.withUnsafeMutableBufferPointer { out in
                resizeBilinearExactReference(source: pixels.baseAddress!, sourceWidth: c.sourceWidth, sourceHeight: c.sourceHeight,
                                             sourceStride: sourceStride, destination: out.baseAddress!,
                                             width: c.width, height: c.height, destinationStride: destinationStride)
            }
        }
        #expect(fast == reference)
    }

    @Test("same size is a copy, and halving averages 2x2 blocks with rounding")
    func knownValues() {
        let source: [UInt8] = [10, 20, 30, 40,
                               50, 60, 70, 80]
        var copy = [UInt8](repeating: 0, count: 8)
        var half = [UInt8](repeating: 0, count: 2)
        source.withUnsafeBufferPointer { pixels in
            copy.withUnsafeMutableBufferPointer { out in
                BilinearResizer(sourceWidth: 4, sourceHeight: 2, width: 4, height: 2)
                    .resize(source: pixels.baseAddress!, sourceStride: 4, destination: out.baseAddress!, destinationStride: 4)
            }
            half.withUnsafeMutableBufferPointer { out in
                BilinearResizer(sourceWidth: 4, sourceHeight: 2, width: 2, height: 1)
                    .resize(source: pixels.baseAddress!, sourceStride: 4, destination: out.baseAddress!, destinationStride: 2)
            }
        }
        #expect(copy == source)
        #expect(half == [35, 55])
    }
}
