// RGB to YCbCr conversion (BT.601 full range, as JFIF and libjpeg use) into I420, with the
// chroma of each 2x2 block averaged: a fast row-pair kernel and the plain scalar reference it
// is tested against.

/// Fixed-point BT.601 full-range coefficients scaled by 2^16, the same values libjpeg's
/// `jccolor.c` uses, so that a still loaded here matches what a JPEG encoder would produce.
@usableFromInline
enum BT601FullRange {
    @usableFromInline static let redToLuma = 19_595      // 0.29900
    @usableFromInline static let greenToLuma = 38_470    // 0.58700
    @usableFromInline static let blueToLuma = 7_471      // 0.11400
    @usableFromInline static let redToBlue = -11_059     // -0.16874
    @usableFromInline static let greenToBlue = -21_709   // -0.33126
    @usableFromInline static let blueToBlue = 32_768     // 0.50000
    @usableFromInline static let redToRed = 32_768      // 0.50000
    @usableFromInline static let greenToRed = -27_439    // -0.41869
    @usableFromInline static let blueToRed = -5_329      // -0.08131
    /// 0.5 in the scaled domain, added before the shift to round to nearest.
    @usableFromInline static let half = 32_768
    /// 128 (the chroma offset) plus the rounding half, in the scaled domain.
    @usableFromInline static let chromaBias = (128 << 16) + 32_768
}

/// Luma of one pixel. Never exceeds 255: the coefficients sum to exactly 2^16.
@inlinable @inline(__always)
func bt601Luma(red: Int, green: Int, blue: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: (BT601FullRange.redToLuma &* red &+ BT601FullRange.greenToLuma &* green
        &+ BT601FullRange.blueToLuma &* blue &+ BT601FullRange.half) &>> 16)
}

/// Cb and Cr of the average of `1 << shift` pixels whose channel sums are given. Averaging the
/// sums before rounding once keeps the result the same as converting the mean colour.
@inlinable @inline(__always)
func bt601Chroma(redSum: Int, greenSum: Int, blueSum: Int, shift: Int) -> (blue: UInt8, red: UInt8) {
    let bias = BT601FullRange.chromaBias &<< shift
    let total = 16 &+ shift
    var blue = (BT601FullRange.redToBlue &* redSum &+ BT601FullRange.greenToBlue &* greenSum
        &+ BT601FullRange.blueToBlue &* blueSum &+ bias) &>> total
    var red = (BT601FullRange.redToRed &* redSum &+ BT601FullRange.greenToRed &* greenSum
        &+ BT601FullRange.blueToRed &* blueSum &+ bias) &>> total
    // Pure red or blue lands at 255.5 before rounding; clamp rather than wrap to 0.
    blue = min(max(blue, 0), 255)
    red = min(max(red, 0), 255)
    return (UInt8(truncatingIfNeeded: blue), UInt8(truncatingIfNeeded: red))
}

/// Converts packed 8-bit RGB (as in a PPM P6 image) to I420: full-resolution luma and one Cb
/// and one Cr sample per 2x2 block, computed from the block's mean colour. For odd widths or
/// heights the last column or row of chroma averages the pixels that exist (2 or 1).
///
/// - Parameters:
///   - rgb: the source pixels, `height` rows of `rgbStride` bytes, 3 bytes per pixel.
///   - luma, chromaBlue, chromaRed: the destination planes; the chroma planes are
///     `(width + 1) / 2` by `(height + 1) / 2` samples.
public func convertRGBToI420(
    rgb: UnsafeRawBufferPointer, rgbStride: Int, width: Int, height: Int,
    luma: UnsafeMutableRawBufferPointer, lumaStride: Int,
    chromaBlue: UnsafeMutableRawBufferPointer, chromaBlueStride: Int,
    chromaRed: UnsafeMutableRawBufferPointer, chromaRedStride: Int
) {
    checkRGBToI420Geometry(rgbCount: rgb.count, rgbStride: rgbStride, width: width, height: height,
                           lumaCount: luma.count, lumaStride: lumaStride,
                           blueCount: chromaBlue.count, blueStride: chromaBlueStride,
                           redCount: chromaRed.count, redStride: chromaRedStride)
    guard width > 0, height > 0,
          let source = rgb.baseAddress?.assumingMemoryBound(to: UInt8.self),
          let lumaBase = luma.baseAddress?.assumingMemoryBound(to: UInt8.self),
          let blueBase = chromaBlue.baseAddress?.assumingMemoryBound(to: UInt8.self),
          let redBase = chromaRed.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }

    let pairColumns = width &>> 1
    let oddColumn = width & 1 == 1
    var row = 0
    while row < height {
        let hasSecondRow = row &+ 1 < height
        let top = source + row &* rgbStride
        // With no second row, read the top row twice and halve the divisor instead: the
        // shift below accounts for it, so the average is over the pixels that exist.
        let bottom = hasSecondRow ? top + rgbStride : top
        let lumaTop = lumaBase + row &* lumaStride
        let lumaBottom = lumaTop + lumaStride
        let chromaRow = row &>> 1
        let blueRow = blueBase + chromaRow &* chromaBlueStride
        let redRow = redBase + chromaRow &* chromaRedStride
        let rowShift = hasSecondRow ? 1 : 0

        var pair = 0
        while pair < pairColumns {
            let x = pair &<< 1
            let pixel = x &* 3
            let r0 = Int(top[pixel]), g0 = Int(top[pixel &+ 1]), b0 = Int(top[pixel &+ 2])
            let r1 = Int(top[pixel &+ 3]), g1 = Int(top[pixel &+ 4]), b1 = Int(top[pixel &+ 5])
            lumaTop[x] = bt601Luma(red: r0, green: g0, blue: b0)
            lumaTop[x &+ 1] = bt601Luma(red: r1, green: g1, blue: b1)
            var redSum = r0 &+ r1, greenSum = g0 &+ g1, blueSum = b0 &+ b1
            if hasSecondRow {
                let r2 = Int(bottom[pixel]), g2 = Int(bottom[pixel &+ 1]), b2 = Int(bottom[pixel &+ 2])
                let r3 = Int(bottom[pixel &+ 3]), g3 = Int(bottom[pixel &+ 4]), b3 = Int(bottom[pixel &+ 5])
                lumaBottom[x] = bt601Luma(red: r2, green: g2, blue: b2)
                lumaBottom[x &+ 1] = bt601Luma(red: r3, green: g3, blue: b3)
                redSum = redSum &+ r2 &+ r3
                greenSum = greenSum &+ g2 &+ g3
                blueSum = blueSum &+ b2 &+ b3
            }
            let chroma = bt601Chroma(redSum: redSum, greenSum: greenSum, blueSum: blueSum, shift: 1 &+ rowShift)
            blueRow[pair] = chroma.blue
            redRow[pair] = chroma.red
            pair &+= 1
        }
        if oddColumn {
            let x = width &- 1
            let pixel = x &* 3
            let r0 = Int(top[pixel]), g0 = Int(top[pixel &+ 1]), b0 = Int(top[pixel &+ 2])
            lumaTop[x] = bt601Luma(red: r0, green: g0, blue: b0)
            var redSum = r0, greenSum = g0, blueSum = b0
            if hasSecondRow {
                let r2 = Int(bottom[pixel]), g2 = Int(bottom[pixel &+ 1]), b2 = Int(bottom[pixel &+ 2])
                lumaBottom[x] = bt601Luma(red: r2, green: g2, blue: b2)
                redSum &+= r2
                greenSum &+= g2
                blueSum &+= b2
            }
            let chroma = bt601Chroma(redSum: redSum, greenSum: greenSum, blueSum: blueSum, shift: rowShift)
            blueRow[pairColumns] = chroma.blue
            redRow[pairColumns] = chroma.red
        }
        row &+= 2
    }
}

/// The plain reference for `convertRGBToI420`: one pixel or one chroma block at a time, with
/// bounds checks, written to be obviously right rather than fast. Tests hold the fast kernel
/// to exactly these bytes.
public func convertRGBToI420Reference(
    rgb: UnsafeRawBufferPointer, rgbStride: Int, width: Int, height: Int,
    luma: UnsafeMutableRawBufferPointer, lumaStride: Int,
    chromaBlue: UnsafeMutableRawBufferPointer, chromaBlueStride: Int,
    chromaRed: UnsafeMutableRawBufferPointer, chromaRedStride: Int
) {
    checkRGBToI420Geometry(rgbCount: rgb.count, rgbStride: rgbStride, width: width, height: height,
                           lumaCount: luma.count, lumaStride: lumaStride,
                           blueCount: chromaBlue.count, blueStride: chromaBlueStride,
                           redCount: chromaRed.count, redStride: chromaRedStride)
    func channel(_ x: Int, _ y: Int, _ component: Int) -> Int {
        Int(rgb[y * rgbStride + x * 3 + component])
    }
    for y in 0..<height {
        for x in 0..<width {
            luma[y * lumaStride + x] = bt601Luma(red: channel(x, y, 0), green: channel(x, y, 1), blue: channel(x, y, 2))
        }
    }
    for chromaY in 0..<(height + 1) / 2 {
        for chromaX in 0..<(width + 1) / 2 {
            var sums = (red: 0, green: 0, blue: 0)
            var count = 0
            for y in chromaY * 2..<min(chromaY * 2 + 2, height) {
                for x in chromaX * 2..<min(chromaX * 2 + 2, width) {
                    sums.red += channel(x, y, 0)
                    sums.green += channel(x, y, 1)
                    sums.blue += channel(x, y, 2)
                    count += 1
                }
            }
            let shift = count == 4 ? 2 : (count == 2 ? 1 : 0)
            let chroma = bt601Chroma(redSum: sums.red, greenSum: sums.green, blueSum: sums.blue, shift: shift)
            chromaBlue[chromaY * chromaBlueStride + chromaX] = chroma.blue
            chromaRed[chromaY * chromaRedStride + chromaX] = chroma.red
        }
    }
}

/// Checked once per call, so that the loops can run on raw pointers.
private func checkRGBToI420Geometry(rgbCount: Int, rgbStride: Int, width: Int, height: Int,
                                    lumaCount: Int, lumaStride: Int,
                                    blueCount: Int, blueStride: Int,
                                    redCount: Int, redStride: Int) {
    precondition(width >= 0 && height >= 0, "negative image size")
    guard width > 0, height > 0 else { return }
    let chromaWidth = (width + 1) / 2
    let chromaHeight = (height + 1) / 2
    precondition(rgbStride >= width * 3 && rgbCount >= rgbStride * (height - 1) + width * 3,
                 "RGB source too small for \(width)x\(height)")
    precondition(lumaStride >= width && lumaCount >= lumaStride * (height - 1) + width,
                 "luma plane too small for \(width)x\(height)")
    precondition(blueStride >= chromaWidth && blueCount >= blueStride * (chromaHeight - 1) + chromaWidth,
                 "Cb plane too small for \(width)x\(height)")
    precondition(redStride >= chromaWidth && redCount >= redStride * (chromaHeight - 1) + chromaWidth,
                 "Cr plane too small for \(width)x\(height)")
}
