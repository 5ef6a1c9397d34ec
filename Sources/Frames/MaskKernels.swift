// Pixel kernels for redaction: building a 0/255 mask (rectangles, even-odd polygons, a coarse
// mask scaled up, a luma mask reduced to chroma resolution) and the three irreversible methods
// (fill, pixelate, blur) applied inside a rectangle wherever the mask is set.
//
// Every kernel works on a `SamplePlane`: a base address, width, height, stride and a sample
// step, so one kernel serves planar planes (step 1), NV12's interleaved CbCr (step 2) and the
// Y, Cb and Cr samples of packed YUYV (steps 2 and 4). Masks are always one byte per sample of
// the plane they govern, so a mask index is `row * maskStride + column`.

/// A rectangle of samples, `left..<right` by `top..<bottom`.
public struct PixelRectangle: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var left: Int
    public var top: Int
    public var right: Int
    public var bottom: Int

    public init(left: Int, top: Int, right: Int, bottom: Int) {
        self.left = left
        self.top = top
        self.right = right
        self.bottom = bottom
    }

    public var width: Int { max(right - left, 0) }
    public var height: Int { max(bottom - top, 0) }
    public var isEmpty: Bool { right <= left || bottom <= top }
    public var description: String { "[\(left)..<\(right), \(top)..<\(bottom)]" }

    /// This rectangle cut to `0..<width` by `0..<height` (empty when it lies outside).
    public func clamped(width: Int, height: Int) -> PixelRectangle {
        PixelRectangle(left: min(max(left, 0), width), top: min(max(top, 0), height),
                       right: max(min(right, width), 0), bottom: max(min(bottom, height), 0))
    }

    /// The smallest rectangle holding both (an empty operand is ignored).
    public func union(_ other: PixelRectangle) -> PixelRectangle {
        if isEmpty { return other }
        if other.isEmpty { return self }
        return PixelRectangle(left: min(left, other.left), top: min(top, other.top),
                              right: max(right, other.right), bottom: max(bottom, other.bottom))
    }

    /// The rectangle in a plane subsampled by the given factors, rounded outwards so that every
    /// subsampled sample touching a masked pixel is covered.
    public func subsampled(horizontal: Int, vertical: Int) -> PixelRectangle {
        PixelRectangle(left: left / horizontal, top: top / vertical,
                       right: (right + horizontal - 1) / horizontal, bottom: (bottom + vertical - 1) / vertical)
    }
}

/// A point in pixel coordinates; pixel (column, row) has its centre at (column + 0.5, row + 0.5).
public struct PixelPoint: Sendable, Equatable, Hashable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// The samples of one plane (or one component of a packed plane).
public struct SamplePlane {
    public var base: UnsafeMutableRawPointer
    /// Samples per row.
    public var width: Int
    public var height: Int
    /// Bytes from one row to the next.
    public var stride: Int
    /// Bytes from one sample to the next in a row: 1 planar, 2 for NV12 CbCr or YUYV luma, 4 for
    /// YUYV chroma.
    public var step: Int

    public init(base: UnsafeMutableRawPointer, width: Int, height: Int, stride: Int, step: Int = 1) {
        self.base = base
        self.width = width
        self.height = height
        self.stride = stride
        self.step = step
    }
}

// MARK: - Building masks

/// Sets every mask byte inside `rectangle` (clamped to the mask) to 255.
public func fillRectangleMask(_ mask: UnsafeMutableRawPointer, width: Int, height: Int, stride: Int,
                              rectangle: PixelRectangle) {
    let area = rectangle.clamped(width: width, height: height)
    guard !area.isEmpty else { return }
    for row in area.top..<area.bottom {
        (mask + row * stride + area.left).initializeMemory(as: UInt8.self, repeating: 255, count: area.width)
    }
}

/// Sets to 255 every mask byte whose pixel centre is inside the polygon by the even-odd rule,
/// one scanline at a time: the edges crossing the row's centre line give sorted crossings, and
/// the pixels between each pair are inside. Returns the rows and columns touched, for callers
/// that only want to revisit that part of the mask.
///
/// - Parameter crossings: scratch reused between calls so a zone costs no allocation per frame.
@discardableResult
public func fillPolygonMask(_ mask: UnsafeMutableRawPointer, width: Int, height: Int, stride: Int,
                            polygon: [PixelPoint], crossings: inout [Double]) -> PixelRectangle {
    // A polygon from a config file may hold anything: non-finite points would trap the integer
    // conversions below, so such a polygon rasterises to nothing (callers validate zones).
    guard polygon.count >= 3, width > 0, height > 0, polygon.allSatisfy({ $0.x.isFinite && $0.y.isFinite }) else {
        return PixelRectangle(left: 0, top: 0, right: 0, bottom: 0)
    }
    var minimumY = polygon[0].y, maximumY = polygon[0].y
    for point in polygon {
        minimumY = min(minimumY, point.y)
        maximumY = max(maximumY, point.y)
    }
    // Rows whose centre can lie inside: centre in [minimumY, maximumY].
    // Clamped before the conversion so coordinates far outside the frame cannot overflow Int.
    let firstRow = Int((min(max(minimumY, -1), Double(height) + 1) - 0.5).rounded(.up)).clamped(0, height)
    let lastRow = Int((min(max(maximumY, -1), Double(height) + 1) - 0.5).rounded(.down)).clamped(-1, height - 1)
    var touched = PixelRectangle(left: 0, top: 0, right: 0, bottom: 0)
    guard firstRow <= lastRow else { return touched }
    let bytes = mask.assumingMemoryBound(to: UInt8.self)
    for row in firstRow...lastRow {
        let centreY = Double(row) + 0.5
        crossings.removeAll(keepingCapacity: true)
        var previous = polygon[polygon.count - 1]
        for current in polygon {
            // Half-open in y so a vertex on the centre line is counted once, as the point-in-
            // polygon test `(yi > y) != (yj > y)` does.
            if (current.y > centreY) != (previous.y > centreY) {
                let crossing = (previous.x - current.x) * (centreY - current.y) / (previous.y - current.y) + current.x
                // Vertices near the limits of Double can overflow to inf - inf; such a crossing
                // goes to the left edge instead of trapping the conversion to Int below.
                crossings.append(crossing.isNaN ? -Double.infinity : crossing)
            }
            previous = current
        }
        crossings.sort()
        var index = 0
        while index + 1 < crossings.count {
            // Centre column + 0.5 in [start, end): column from ceil(start - 0.5) to ceil(end - 0.5) - 1.
            let limit = Double(width) + 1
            let first = Int((min(max(crossings[index], -1), limit) - 0.5).rounded(.up)).clamped(0, width)
            let last = Int((min(max(crossings[index + 1], -1), limit) - 0.5).rounded(.up)).clamped(0, width)
            if last > first {
                (bytes + row * stride + first).initialize(repeating: 255, count: last - first)
                touched = touched.union(PixelRectangle(left: first, top: row, right: last, bottom: row + 1))
            }
            index &+= 2
        }
    }
    return touched
}

/// Sets to 255 every destination byte whose pixel, scaled down by `factor`, is set in the
/// coarse source mask. Destination pixels beyond the coarse mask's last row or column (the
/// remainder a floor-division downscale dropped) take the nearest edge value: an unanalysed
/// edge strip is treated like its neighbour rather than as empty.
public func upscaleMask(source: UnsafeRawPointer, sourceWidth: Int, sourceHeight: Int, sourceStride: Int,
                        factor: Int, destination: UnsafeMutableRawPointer, width: Int, height: Int,
                        destinationStride: Int) {
    guard sourceWidth > 0, sourceHeight > 0, factor > 0 else { return }
    let input = source.assumingMemoryBound(to: UInt8.self)
    let output = destination.assumingMemoryBound(to: UInt8.self)
    for row in 0..<height {
        let sourceRow = input + min(row / factor, sourceHeight - 1) * sourceStride
        let outputRow = output + row * destinationStride
        var column = 0
        for sourceColumn in 0..<sourceWidth {
            let end = sourceColumn == sourceWidth - 1 ? width : min((sourceColumn + 1) * factor, width)
            if sourceRow[sourceColumn] != 0, end > column {
                (outputRow + column).initialize(repeating: 255, count: end - column)
            }
            column = end
            if column >= width { break }
        }
    }
}

/// Chroma mask from a luma mask: a chroma sample is masked when any luma pixel of its block
/// (`horizontal` by `vertical`, cut at the frame edge) is masked, so chroma is masked wherever
/// luma is. Only the chroma samples covering `lumaRegion` are written.
public func reduceMaskToChroma(luma: UnsafeRawPointer, width: Int, height: Int, stride: Int,
                               horizontal: Int, vertical: Int, lumaRegion: PixelRectangle,
                               chroma: UnsafeMutableRawPointer, chromaStride: Int) {
    let region = lumaRegion.clamped(width: width, height: height).subsampled(horizontal: horizontal, vertical: vertical)
    guard !region.isEmpty else { return }
    let input = luma.assumingMemoryBound(to: UInt8.self)
    let output = chroma.assumingMemoryBound(to: UInt8.self)
    if horizontal == 2 && (vertical == 1 || vertical == 2) {
        // The common 4:2:0 and 4:2:2 cases: the second column and row of a block are clamped to
        // the frame, so an odd edge reads its one pixel twice instead of needing a tail loop.
        for chromaRow in region.top..<region.bottom {
            let first = input + chromaRow * vertical * stride
            let second = input + min(chromaRow * vertical + vertical - 1, height - 1) * stride
            let line = output + chromaRow * chromaStride
            for chromaColumn in region.left..<region.right {
                let left = chromaColumn &* 2, right = min(left &+ 1, width - 1)
                let any = first[left] | first[right] | second[left] | second[right]
                line[chromaColumn] = any == 0 ? 0 : 255
            }
        }
        return
    }
    for chromaRow in region.top..<region.bottom {
        let firstRow = chromaRow * vertical, endRow = min(firstRow + vertical, height)
        for chromaColumn in region.left..<region.right {
            let firstColumn = chromaColumn * horizontal, endColumn = min(firstColumn + horizontal, width)
            var any: UInt8 = 0
            for row in firstRow..<endRow {
                for column in firstColumn..<endColumn { any |= input[row * stride + column] }
            }
            output[chromaRow * chromaStride + chromaColumn] = any == 0 ? 0 : 255
        }
    }
}

/// Number of mask bytes set to non-zero inside `region`, eight bytes at a time: each byte's
/// bits are folded into its lowest bit, and the low bits are counted.
public func countMasked(_ mask: UnsafeRawPointer, stride: Int, region: PixelRectangle) -> Int {
    guard !region.isEmpty else { return 0 }
    let lowBits: UInt64 = 0x0101_0101_0101_0101
    var total = 0
    for row in region.top..<region.bottom {
        let line = mask + row * stride
        var column = region.left
        while column &+ 8 <= region.right {
            var word = line.loadUnaligned(fromByteOffset: column, as: UInt64.self)
            // Shifts move bits down within each byte only into bits the fold no longer reads.
            word |= word &>> 4
            word |= word &>> 2
            word |= word &>> 1
            total &+= (word & lowBits).nonzeroBitCount
            column &+= 8
        }
        let bytes = line.assumingMemoryBound(to: UInt8.self)
        while column < region.right {
            total &+= bytes[column] != 0 ? 1 : 0
            column &+= 1
        }
    }
    return total
}

// MARK: - Methods

/// Writes `value` to every sample of `region` whose mask byte is set (every sample when `mask`
/// is nil).
public func fillMasked(_ plane: SamplePlane, region: PixelRectangle, mask: UnsafeRawPointer?, maskStride: Int,
                       value: UInt8) {
    let area = region.clamped(width: plane.width, height: plane.height)
    guard !area.isEmpty else { return }
    let base = plane.base.assumingMemoryBound(to: UInt8.self)
    let step = plane.step, stride = plane.stride
    let maskBytes = mask?.assumingMemoryBound(to: UInt8.self)
    for row in area.top..<area.bottom {
        let line = base + row * stride
        if let maskBytes {
            let maskLine = maskBytes + row * maskStride
            for column in area.left..<area.right where maskLine[column] != 0 { line[column &* step] = value }
        } else if step == 1 {
            (line + area.left).update(repeating: value, count: area.width)
        } else {
            for column in area.left..<area.right { line[column &* step] = value }
        }
    }
}

/// Replaces each `cellSize` by `cellSize` cell of `region` (cells start at the region's corner;
/// the last ones are cut by its edge) with the cell's rounded mean, written where the mask is
/// set. The mean is taken over the whole cell, masked or not, so nothing finer than a cell
/// survives in the masked samples.
public func pixelateMasked(_ plane: SamplePlane, region: PixelRectangle, cellSize: Int,
                           mask: UnsafeRawPointer?, maskStride: Int) {
    let area = region.clamped(width: plane.width, height: plane.height)
    guard !area.isEmpty, cellSize > 0 else { return }
    let base = plane.base.assumingMemoryBound(to: UInt8.self)
    let step = plane.step, stride = plane.stride
    let maskBytes = mask?.assumingMemoryBound(to: UInt8.self)
    var cellTop = area.top
    while cellTop < area.bottom {
        let cellBottom = min(cellTop + cellSize, area.bottom)
        var cellLeft = area.left
        while cellLeft < area.right {
            let cellRight = min(cellLeft + cellSize, area.right)
            var sum = 0
            for row in cellTop..<cellBottom {
                let line = base + row * stride
                for column in cellLeft..<cellRight { sum &+= Int(line[column &* step]) }
            }
            let count = (cellBottom - cellTop) * (cellRight - cellLeft)
            let mean = UInt8(truncatingIfNeeded: (sum + count / 2) / count)
            for row in cellTop..<cellBottom {
                let line = base + row * stride
                if let maskBytes {
                    let maskLine = maskBytes + row * maskStride
                    for column in cellLeft..<cellRight where maskLine[column] != 0 { line[column &* step] = mean }
                } else {
                    for column in cellLeft..<cellRight { line[column &* step] = mean }
                }
            }
            cellLeft = cellRight
        }
        cellTop = cellBottom
    }
}

/// Bytes of scratch `pixelateSmoothedMasked` needs for a region of this size and cell.
public func smoothedPixelateScratchCount(width: Int, height: Int, cellSize: Int) -> Int {
    let cell = max(cellSize, 1)
    return 2 * ((width + cell - 1) / cell) * ((height + cell - 1) / cell) * MemoryLayout<Int>.stride + 64
}

/// Grey levels within which `pixelateSmoothedMasked` treats neighbouring cells as the same
/// surface.
public let smoothedPixelateTolerance = 2

/// Pixelates like `pixelateMasked` (the same cells, each cell's mean taken over the whole cell,
/// one flat value per cell), but a cell's value is the mean of the cell means in its 3x3
/// neighbourhood of cells (inside the region) that lie within `tolerance` grey levels of its
/// own, rounded once. Cells that differ by more (a face's features, an edge) keep their own
/// mean; cells of a plain surface, whose means differ only by noise, take their neighbourhood's.
///
/// Why: flat cells hold their mean rounded to a whole level, so on a plain, slightly noisy wall
/// means a fraction of a level apart became a random pattern of cells one level apart. After
/// the histogram equalisation face detectors apply (the wall dominates the histogram), one level
/// becomes tens, and OpenCV's cascades found "faces" in that pattern (tools/audit-redaction;
/// docs/AUDIT.md). Averaging nearly equal neighbours before the one rounding evens it out.
///
/// Why this is not weaker than pixelation: every cell is still one flat value, made only from
/// cell means (its own and its neighbours'), never from a sample finer than a cell, and it lies
/// within `tolerance` of the cell's own mean; the cells (so the number across a face) are those
/// of `pixelateMasked`.
///
/// `scratch` holds `smoothedPixelateScratchCount(width:height:cellSize:)` bytes for the
/// region's size.
public func pixelateSmoothedMasked(_ plane: SamplePlane, region: PixelRectangle, cellSize: Int,
                                   tolerance: Int = smoothedPixelateTolerance,
                                   mask: UnsafeRawPointer?, maskStride: Int, scratch: UnsafeMutableRawPointer) {
    let area = region.clamped(width: plane.width, height: plane.height)
    guard !area.isEmpty, cellSize > 0 else { return }
    let base = plane.base.assumingMemoryBound(to: UInt8.self)
    let step = plane.step, stride = plane.stride
    let maskBytes = mask?.assumingMemoryBound(to: UInt8.self)
    let columns = (area.width + cellSize - 1) / cellSize, rows = (area.height + cellSize - 1) / cellSize
    let alignedScratch = (Int(bitPattern: scratch) + 7) & ~7
    // The mean of every cell in 1/256 of a level, then the value each cell is written with.
    // Band by band: a band of cells is written once the band below it has its means, so its
    // samples are still in cache from the summing.
    let means = UnsafeMutablePointer<Int>(bitPattern: alignedScratch)!
    let values = means + columns * rows
    let limit = max(tolerance, 0) * 256
    for band in 0...rows {
        if band < rows {
            let top = area.top + band * cellSize, bottom = min(top + cellSize, area.bottom)
            for cellColumn in 0..<columns {
                let left = area.left + cellColumn * cellSize, right = min(left + cellSize, area.right)
                var sum = 0
                for row in top..<bottom {
                    let line = base + row * stride
                    for column in left..<right { sum &+= Int(line[column &* step]) }
                }
                let count = (bottom - top) * (right - left)
                means[band * columns + cellColumn] = smoothedCellMean(sum: sum, count: count)
            }
        }
        guard band > 0 else { continue }
        let cellRow = band - 1
        for cellColumn in 0..<columns {
            values[cellRow * columns + cellColumn] = smoothedCellValue(UnsafePointer(means), columns: columns, rows: rows,
                                                                       row: cellRow, column: cellColumn, limit: limit)
        }
        let top = area.top + cellRow * cellSize, bottom = min(top + cellSize, area.bottom)
        for cellColumn in 0..<columns {
            let left = area.left + cellColumn * cellSize, right = min(left + cellSize, area.right)
            let value = UInt8(truncatingIfNeeded: values[cellRow * columns + cellColumn])
            for row in top..<bottom {
                let line = base + row * stride
                if let maskBytes {
                    let maskLine = maskBytes + row * maskStride
                    for column in left..<right where maskLine[column] != 0 { line[column &* step] = value }
                } else {
                    for column in left..<right { line[column &* step] = value }
                }
            }
        }
    }
}

/// A cell's mean in 1/256 of a level, rounded, from the sum and number of its samples: what
/// `pixelateSmoothedMasked` evens out (and the coefficient path's level matching, from block
/// sums, so that both paths compute the same).
@inlinable
public func smoothedCellMean(sum: Int, count: Int) -> Int { (sum &* 256 &+ count / 2) / max(count, 1) }

/// A cell's evened-out level (0...255): the rounded mean of the means (`smoothedCellMean`) in
/// its 3x3 neighbourhood that lie within `limit` (1/256 levels) of its own.
@inlinable
public func smoothedCellValue(_ means: UnsafePointer<Int>, columns: Int, rows: Int, row: Int, column: Int, limit: Int) -> Int {
    let (sum, count) = nearlyEqualNeighbourSum(means, columns: columns, rows: rows, row: row, column: column, limit: limit)
    // count >= 1: the cell itself is always within the tolerance.
    return min(max((sum &+ count &* 128) / (count &* 256), 0), 255)
}

/// The sum and number of the cell means, in the 3x3 neighbourhood of the cell at `row`,
/// `column` of a `columns` x `rows` grid (the cell included), that lie within `limit` of the
/// cell's own mean: how `pixelateSmoothedMasked` evens out a cell, and how Codec's
/// `.pixelateSmoothed` does the same with DC coefficients. `count` is at least 1.
@inlinable
public func nearlyEqualNeighbourSum(_ means: UnsafePointer<Int>, columns: Int, rows: Int, row: Int, column: Int,
                                    limit: Int) -> (sum: Int, count: Int) {
    let own = means[row * columns + column]
    var sum = 0, count = 0
    for neighbourRow in max(row - 1, 0)...min(row + 1, rows - 1) {
        for neighbourColumn in max(column - 1, 0)...min(column + 1, columns - 1) {
            let mean = means[neighbourRow * columns + neighbourColumn]
            if abs(mean &- own) <= limit {
                sum &+= mean
                count &+= 1
            }
        }
    }
    return (sum, count)
}

/// Bytes of scratch `blurMasked` needs for a region of this size.
public func blurScratchCount(width: Int, height: Int) -> Int { 2 * width * height + 8 * width + 64 }

/// Box passes per direction: three box filters in a row approximate a Gaussian (central limit)
/// with a support of `6 * radius + 1`.
public let blurPassCount = 3

/// Blurs `region` with `blurPassCount` horizontal then vertical box passes of `radius` (edges
/// replicated, and only samples inside the region read, so nothing outside it is needed or
/// touched), quantises the result to `quantisationStep` levels, and writes it where the mask is
/// set.
///
/// The region is copied into scratch first and every pass reads the previous pass's output, so
/// the result depends only on the input, never on the order samples were written.
///
/// Why this is not invertible: a box filter's frequency response has exact zeros (at multiples
/// of 1 / (2 * radius + 1) cycles per sample) and three passes cube its small side lobes, so the
/// detail finer than about a radius is either erased outright or left at amplitudes of a few
/// hundredths of a grey level; quantising to steps of `quantisationStep` then rounds those
/// residues away, leaving nothing for a deconvolution to recover.
public func blurMasked(_ plane: SamplePlane, region: PixelRectangle, radius: Int, quantisationStep: Int,
                       mask: UnsafeRawPointer?, maskStride: Int, scratch: UnsafeMutableRawPointer) {
    let area = region.clamped(width: plane.width, height: plane.height)
    guard !area.isEmpty, radius > 0 else { return }
    let width = area.width, height = area.height
    let base = plane.base.assumingMemoryBound(to: UInt8.self)
    let step = plane.step, stride = plane.stride
    let current = scratch.assumingMemoryBound(to: UInt8.self)
    let other = current + width * height
    // Column sums for the vertical pass, aligned after the two sample buffers.
    let sumsAddress = (Int(bitPattern: other + width * height) + 7) & ~7
    let columnSums = UnsafeMutablePointer<Int>(bitPattern: sumsAddress)!
    for row in 0..<height {
        let line = base + (area.top + row) * stride
        for column in 0..<width { current[row * width + column] = line[(area.left + column) &* step] }
    }
    precondition(radius < 1024, "blur radius \(radius) too large")
    // Division by the window size as a multiply and shift, exact for every possible sum
    // (Granlund and Montgomery: with m = ceil(2^32 / d), the error m * d - 2^32 < d <= 2^11, and
    // sums stay under 2^19, so the product error stays below one quotient step).
    let divisor = 2 * radius + 1, half = divisor / 2
    let reciprocal = ((1 << 32) + divisor - 1) / divisor
    var source = current, destination = other
    for _ in 0..<blurPassCount {
        for row in 0..<height {
            let input = source + row * width, output = destination + row * width
            var sum = 0
            for offset in -radius...radius { sum &+= Int(input[min(max(offset, 0), width - 1)]) }
            for column in 0..<width {
                output[column] = UInt8(truncatingIfNeeded: ((sum &+ half) &* reciprocal) &>> 32)
                sum &+= Int(input[min(column + radius + 1, width - 1)]) &- Int(input[max(column - radius, 0)])
            }
        }
        swap(&source, &destination)
    }
    for _ in 0..<blurPassCount {
        for column in 0..<width { columnSums[column] = 0 }
        for offset in -radius...radius {
            let input = source + min(max(offset, 0), height - 1) * width
            for column in 0..<width { columnSums[column] &+= Int(input[column]) }
        }
        for row in 0..<height {
            let output = destination + row * width
            let entering = source + min(row + radius + 1, height - 1) * width
            let leaving = source + max(row - radius, 0) * width
            for column in 0..<width {
                output[column] = UInt8(truncatingIfNeeded: ((columnSums[column] &+ half) &* reciprocal) &>> 32)
                columnSums[column] &+= Int(entering[column]) &- Int(leaving[column])
            }
        }
        swap(&source, &destination)
    }
    let levelStep = max(quantisationStep, 1)
    let maskBytes = mask?.assumingMemoryBound(to: UInt8.self)
    for row in 0..<height {
        let line = base + (area.top + row) * stride
        let blurred = source + row * width
        for column in 0..<width {
            if let maskBytes, maskBytes[(area.top + row) * maskStride + area.left + column] == 0 { continue }
            let level = Int(blurred[column]) / levelStep * levelStep + levelStep / 2
            line[(area.left + column) &* step] = UInt8(min(level, 255))
        }
    }
}

extension Int {
    @inline(__always)
    fileprivate func clamped(_ lowest: Int, _ highest: Int) -> Int { Swift.min(Swift.max(self, lowest), highest) }
}
