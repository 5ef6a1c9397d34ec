// 3x3 erosion and dilation of an 8-bit plane (minimum and maximum over each pixel's 3x3
// neighbourhood), used by motion analysis to clean speckle out of its foreground mask. A
// separable SIMD kernel and a plain scalar reference, tested against each other.
//
// Borders replicate the edge pixels: an object touching the frame edge is not eaten from
// outside the image, which matters when a person walks in from the side.

/// Bytes of scratch `erode3x3` and `dilate3x3` need for a plane of this size.
public func morphologyScratchCount(width: Int, height: Int) -> Int { width * height }

/// Minimum over each pixel's 3x3 neighbourhood (binary erosion on a 0/255 mask).
///
/// - Parameters:
///   - source: base address, width, height and stride (bytes per row) of the input plane.
///   - destination: base address and stride of the output; may be the same memory as `source`
///     (the kernel reads the source only in its first pass, into `scratch`).
///   - scratch: `morphologyScratchCount(width:height:)` bytes, not overlapping the others.
public func erode3x3(
    source: UnsafeRawPointer, width: Int, height: Int, stride: Int,
    destination: UnsafeMutableRawPointer, destinationStride: Int, scratch: UnsafeMutableRawPointer
) {
    morphology3x3(source.assumingMemoryBound(to: UInt8.self), width, height, stride,
                  destination.assumingMemoryBound(to: UInt8.self), destinationStride,
                  scratch.assumingMemoryBound(to: UInt8.self), erosion: true)
}

/// Maximum over each pixel's 3x3 neighbourhood (binary dilation on a 0/255 mask). Same
/// parameters and aliasing rules as `erode3x3`.
public func dilate3x3(
    source: UnsafeRawPointer, width: Int, height: Int, stride: Int,
    destination: UnsafeMutableRawPointer, destinationStride: Int, scratch: UnsafeMutableRawPointer
) {
    morphology3x3(source.assumingMemoryBound(to: UInt8.self), width, height, stride,
                  destination.assumingMemoryBound(to: UInt8.self), destinationStride,
                  scratch.assumingMemoryBound(to: UInt8.self), erosion: false)
}

@inline(__always)
private func combine(_ first: SIMD16<UInt8>, _ second: SIMD16<UInt8>, erosion: Bool) -> SIMD16<UInt8> {
    // Comparison and blend rather than pointwiseMin/Max, which are not inlined here and cost a
    // call per 16 pixels.
    erosion ? first.replacing(with: second, where: second .< first) : first.replacing(with: second, where: second .> first)
}

@inline(__always)
private func combine(_ first: UInt8, _ second: UInt8, erosion: Bool) -> UInt8 {
    erosion ? min(first, second) : max(first, second)
}

/// Horizontal 3-tap pass into `scratch` (stride `width`), then vertical 3-tap pass into the
/// destination: 4 comparisons per pixel instead of 8, 16 pixels per step.
@inline(__always)
private func morphology3x3(
    _ source: UnsafePointer<UInt8>, _ width: Int, _ height: Int, _ stride: Int,
    _ destination: UnsafeMutablePointer<UInt8>, _ destinationStride: Int,
    _ scratch: UnsafeMutablePointer<UInt8>, erosion: Bool
) {
    guard width > 0, height > 0 else { return }
    for row in 0..<height {
        let input = source + row * stride
        let output = scratch + row * width
        if width == 1 {
            output[0] = input[0]
            continue
        }
        output[0] = combine(input[0], input[1], erosion: erosion)
        output[width - 1] = combine(input[width - 2], input[width - 1], erosion: erosion)
        var column = 1
        // Interior columns 1 ..< width - 1 read column - 1 ... column + 16 at most.
        while column &+ 16 <= width &- 1 {
            let left = UnsafeRawPointer(input + column - 1).loadUnaligned(as: SIMD16<UInt8>.self)
            let middle = UnsafeRawPointer(input + column).loadUnaligned(as: SIMD16<UInt8>.self)
            let right = UnsafeRawPointer(input + column + 1).loadUnaligned(as: SIMD16<UInt8>.self)
            let value = combine(combine(left, middle, erosion: erosion), right, erosion: erosion)
            UnsafeMutableRawPointer(output + column).storeBytes(of: value, as: SIMD16<UInt8>.self)
            column &+= 16
        }
        while column < width &- 1 {
            output[column] = combine(combine(input[column - 1], input[column], erosion: erosion), input[column + 1], erosion: erosion)
            column &+= 1
        }
    }
    for row in 0..<height {
        let above = scratch + max(row - 1, 0) * width
        let middle = scratch + row * width
        let below = scratch + min(row + 1, height - 1) * width
        let output = destination + row * destinationStride
        var column = 0
        while column &+ 16 <= width {
            let value = combine(
                combine(UnsafeRawPointer(above + column).loadUnaligned(as: SIMD16<UInt8>.self),
                        UnsafeRawPointer(middle + column).loadUnaligned(as: SIMD16<UInt8>.self), erosion: erosion),
                UnsafeRawPointer(below + column).loadUnaligned(as: SIMD16<UInt8>.self), erosion: erosion)
            UnsafeMutableRawPointer(output + column).storeBytes(of: value, as: SIMD16<UInt8>.self)
            column &+= 16
        }
        while column < width {
            output[column] = combine(combine(above[column], middle[column], erosion: erosion), below[column], erosion: erosion)
            column &+= 1
        }
    }
}

/// Scalar reference for `erode3x3` (erosion true) and `dilate3x3`: all nine neighbours, clamped
/// coordinates. Source and destination must not overlap.
public func morphology3x3Reference(
    source: UnsafeRawPointer, width: Int, height: Int, stride: Int,
    destination: UnsafeMutableRawPointer, destinationStride: Int, erosion: Bool
) {
    let input = source.assumingMemoryBound(to: UInt8.self)
    let output = destination.assumingMemoryBound(to: UInt8.self)
    for row in 0..<height {
        for column in 0..<width {
            var value: UInt8 = erosion ? 255 : 0
            for rowOffset in -1...1 {
                let sampleRow = min(max(row + rowOffset, 0), height - 1)
                for columnOffset in -1...1 {
                    let sampleColumn = min(max(column + columnOffset, 0), width - 1)
                    let sample = input[sampleRow * stride + sampleColumn]
                    value = erosion ? min(value, sample) : max(value, sample)
                }
            }
            output[row * destinationStride + column] = value
        }
    }
}
