// Box downscaling of an 8-bit plane by an integer factor: the cheap grey image that motion
// analysis works on, made from the luma plane of any raw format.

/// Averages each `factor` x `factor` block of `source` into one pixel of `destination`.
///
/// The destination is `source.width / factor` by `source.height / factor` (partial blocks at the
/// right and bottom edges are left out, as DCT-scaled JPEG decoding would round differently;
/// callers size the destination with `downscaledSize`). Rounds to nearest.
/// - Parameters:
///   - source: base address, width, height and stride (bytes per row) of the input plane.
///   - destination: base address and stride of the output plane.
///   - pixelStep: distance in bytes between horizontally adjacent samples (1 for planar luma,
///     2 for the Y samples of packed YUYV).
public func downscaleBox(
    source: UnsafeRawPointer, width: Int, height: Int, stride: Int, pixelStep: Int = 1,
    factor: Int, destination: UnsafeMutableRawPointer, destinationStride: Int
) {
    precondition(factor >= 1 && pixelStep >= 1)
    let outputWidth = width / factor
    let outputHeight = height / factor
    let area = UInt32(factor * factor)
    let half = area / 2
    let input = source.assumingMemoryBound(to: UInt8.self)
    let output = destination.assumingMemoryBound(to: UInt8.self)
    if factor == 4 && pixelStep == 1 {
        downscaleBy4(input, outputWidth, outputHeight, stride, output, destinationStride)
        return
    }
    for outputRow in 0..<outputHeight {
        let outputLine = output + outputRow * destinationStride
        let top = input + outputRow * factor * stride
        for outputColumn in 0..<outputWidth {
            var sum: UInt32 = 0
            let left = top + outputColumn * factor * pixelStep
            for row in 0..<factor {
                let line = left + row * stride
                for column in 0..<factor {
                    sum &+= UInt32(line[column * pixelStep])
                }
            }
            outputLine[outputColumn] = UInt8(truncatingIfNeeded: (sum &+ half) / area)
        }
    }
}

/// The common case (planar luma, factor 4) with the four rows summed eight columns at a time.
@inline(__always)
private func downscaleBy4(
    _ input: UnsafePointer<UInt8>, _ outputWidth: Int, _ outputHeight: Int, _ stride: Int,
    _ output: UnsafeMutablePointer<UInt8>, _ destinationStride: Int
) {
    let chunks = outputWidth / 8
    for outputRow in 0..<outputHeight {
        let row0 = input + outputRow * 4 * stride
        let row1 = row0 + stride, row2 = row1 + stride, row3 = row2 + stride
        let outputLine = output + outputRow * destinationStride
        var column = 0
        // 32 input columns → 8 output pixels per step: vertical sums in SIMD, then pairwise
        // horizontal folding of adjacent lanes.
        for _ in 0..<chunks {
            let offset = column * 4
            var vertical = SIMD32<UInt16>(truncatingIfNeeded: UnsafeRawPointer(row0 + offset).loadUnaligned(as: SIMD32<UInt8>.self))
            vertical &+= SIMD32<UInt16>(truncatingIfNeeded: UnsafeRawPointer(row1 + offset).loadUnaligned(as: SIMD32<UInt8>.self))
            vertical &+= SIMD32<UInt16>(truncatingIfNeeded: UnsafeRawPointer(row2 + offset).loadUnaligned(as: SIMD32<UInt8>.self))
            vertical &+= SIMD32<UInt16>(truncatingIfNeeded: UnsafeRawPointer(row3 + offset).loadUnaligned(as: SIMD32<UInt8>.self))
            let pairs = vertical.evenHalf &+ vertical.oddHalf
            let quads = pairs.evenHalf &+ pairs.oddHalf
            let averaged = (quads &+ 8) &>> 4
            UnsafeMutableRawPointer(outputLine + column).storeBytes(of: SIMD8<UInt8>(truncatingIfNeeded: averaged), as: SIMD8<UInt8>.self)
            column &+= 8
        }
        while column < outputWidth {
            let offset = column * 4
            var sum: UInt32 = 0
            for index in 0..<4 {
                sum &+= UInt32(row0[offset + index]) &+ UInt32(row1[offset + index]) &+ UInt32(row2[offset + index]) &+ UInt32(row3[offset + index])
            }
            outputLine[column] = UInt8(truncatingIfNeeded: (sum &+ 8) / 16)
            column &+= 1
        }
    }
}

/// Output size of `downscaleBox` for an input size and factor.
public func downscaledSize(width: Int, height: Int, factor: Int) -> (width: Int, height: Int) {
    (width / factor, height / factor)
}
