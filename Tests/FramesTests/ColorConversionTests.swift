// The RGB to I420 kernel: the fast row-pair path against the scalar reference on odd sizes and
// padded strides, and the reference against the BT.601 full-range formula in floating point.

import Testing
import Frames

/// A small deterministic generator, so failures reproduce.
private struct SplitMixGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

private struct I420Planes: Equatable {
    var luma: [UInt8]
    var blue: [UInt8]
    var red: [UInt8]
}

/// Converts with one of the kernels into planes with the given padding (filled with 0xEE so a
/// write past the row shows up as a difference in the padding).
private func convert(_ rgb: [UInt8], width: Int, height: Int, rgbStride: Int, padding: Int, reference: Bool) -> I420Planes {
    let chromaWidth = (width + 1) / 2, chromaHeight = (height + 1) / 2
    let lumaStride = width + padding, chromaStride = chromaWidth + padding
    var planes = I420Planes(luma: [UInt8](repeating: 0xEE, count: lumaStride * height),
                            blue: [UInt8](repeating: 0xEE, count: chromaStride * chromaHeight),
                            red: [UInt8](repeating: 0xEE, count: chromaStride * chromaHeight))
    rgb.withUnsafeBytes { source in
        planes.luma.withUnsafeMutableBytes { luma in
            planes.blue.withUnsafeMutableBytes { blue in
                planes.red.withUnsafeMutableBytes { red in
                    if reference {
                        convertRGBToI420Reference(rgb: source, rgbStride: rgbStride, width: width, height: height,
                                                  luma: luma, lumaStride: lumaStride, chromaBlue: blue,
                                                  chromaBlueStride: chromaStride, chromaRed: red, chromaRedStride: chromaStride)
                    } else {
                        convertRGBToI420(rgb: source, rgbStride: rgbStride, width: width, height: height,
                                         luma: luma, lumaStride: lumaStride, chromaBlue: blue,
                                         chromaBlueStride: chromaStride, chromaRed: red, chromaRedStride: chromaStride)
                    }
                }
            }
        }
    }
    return planes
}

@Suite struct ColorConversionTests {
    @Test(arguments: [(1, 1), (2, 2), (3, 1), (1, 3), (5, 3), (7, 7), (16, 9), (33, 17), (640, 2)])
    func fastMatchesReference(width: Int, height: Int) {
        var generator = SplitMixGenerator(state: UInt64(width * 1000 + height))
        for padding in [0, 3] {
            let rgbStride = width * 3 + padding * 2
            let rgb = (0..<(rgbStride * height)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let fast = convert(rgb, width: width, height: height, rgbStride: rgbStride, padding: padding, reference: false)
            let reference = convert(rgb, width: width, height: height, rgbStride: rgbStride, padding: padding, reference: true)
            #expect(fast == reference, "\(width)x\(height) padding \(padding)")
        }
    }

    @Test func referenceMatchesTheFormula() {
        var generator = SplitMixGenerator(state: 42)
        let width = 9, height = 5
        let rgb = (0..<(width * 3 * height)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let planes = convert(rgb, width: width, height: height, rgbStride: width * 3, padding: 0, reference: true)
        func pixel(_ x: Int, _ y: Int) -> (Double, Double, Double) {
            let index = (y * width + x) * 3
            return (Double(rgb[index]), Double(rgb[index + 1]), Double(rgb[index + 2]))
        }
        for y in 0..<height {
            for x in 0..<width {
                let (r, g, b) = pixel(x, y)
                let luma = 0.299 * r + 0.587 * g + 0.114 * b
                #expect(abs(Double(planes.luma[y * width + x]) - luma) <= 0.51)
            }
        }
        let chromaWidth = (width + 1) / 2
        for chromaY in 0..<(height + 1) / 2 {
            for chromaX in 0..<chromaWidth {
                var sum = (0.0, 0.0, 0.0), count = 0.0
                for y in chromaY * 2..<min(chromaY * 2 + 2, height) {
                    for x in chromaX * 2..<min(chromaX * 2 + 2, width) {
                        let (r, g, b) = pixel(x, y)
                        sum = (sum.0 + r, sum.1 + g, sum.2 + b)
                        count += 1
                    }
                }
                let (r, g, b) = (sum.0 / count, sum.1 / count, sum.2 / count)
                let blue = min(255, 128 - 0.168736 * r - 0.331264 * g + 0.5 * b)
                let red = min(255, 128 + 0.5 * r - 0.418688 * g - 0.081312 * b)
                #expect(abs(Double(planes.blue[chromaY * chromaWidth + chromaX]) - blue) <= 0.51)
                #expect(abs(Double(planes.red[chromaY * chromaWidth + chromaX]) - red) <= 0.51)
            }
        }
    }

    @Test func primariesAndGreys() {
        // White, black, pure red and pure blue (which round to 255.5 and must clamp, not wrap).
        let colours: [(UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)] = [
            (255, 255, 255, 255, 128, 128), (0, 0, 0, 0, 128, 128), (128, 128, 128, 128, 128, 128),
            (255, 0, 0, 76, 85, 255), (0, 0, 255, 29, 255, 107),
        ]
        for (r, g, b, y, cb, cr) in colours {
            let rgb = [UInt8](repeating: 0, count: 12).enumerated().map { index, _ in [r, g, b][index % 3] }
            let planes = convert(rgb, width: 2, height: 2, rgbStride: 6, padding: 0, reference: false)
            #expect(planes.luma == [y, y, y, y], "\(r),\(g),\(b)")
            #expect(planes.blue == [cb] && planes.red == [cr], "\(r),\(g),\(b): \(planes.blue) \(planes.red)")
        }
    }
}
