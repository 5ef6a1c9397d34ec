// The box downscaler against a plain reference, on odd sizes, padded strides and packed input.

import Frames
import Testing

/// Straightforward reference: average of each whole block, rounded to nearest.
func referenceDownscale(_ input: [UInt8], width: Int, height: Int, stride: Int, step: Int, factor: Int) -> [UInt8] {
    var output: [UInt8] = []
    for outputRow in 0..<(height / factor) {
        for outputColumn in 0..<(width / factor) {
            var sum = 0
            for row in 0..<factor {
                for column in 0..<factor {
                    sum += Int(input[(outputRow * factor + row) * stride + (outputColumn * factor + column) * step])
                }
            }
            output.append(UInt8((sum + factor * factor / 2) / (factor * factor)))
        }
    }
    return output
}

@Test(arguments: [(640, 480, 640, 4, 1), (641, 479, 672, 4, 1), (37, 21, 40, 4, 1), (130, 9, 131, 4, 1),
                  (99, 50, 99, 2, 1), (100, 64, 103, 8, 1), (64, 16, 128, 4, 2), (33, 9, 70, 3, 2)])
func downscaleMatchesReference(width: Int, height: Int, stride: Int, factor: Int, step: Int) {
    var generator = SplitMix(seed: UInt64(width * 7919 + height))
    let input = (0..<(stride * height)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    let (outputWidth, outputHeight) = downscaledSize(width: width, height: height, factor: factor)
    let destinationStride = outputWidth + 5
    var output = [UInt8](repeating: 0, count: destinationStride * max(outputHeight, 1))
    input.withUnsafeBytes { source in
        output.withUnsafeMutableBytes { destination in
            downscaleBox(source: source.baseAddress!, width: width, height: height, stride: stride, pixelStep: step,
                         factor: factor, destination: destination.baseAddress!, destinationStride: destinationStride)
        }
    }
    var packed: [UInt8] = []
    for row in 0..<outputHeight { packed += output[(row * destinationStride)..<(row * destinationStride + outputWidth)] }
    #expect(packed == referenceDownscale(input, width: width, height: height, stride: stride, step: step, factor: factor))
}

/// A small deterministic generator so failures reproduce.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
