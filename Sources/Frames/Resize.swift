// Bilinear resize of an 8-bit plane that is bit-exact with OpenCV's INTER_LINEAR_EXACT (the
// interpolation its cascade detector uses to build the image pyramid), plus a scalar reference.
//
// OpenCV's bit-exact linear resize works in fixed point: each output column and row gets two
// weights rounded to 1/256 (they sum to 256), a row is first interpolated horizontally into
// 16-bit values with 8 fraction bits, then two such rows are blended vertically with 16 fraction
// bits and rounded once. Output positions that map left of (or above) the first source sample
// copy the first sample; those right of (or below) the last copy the last one.

/// Precomputed source offsets and weights for resizing `sourceWidth x sourceHeight` to
/// `width x height`, plus the two row buffers the vertical pass needs. Build once per size pair
/// and reuse: resizing then allocates nothing.
public final class BilinearResizer {
    public let sourceWidth: Int
    public let sourceHeight: Int
    public let width: Int
    public let height: Int
    let columns: Axis
    let rows: Axis
    let rowBuffers: UnsafeMutablePointer<UInt16>

    /// Offsets and weights along one axis.
    struct Axis {
        /// Source index of the left/upper sample, for outputs in `interiorStart..<interiorEnd`.
        var offsets: [Int32]
        /// Weight of the left/upper sample (0...256); the other weight is 256 minus this.
        var weights: [Int32]
        /// First output index interpolated (earlier ones copy sample 0).
        var interiorStart: Int
        /// First output index past the interpolated ones (later ones copy the last sample).
        var interiorEnd: Int

        init(sourceCount: Int, count: Int) {
            // As cv::resize: the scale comes from the two sizes, as 1 / (count / sourceCount).
            let inverseScale = Double(count) / Double(sourceCount)
            let scale = 1.0 / inverseScale
            offsets = [Int32](repeating: 0, count: count)
            weights = [Int32](repeating: 256, count: count)
            interiorStart = 0
            interiorEnd = count
            for index in 0..<count {
                let position = scale * (Double(index) + 0.5) - 0.5
                let floorPosition = position.rounded(.down)
                let integral = Int(floorPosition)
                if integral >= 0 && sourceCount > 1 {
                    if integral < sourceCount - 1 {
                        offsets[index] = Int32(integral)
                        let fraction = ((position - floorPosition) * 256).rounded(.toNearestOrEven)
                        weights[index] = 256 - Int32(fraction)
                    } else {
                        offsets[index] = Int32(sourceCount - 1)
                        interiorEnd = min(interiorEnd, index)
                    }
                } else {
                    interiorStart = max(interiorStart, index + 1)
                }
            }
            if interiorEnd < interiorStart { interiorEnd = interiorStart }
        }
    }

    public init(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int) {
        precondition(sourceWidth > 0 && sourceHeight > 0 && width > 0 && height > 0, "empty resize")
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.width = width
        self.height = height
        columns = Axis(sourceCount: sourceWidth, count: width)
        rows = Axis(sourceCount: sourceHeight, count: height)
        rowBuffers = .allocate(capacity: 2 * width)
    }

    deinit { rowBuffers.deallocate() }

    /// Horizontal pass of one source row into `out` (8 fraction bits).
    @inline(__always)
    private func interpolateRow(_ row: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<UInt16>) {
        let start = columns.interiorStart, end = columns.interiorEnd
        let first = UInt16(row[0]) &<< 8
        for x in 0..<start { out[x] = first }
        columns.offsets.withUnsafeBufferPointer { offsets in
            columns.weights.withUnsafeBufferPointer { weights in
                for x in start..<end {
                    let offset = Int(offsets[x])
                    let weight = weights[x]
                    // Interior offsets are at most sourceWidth - 2, so offset + 1 is always a real
                    // sample (its weight may be 0): no branch needed.
                    let left = Int32(row[offset])
                    let right = Int32(row[offset + 1])
                    // weight * left + (256 - weight) * right, with one multiply.
                    out[x] = UInt16(truncatingIfNeeded: (left &- right) &* weight &+ right &<< 8)
                }
            }
        }
        let last = UInt16(row[sourceWidth - 1]) &<< 8
        for x in end..<width { out[x] = last }
    }

    /// Resizes `source` into `destination` (both 8-bit planes with the given strides in bytes).
    public func resize(source: UnsafePointer<UInt8>, sourceStride: Int,
                       destination: UnsafeMutablePointer<UInt8>, destinationStride: Int) {
        var upper = rowBuffers
        var lower = rowBuffers + width
        var upperSource = -1
        var lowerSource = -1
        for y in 0..<height {
            let out = destination + y * destinationStride
            if y < rows.interiorStart || y >= rows.interiorEnd {
                let sourceRow = y < rows.interiorStart ? 0 : sourceHeight - 1
                if upperSource != sourceRow {
                    interpolateRow(source + sourceRow * sourceStride, into: upper)
                    upperSource = sourceRow
                    if lowerSource == sourceRow { lowerSource = -1 }
                }
                for x in 0..<width { out[x] = UInt8(truncatingIfNeeded: (Int32(upper[x]) &+ 128) &>> 8) }
                continue
            }
            let offset = Int(rows.offsets[y])
            let weight = rows.weights[y]
            if upperSource != offset {
                if lowerSource == offset {
                    // Reuse the row interpolated as the lower one last time.
                    swap(&upper, &lower)
                } else {
                    interpolateRow(source + offset * sourceStride, into: upper)
                }
                upperSource = offset
                lowerSource = -1
            }
            if weight == 256 {
                for x in 0..<width { out[x] = UInt8(truncatingIfNeeded: (Int32(upper[x]) &* 256 &+ 32_768) &>> 16) }
                continue
            }
            if lowerSource != offset + 1 {
                interpolateRow(source + (offset + 1) * sourceStride, into: lower)
                lowerSource = offset + 1
            }
            let otherWeight = 256 &- weight
            // The weights sum to 256 and each row value is at most 255 * 256, so the rounded
            // result never exceeds 255: no clamp needed.
            for x in 0..<width {
                let blended = Int32(upper[x]) &* weight &+ Int32(lower[x]) &* otherWeight &+ 32_768
                out[x] = UInt8(truncatingIfNeeded: blended &>> 16)
            }
        }
    }
}

/// Plain reference for `BilinearResizer.resize`: every output sample from its own four source
/// samples and weights, without row reuse.
public func resizeBilinearExactReference(
    source: UnsafePointer<UInt8>, sourceWidth: Int, sourceHeight: Int, sourceStride: Int,
    destination: UnsafeMutablePointer<UInt8>, width: Int, height: Int, destinationStride: Int
) {
    func axis(_ sourceCount: Int, _ count: Int, _ index: Int) -> (offset: Int, weight: Int, border: Int?) {
        let scale = 1.0 / (Double(count) / Double(sourceCount))
        let position = scale * (Double(index) + 0.5) - 0.5
        let integral = Int(position.rounded(.down))
        if integral < 0 || sourceCount == 1 { return (0, 256, 0) }
        if integral >= sourceCount - 1 { return (sourceCount - 1, 256, sourceCount - 1) }
        let fraction = Int(((position - Double(integral)) * 256).rounded(.toNearestOrEven))
        return (integral, 256 - fraction, nil)
    }
    func horizontal(_ y: Int, _ x: Int) -> Int {
        let (offset, weight, border) = axis(sourceWidth, width, x)
        let row = source + y * sourceStride
        if let border { return Int(row[border]) << 8 }
        return weight * Int(row[offset]) + (256 - weight) * (weight == 256 ? 0 : Int(row[offset + 1]))
    }
    for y in 0..<height {
        let (offset, weight, border) = axis(sourceHeight, height, y)
        for x in 0..<width {
            let value: Int
            if let border {
                value = (horizontal(border, x) + 128) >> 8
            } else {
                let lower = weight == 256 ? 0 : horizontal(offset + 1, x)
                value = min((weight * horizontal(offset, x) + (256 - weight) * lower + 32_768) >> 16, 255)
            }
            destination[y * destinationStride + x] = UInt8(value)
        }
    }
}
