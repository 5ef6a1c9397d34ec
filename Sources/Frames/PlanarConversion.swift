// Conversions writers need: interleaved YUV to planar (NV12's CbCr plane to separate Cb and Cr,
// packed YUYV to I422) so that a JPEG encoder or a Y4M file can take it, and planar YUV to packed
// RGB (BT.601 full range, libjpeg's own fixed-point decoding arithmetic) for PPM stills. Each
// kernel has a plain scalar reference beside it that the tests hold it to.
//
// The fast paths are straight pointer loops with hoisted row bases and wrapping arithmetic; they
// run once per written frame (not per analysed frame), so SIMD has not been needed yet.

/// Fixed-point YCbCr to RGB coefficients scaled by 2^16: exactly the tables libjpeg's
/// `jdcolor.c` builds (`FIX(1.40200)` and so on), so RGB written here equals what libjpeg would
/// produce from the same samples without fancy upsampling, and inverts `convertRGBToI420`
/// (`ColorConversion.swift`) up to rounding.
@usableFromInline
enum BT601FullRangeInverse {
    @usableFromInline static let redFromRed = 91_881     // 1.40200
    @usableFromInline static let blueFromBlue = 116_130  // 1.77200
    @usableFromInline static let greenFromRed = 46_802   // 0.71414 (subtracted)
    @usableFromInline static let greenFromBlue = 22_554  // 0.34414 (subtracted)
    @usableFromInline static let half = 32_768
}

/// Clamps to 0...255 (libjpeg's `range_limit`).
@inlinable @inline(__always)
func clampSample(_ value: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: value < 0 ? 0 : (value > 255 ? 255 : value))
}

/// The red, green and blue offsets that one chroma pair adds to luma, as libjpeg computes them.
@inlinable @inline(__always)
func bt601ChromaOffsets(blue: UInt8, red: UInt8) -> (red: Int, green: Int, blue: Int) {
    let cb = Int(blue) &- 128, cr = Int(red) &- 128
    let redOffset = (BT601FullRangeInverse.redFromRed &* cr &+ BT601FullRangeInverse.half) &>> 16
    let blueOffset = (BT601FullRangeInverse.blueFromBlue &* cb &+ BT601FullRangeInverse.half) &>> 16
    let greenOffset = (0 &- BT601FullRangeInverse.greenFromBlue &* cb &- BT601FullRangeInverse.greenFromRed &* cr
        &+ BT601FullRangeInverse.half) &>> 16
    return (redOffset, greenOffset, blueOffset)
}

// MARK: - NV12 chroma to planar

/// Splits NV12's interleaved CbCr plane (`width` pairs per row, `height` rows) into separate Cb
/// and Cr planes, which with the luma plane unchanged make I420.
public func splitInterleavedChroma(
    source: UnsafeRawBufferPointer, sourceStride: Int, width: Int, height: Int,
    blue: UnsafeMutableRawBufferPointer, blueStride: Int,
    red: UnsafeMutableRawBufferPointer, redStride: Int
) {
    checkPlane(source.count, stride: sourceStride, rowBytes: width * 2, height: height, "interleaved CbCr source")
    checkPlane(blue.count, stride: blueStride, rowBytes: width, height: height, "Cb destination")
    checkPlane(red.count, stride: redStride, rowBytes: width, height: height, "Cr destination")
    guard width > 0, height > 0, let sourceBase = source.baseAddress?.assumingMemoryBound(to: UInt8.self),
          let blueBase = blue.baseAddress?.assumingMemoryBound(to: UInt8.self),
          let redBase = red.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
    var row = 0
    while row < height {
        let input = sourceBase + row &* sourceStride
        let blueRow = blueBase + row &* blueStride
        let redRow = redBase + row &* redStride
        var column = 0
        while column < width {
            let pair = column &<< 1
            blueRow[column] = input[pair]
            redRow[column] = input[pair &+ 1]
            column &+= 1
        }
        row &+= 1
    }
}

/// The plain reference for `splitInterleavedChroma`.
public func splitInterleavedChromaReference(
    source: UnsafeRawBufferPointer, sourceStride: Int, width: Int, height: Int,
    blue: UnsafeMutableRawBufferPointer, blueStride: Int,
    red: UnsafeMutableRawBufferPointer, redStride: Int
) {
    for row in 0..<height {
        for column in 0..<width {
            blue[row * blueStride + column] = source[row * sourceStride + column * 2]
            red[row * redStride + column] = source[row * sourceStride + column * 2 + 1]
        }
    }
}

// MARK: - YUYV to I422

/// Unpacks YUYV (Y0 Cb Y1 Cr per pixel pair) into I422 planes: `width` luma samples and
/// `(width + 1) / 2` chroma samples per row. For an odd width the last pair's second luma
/// byte is padding and is not copied.
public func unpackYUYV(
    source: UnsafeRawBufferPointer, sourceStride: Int, width: Int, height: Int,
    luma: UnsafeMutableRawBufferPointer, lumaStride: Int,
    blue: UnsafeMutableRawBufferPointer, blueStride: Int,
    red: UnsafeMutableRawBufferPointer, redStride: Int
) {
    let chromaWidth = (width + 1) / 2
    checkPlane(source.count, stride: sourceStride, rowBytes: chromaWidth * 4, height: height, "YUYV source")
    checkPlane(luma.count, stride: lumaStride, rowBytes: width, height: height, "luma destination")
    checkPlane(blue.count, stride: blueStride, rowBytes: chromaWidth, height: height, "Cb destination")
    checkPlane(red.count, stride: redStride, rowBytes: chromaWidth, height: height, "Cr destination")
    guard width > 0, height > 0, let sourceBase = source.baseAddress?.assumingMemoryBound(to: UInt8.self),
          let lumaBase = luma.baseAddress?.assumingMemoryBound(to: UInt8.self),
          let blueBase = blue.baseAddress?.assumingMemoryBound(to: UInt8.self),
          let redBase = red.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
    let wholePairs = width &>> 1
    let oddColumn = width & 1 == 1
    var row = 0
    while row < height {
        let input = sourceBase + row &* sourceStride
        let lumaRow = lumaBase + row &* lumaStride
        let blueRow = blueBase + row &* blueStride
        let redRow = redBase + row &* redStride
        var pair = 0
        while pair < wholePairs {
            let group = input + pair &<< 2
            let x = pair &<< 1
            lumaRow[x] = group[0]
            blueRow[pair] = group[1]
            lumaRow[x &+ 1] = group[2]
            redRow[pair] = group[3]
            pair &+= 1
        }
        if oddColumn {
            let group = input + wholePairs &<< 2
            lumaRow[wholePairs &<< 1] = group[0]
            blueRow[wholePairs] = group[1]
            redRow[wholePairs] = group[3]
        }
        row &+= 1
    }
}

/// The plain reference for `unpackYUYV`.
public func unpackYUYVReference(
    source: UnsafeRawBufferPointer, sourceStride: Int, width: Int, height: Int,
    luma: UnsafeMutableRawBufferPointer, lumaStride: Int,
    blue: UnsafeMutableRawBufferPointer, blueStride: Int,
    red: UnsafeMutableRawBufferPointer, redStride: Int
) {
    for row in 0..<height {
        for column in 0..<width {
            let group = row * sourceStride + (column / 2) * 4
            luma[row * lumaStride + column] = source[group + (column % 2 == 0 ? 0 : 2)]
            if column % 2 == 0 {
                blue[row * blueStride + column / 2] = source[group + 1]
                red[row * redStride + column / 2] = source[group + 3]
            }
        }
    }
}

// MARK: - Planar YUV to RGB

/// Converts planar YUV with chroma halved horizontally (and vertically too when
/// `chromaRowShift` is 1: I420; 0 is I422) to packed 8-bit RGB, 3 bytes per pixel. Each chroma
/// sample is used for every pixel it covers (no interpolation), and the arithmetic is libjpeg's
/// (BT.601 full range, as JFIF and `convertRGBToI420`).
public func convertYUVToRGB(
    luma: UnsafeRawBufferPointer, lumaStride: Int,
    blue: UnsafeRawBufferPointer, blueStride: Int,
    red: UnsafeRawBufferPointer, redStride: Int,
    width: Int, height: Int, chromaRowShift: Int,
    rgb: UnsafeMutableRawBufferPointer, rgbStride: Int
) {
    precondition(chromaRowShift == 0 || chromaRowShift == 1, "chroma rows are full (0) or halved (1)")
    let chromaWidth = (width + 1) / 2
    let chromaHeight = (height + chromaRowShift) >> chromaRowShift
    checkPlane(luma.count, stride: lumaStride, rowBytes: width, height: height, "luma source")
    checkPlane(blue.count, stride: blueStride, rowBytes: chromaWidth, height: chromaHeight, "Cb source")
    checkPlane(red.count, stride: redStride, rowBytes: chromaWidth, height: chromaHeight, "Cr source")
    checkPlane(rgb.count, stride: rgbStride, rowBytes: width * 3, height: height, "RGB destination")
    guard width > 0, height > 0, let lumaBase = luma.baseAddress?.assumingMemoryBound(to: UInt8.self),
          let blueBase = blue.baseAddress?.assumingMemoryBound(to: UInt8.self),
          let redBase = red.baseAddress?.assumingMemoryBound(to: UInt8.self),
          let rgbBase = rgb.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
    let wholePairs = width &>> 1
    let oddColumn = width & 1 == 1
    var row = 0
    while row < height {
        let chromaRow = row &>> chromaRowShift
        let lumaRow = lumaBase + row &* lumaStride
        let blueRow = blueBase + chromaRow &* blueStride
        let redRow = redBase + chromaRow &* redStride
        let output = rgbBase + row &* rgbStride
        var pair = 0
        while pair < wholePairs {
            let offsets = bt601ChromaOffsets(blue: blueRow[pair], red: redRow[pair])
            let x = pair &<< 1
            let y0 = Int(lumaRow[x]), y1 = Int(lumaRow[x &+ 1])
            let pixel = output + x &* 3
            pixel[0] = clampSample(y0 &+ offsets.red)
            pixel[1] = clampSample(y0 &+ offsets.green)
            pixel[2] = clampSample(y0 &+ offsets.blue)
            pixel[3] = clampSample(y1 &+ offsets.red)
            pixel[4] = clampSample(y1 &+ offsets.green)
            pixel[5] = clampSample(y1 &+ offsets.blue)
            pair &+= 1
        }
        if oddColumn {
            let offsets = bt601ChromaOffsets(blue: blueRow[wholePairs], red: redRow[wholePairs])
            let x = wholePairs &<< 1
            let y0 = Int(lumaRow[x])
            let pixel = output + x &* 3
            pixel[0] = clampSample(y0 &+ offsets.red)
            pixel[1] = clampSample(y0 &+ offsets.green)
            pixel[2] = clampSample(y0 &+ offsets.blue)
        }
        row &+= 1
    }
}

/// The plain reference for `convertYUVToRGB`: one pixel at a time, with bounds checks.
public func convertYUVToRGBReference(
    luma: UnsafeRawBufferPointer, lumaStride: Int,
    blue: UnsafeRawBufferPointer, blueStride: Int,
    red: UnsafeRawBufferPointer, redStride: Int,
    width: Int, height: Int, chromaRowShift: Int,
    rgb: UnsafeMutableRawBufferPointer, rgbStride: Int
) {
    for row in 0..<height {
        for column in 0..<width {
            let chromaRow = chromaRowShift == 1 ? row / 2 : row
            let y = Int(luma[row * lumaStride + column])
            let offsets = bt601ChromaOffsets(blue: blue[chromaRow * blueStride + column / 2],
                                             red: red[chromaRow * redStride + column / 2])
            rgb[row * rgbStride + column * 3] = clampSample(y + offsets.red)
            rgb[row * rgbStride + column * 3 + 1] = clampSample(y + offsets.green)
            rgb[row * rgbStride + column * 3 + 2] = clampSample(y + offsets.blue)
        }
    }
}

/// Grey to packed RGB (R = G = B = Y, which is what neutral chroma gives in `convertYUVToRGB`).
public func convertGrayToRGB(
    luma: UnsafeRawBufferPointer, lumaStride: Int, width: Int, height: Int,
    rgb: UnsafeMutableRawBufferPointer, rgbStride: Int
) {
    checkPlane(luma.count, stride: lumaStride, rowBytes: width, height: height, "luma source")
    checkPlane(rgb.count, stride: rgbStride, rowBytes: width * 3, height: height, "RGB destination")
    guard width > 0, height > 0, let lumaBase = luma.baseAddress?.assumingMemoryBound(to: UInt8.self),
          let rgbBase = rgb.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
    var row = 0
    while row < height {
        let input = lumaBase + row &* lumaStride
        let output = rgbBase + row &* rgbStride
        var column = 0
        while column < width {
            let value = input[column]
            let pixel = output + column &* 3
            pixel[0] = value
            pixel[1] = value
            pixel[2] = value
            column &+= 1
        }
        row &+= 1
    }
}

/// Checked once per call (the callers' geometry, not input data), so the loops can run on raw
/// pointers.
private func checkPlane(_ count: Int, stride: Int, rowBytes: Int, height: Int, _ what: String) {
    precondition(rowBytes >= 0 && height >= 0, "negative image size")
    guard rowBytes > 0, height > 0 else { return }
    precondition(stride >= rowBytes && count >= stride * (height - 1) + rowBytes,
                 "\(what) too small: \(count) bytes for \(height) rows of \(rowBytes) (stride \(stride))")
}
