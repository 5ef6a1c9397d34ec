// The writers' conversions: NV12 chroma splitting and YUYV unpacking against their references
// on odd sizes and padded strides (padding must stay untouched), and YUV to RGB against the
// reference, the BT.601 full-range formula in floating point, and a round trip through
// convertRGBToI420.

import Frames
import Testing

private struct Mixer {
    var state: UInt64
    mutating func next() -> UInt8 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return UInt8(truncatingIfNeeded: value ^ (value >> 31))
    }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in next() } }
}

private let sizes = [(1, 1), (2, 1), (1, 2), (3, 3), (5, 4), (7, 9), (16, 8), (33, 17)]

@Suite struct PlanarConversionTests {
    @Test(arguments: sizes)
    func splitChromaMatchesReference(width: Int, height: Int) {
        var mixer = Mixer(state: UInt64(width * 100 + height))
        for padding in [0, 5] {
            let sourceStride = width * 2 + padding, stride = width + padding
            let source = mixer.bytes(sourceStride * height)
            func run(_ reference: Bool) -> ([UInt8], [UInt8]) {
                var blue = [UInt8](repeating: 0xEE, count: stride * height)
                var red = [UInt8](repeating: 0xEE, count: stride * height)
                source.withUnsafeBytes { input in
                    blue.withUnsafeMutableBytes { blueBytes in
                        red.withUnsafeMutableBytes { redBytes in
                            if reference {
                                splitInterleavedChromaReference(source: input, sourceStride: sourceStride, width: width, height: height,
                                                                blue: blueBytes, blueStride: stride, red: redBytes, redStride: stride)
                            } else {
                                splitInterleavedChroma(source: input, sourceStride: sourceStride, width: width, height: height,
                                                       blue: blueBytes, blueStride: stride, red: redBytes, redStride: stride)
                            }
                        }
                    }
                }
                return (blue, red)
            }
            let fast = run(false), reference = run(true)
            #expect(fast.0 == reference.0 && fast.1 == reference.1, "\(width)x\(height) padding \(padding)")
            // The reference itself: Cb is every even byte, Cr every odd one, padding untouched.
            #expect(reference.0[(height - 1) * stride + width - 1] == source[(height - 1) * sourceStride + (width - 1) * 2])
            #expect(reference.1[(height - 1) * stride + width - 1] == source[(height - 1) * sourceStride + (width - 1) * 2 + 1])
            if padding > 0 { #expect(fast.0[width] == 0xEE && fast.1[width] == 0xEE) }
        }
    }

    @Test(arguments: sizes)
    func unpackYUYVMatchesReference(width: Int, height: Int) {
        var mixer = Mixer(state: UInt64(width * 1000 + height))
        let chromaWidth = (width + 1) / 2
        for padding in [0, 3] {
            let sourceStride = chromaWidth * 4 + padding, lumaStride = width + padding, chromaStride = chromaWidth + padding
            let source = mixer.bytes(sourceStride * height)
            func run(_ reference: Bool) -> [[UInt8]] {
                var lumaPlane = [UInt8](repeating: 0xEE, count: lumaStride * height)
                var bluePlane = [UInt8](repeating: 0xEE, count: chromaStride * height)
                var redPlane = bluePlane
                source.withUnsafeBytes { input in
                    lumaPlane.withUnsafeMutableBytes { luma in
                        bluePlane.withUnsafeMutableBytes { blue in
                            redPlane.withUnsafeMutableBytes { red in
                                if reference {
                                    unpackYUYVReference(source: input, sourceStride: sourceStride, width: width, height: height,
                                                        luma: luma, lumaStride: lumaStride, blue: blue, blueStride: chromaStride,
                                                        red: red, redStride: chromaStride)
                                } else {
                                    unpackYUYV(source: input, sourceStride: sourceStride, width: width, height: height,
                                               luma: luma, lumaStride: lumaStride, blue: blue, blueStride: chromaStride,
                                               red: red, redStride: chromaStride)
                                }
                            }
                        }
                    }
                }
                return [lumaPlane, bluePlane, redPlane]
            }
            let fast = run(false), reference = run(true)
            #expect(fast == reference, "\(width)x\(height) padding \(padding)")
            // Pixel 1 of row 0 is byte 2 of the first group; the padding past the row is untouched.
            if width > 1 { #expect(reference[0][1] == source[2]) }
            #expect(reference[2][0] == source[3])
            if padding > 0 { #expect(fast[0][width] == 0xEE) }
        }
    }

    @Test(arguments: sizes)
    func yuvToRGBMatchesReference(width: Int, height: Int) {
        var mixer = Mixer(state: UInt64(width * 7 + height * 13))
        let chromaWidth = (width + 1) / 2
        for shift in [0, 1] {
            let chromaHeight = (height + shift) >> shift
            let lumaStride = width + 3, chromaStride = chromaWidth + 2, rgbStride = width * 3 + 4
            let luma = mixer.bytes(lumaStride * height)
            let blue = mixer.bytes(chromaStride * chromaHeight), red = mixer.bytes(chromaStride * chromaHeight)
            func run(_ reference: Bool) -> [UInt8] {
                var rgb = [UInt8](repeating: 0xEE, count: rgbStride * height)
                luma.withUnsafeBytes { y in
                    blue.withUnsafeBytes { u in
                        red.withUnsafeBytes { v in
                            rgb.withUnsafeMutableBytes { output in
                                if reference {
                                    convertYUVToRGBReference(luma: y, lumaStride: lumaStride, blue: u, blueStride: chromaStride,
                                                             red: v, redStride: chromaStride, width: width, height: height,
                                                             chromaRowShift: shift, rgb: output, rgbStride: rgbStride)
                                } else {
                                    convertYUVToRGB(luma: y, lumaStride: lumaStride, blue: u, blueStride: chromaStride,
                                                    red: v, redStride: chromaStride, width: width, height: height,
                                                    chromaRowShift: shift, rgb: output, rgbStride: rgbStride)
                                }
                            }
                        }
                    }
                }
                return rgb
            }
            let fast = run(false), reference = run(true)
            #expect(fast == reference, "\(width)x\(height) shift \(shift)")
            // The reference against the formula in floating point: within one level everywhere.
            var worst = 0.0
            for row in 0..<height {
                for column in 0..<width {
                    let y = Double(luma[row * lumaStride + column])
                    let cb = Double(blue[(row >> shift) * chromaStride + column / 2]) - 128
                    let cr = Double(red[(row >> shift) * chromaStride + column / 2]) - 128
                    let expected = [y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb]
                    for channel in 0..<3 {
                        let clamped = min(max(expected[channel], 0), 255)
                        worst = max(worst, abs(Double(reference[row * rgbStride + column * 3 + channel]) - clamped))
                    }
                }
            }
            #expect(worst <= 1.0, "worst difference from the BT.601 formula: \(worst)")
            #expect(fast[width * 3] == 0xEE, "padding after the row was written")
        }
    }

    /// Flat 2x2 blocks of colour survive RGB → I420 → RGB within the rounding of two
    /// conversions: the two directions use the same coefficients.
    @Test func roundTripThroughI420() {
        let width = 16, height = 8
        var mixer = Mixer(state: 42)
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for blockRow in 0..<(height / 2) {
            for blockColumn in 0..<(width / 2) {
                let colour = [mixer.next(), mixer.next(), mixer.next()]
                for row in (blockRow * 2)..<(blockRow * 2 + 2) {
                    for column in (blockColumn * 2)..<(blockColumn * 2 + 2) {
                        for channel in 0..<3 { rgb[(row * width + column) * 3 + channel] = colour[channel] }
                    }
                }
            }
        }
        var luma = [UInt8](repeating: 0, count: width * height)
        var blue = [UInt8](repeating: 0, count: width * height / 4), red = blue
        var back = [UInt8](repeating: 0, count: rgb.count)
        rgb.withUnsafeBytes { source in
            luma.withUnsafeMutableBytes { y in
                blue.withUnsafeMutableBytes { u in
                    red.withUnsafeMutableBytes { v in
                        convertRGBToI420(rgb: source, rgbStride: width * 3, width: width, height: height,
                                         luma: y, lumaStride: width, chromaBlue: u, chromaBlueStride: width / 2,
                                         chromaRed: v, chromaRedStride: width / 2)
                    }
                }
            }
        }
        luma.withUnsafeBytes { y in
            blue.withUnsafeBytes { u in
                red.withUnsafeBytes { v in
                    back.withUnsafeMutableBytes { output in
                        convertYUVToRGB(luma: y, lumaStride: width, blue: u, blueStride: width / 2, red: v, redStride: width / 2,
                                        width: width, height: height, chromaRowShift: 1, rgb: output, rgbStride: width * 3)
                    }
                }
            }
        }
        let worst = zip(rgb, back).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(worst <= 3, "round-trip error \(worst)")
    }

    @Test func grayToRGBCopiesLuma() {
        let width = 5, height = 3, stride = 8
        var mixer = Mixer(state: 9)
        let luma = mixer.bytes(stride * height)
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        luma.withUnsafeBytes { y in
            rgb.withUnsafeMutableBytes { convertGrayToRGB(luma: y, lumaStride: stride, width: width, height: height, rgb: $0, rgbStride: width * 3) }
        }
        for row in 0..<height {
            for column in 0..<width {
                let value = luma[row * stride + column]
                #expect(rgb[(row * width + column) * 3..<(row * width + column) * 3 + 3].allSatisfy { $0 == value })
            }
        }
    }
}
