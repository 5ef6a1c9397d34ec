// Bilinear resize of an 8-bit plane that is bit-exact with OpenCV's INTER_LINEAR_EXACT (the
// interpolation its cascade detector uses to build the image pyramid), plus a scalar reference.
//
// OpenCV's bit-exact linear resize works in fixed point: each output column and row gets two
// weights rounded to 1/256 (they sum to 256), a row is first interpolated horizontally into
// 16-bit values with 8 fraction bits, then two such rows are blended vertically with 16 fraction
// bits and rounded once. Output positions that map left of (or above) the first source sample
// copy the first sample; those right of (or below) the last copy the last one.

/// Source offsets and weights for resizing `sourceWidth x sourceHeight` to `width x height`, plus
/// the two row buffers the vertical pass needs. One object serves any number of size pairs (the
/// detector's image pyramid, a new crop size nearly every frame): `configure` recomputes the
/// tables in place (a few microseconds) into buffers that only grow, so resizing allocates nothing
/// once the largest pair has been seen. Not thread-safe.
public final class BilinearResizer {
    public private(set) var sourceWidth = 0
    public private(set) var sourceHeight = 0
    public private(set) var width = 0
    public private(set) var height = 0

    private var columnCapacity = 0
    private var rowCapacity = 0
    private var columnOffsets: UnsafeMutablePointer<Int32>
    private var columnWeights: UnsafeMutablePointer<Int32>
    private var rowOffsets: UnsafeMutablePointer<Int32>
    private var rowWeights: UnsafeMutablePointer<Int32>
    /// Two horizontally interpolated rows, `columnCapacity` each.
    private var rowBuffers: UnsafeMutablePointer<UInt16>
    private var columnInterior = (start: 0, end: 0)
    private var rowInterior = (start: 0, end: 0)

    /// A resizer for no size pair yet: call `configure` before `resize`.
    public init() {
        columnOffsets = .allocate(capacity: 1)
        columnWeights = .allocate(capacity: 1)
        rowOffsets = .allocate(capacity: 1)
        rowWeights = .allocate(capacity: 1)
        rowBuffers = .allocate(capacity: 2)
    }

    /// A resizer for one size pair (all positive).
    public convenience init(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int) {
        self.init()
        configure(sourceWidth: sourceWidth, sourceHeight: sourceHeight, width: width, height: height)
    }

    deinit {
        columnOffsets.deallocate()
        columnWeights.deallocate()
        rowOffsets.deallocate()
        rowWeights.deallocate()
        rowBuffers.deallocate()
    }

    /// Prepares the tables for `sourceWidth x sourceHeight` to `width x height` (all positive),
    /// in place: the buffers only grow, so after the largest pair nothing is allocated.
    public func configure(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int) {
        precondition(sourceWidth > 0 && sourceHeight > 0 && width > 0 && height > 0, "empty resize")
        if sourceWidth == self.sourceWidth && sourceHeight == self.sourceHeight
            && width == self.width && height == self.height { return }
        if width > columnCapacity {
            columnOffsets.deallocate()
            columnWeights.deallocate()
            rowBuffers.deallocate()
            columnOffsets = .allocate(capacity: width)
            columnWeights = .allocate(capacity: width)
            rowBuffers = .allocate(capacity: 2 * width)
            columnCapacity = width
        }
        if height > rowCapacity {
            rowOffsets.deallocate()
            rowWeights.deallocate()
            rowOffsets = .allocate(capacity: height)
            rowWeights = .allocate(capacity: height)
            rowCapacity = height
        }
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.width = width
        self.height = height
        columnInterior = Self.fillAxis(sourceCount: sourceWidth, count: width, offsets: columnOffsets, weights: columnWeights)
        rowInterior = Self.fillAxis(sourceCount: sourceHeight, count: height, offsets: rowOffsets, weights: rowWeights)
    }

    /// Offsets and weights along one axis: the left/upper source sample and its weight (0...256)
    /// for interpolated outputs; returns the interpolated range (outputs before it copy sample 0,
    /// after it the last sample).
    private static func fillAxis(sourceCount: Int, count: Int, offsets: UnsafeMutablePointer<Int32>,
                                 weights: UnsafeMutablePointer<Int32>) -> (start: Int, end: Int) {
        // As cv::resize: the scale comes from the two sizes, as 1 / (count / sourceCount).
        let inverseScale = Double(count) / Double(sourceCount)
        let scale = 1.0 / inverseScale
        var start = 0, end = count
        for index in 0..<count {
            offsets[index] = 0
            weights[index] = 256
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
                    end = min(end, index)
                }
            } else {
                start = max(start, index + 1)
            }
        }
        if end < start { end = start }
        return (start, end)
    }

    /// Horizontal pass of one source row into `out` (8 fraction bits).
    @inline(__always)
    private func interpolateRow(_ row: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<UInt16>) {
        let start = columnInterior.start, end = columnInterior.end
        let first = UInt16(row[0]) &<< 8
        for x in 0..<start { out[x] = first }
        let offsets = columnOffsets, weights = columnWeights
        for x in start..<end {
            let offset = Int(offsets[x])
            let weight = weights[x]
            // Interior offsets are at most sourceWidth - 2, so offset + 1 is a real sample.
            let left = Int32(row[offset])
            let right = Int32(row[offset + 1])
            out[x] = UInt16(truncatingIfNeeded: (left &- right) &* weight &+ right &<< 8)
        }
        let last = UInt16(row[sourceWidth - 1]) &<< 8
        for x in end..<width { out[x] = last }
    }

    /// Resizes `source` (`sourceWidth x sourceHeight` of the last `configure`) into `destination`
    /// (both 8-bit planes with the given strides in bytes).
    public func resize(source: UnsafePointer<UInt8>, sourceStride: Int,
                destination: UnsafeMutablePointer<UInt8>, destinationStride: Int) {
        let width = self.width
        var upper = rowBuffers
        var lower = rowBuffers + width
        var upperSource = -1
        var lowerSource = -1
        for y in 0..<height {
            let out = destination + y * destinationStride
            if y < rowInterior.start || y >= rowInterior.end {
                let sourceRow = y < rowInterior.start ? 0 : sourceHeight - 1
                if upperSource != sourceRow {
                    interpolateRow(source + sourceRow * sourceStride, into: upper)
                    upperSource = sourceRow
                    if lowerSource == sourceRow { lowerSource = -1 }
                }
                for x in 0..<width { out[x] = UInt8(truncatingIfNeeded: (Int32(upper[x]) &+ 128) &>> 8) }
                continue
            }
            let offset = Int(rowOffsets[y])
            let weight = rowWeights[y]
            if upperSource != offset {
                if lowerSource == offset {
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
            // The weights sum to 256 and each row value is at most 255 * 256: no clamp needed.
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
