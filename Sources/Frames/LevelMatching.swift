// Level matching: after pixelation, the masked luma samples are given back the grey levels they
// held before it, in the order of their pixelated values, so that the frame's histogram is what
// it was (histogram specification, with the masked area's own histogram as the target).
//
// Why: face detectors equalise the whole frame's histogram before they look (OpenCV's audit does,
// docs/AUDIT.md). Pixelation pulls a face's dark and bright samples to its cell means, which
// moves the histogram, so every unmasked sample of the frame is equalised to a different level
// than in the input. On the face pictures that alone made OpenCV find "faces" on untouched
// background beside the mask (lena_soft's wall, the hair above three_faces' mosaic): with the
// input's equalisation table applied to the same output, they were gone. With the histogram
// kept, a window wholly outside the mask is equalised exactly as in the input.
//
// Why this is not weaker than pixelation: a masked sample's new level depends only on
//   - the masked area's histogram (how many samples held each level, not where),
//   - its current (pixelated) value, which is made of cell means only, and
//   - its position (a fixed order: 8x8 tiles of the plane's grid row by row, samples row by row
//     within a tile),
// never on its own original level or on any sample finer than a cell. Two inputs whose cells
// have the same means and whose masked areas have the same histogram give the same output
// (RedactionTests checks this by shuffling samples within cells). Samples of one cell value
// take consecutive levels of the target in that order, so a cell shows a faint top-to-bottom
// ramp where its samples' share of the histogram spans several levels.

/// Adds the levels of the samples of `region` (cut to the plane) where `mask` is set to
/// `histogram` (256 counts).
public func addMaskedLevels(_ plane: SamplePlane, region: PixelRectangle, mask: UnsafeRawPointer, maskStride: Int,
                            into histogram: UnsafeMutablePointer<Int>) {
    let area = region.clamped(width: plane.width, height: plane.height)
    guard !area.isEmpty else { return }
    let base = plane.base.assumingMemoryBound(to: UInt8.self)
    let maskBytes = mask.assumingMemoryBound(to: UInt8.self)
    countLevels(into: histogram) { counts in
        for row in area.top..<area.bottom {
            let line = base + row * plane.stride, maskLine = maskBytes + row * maskStride
            var column = area.left
            while let run = nextMaskedRun(maskLine, from: &column, to: area.right) {
                countRun(line, run, step: plane.step, counts)
            }
        }
    }
}

/// Adds the levels of every sample of `region` (cut to the plane) to `histogram` (256 counts).
public func addLevels(_ plane: SamplePlane, region: PixelRectangle, into histogram: UnsafeMutablePointer<Int>) {
    let area = region.clamped(width: plane.width, height: plane.height)
    guard !area.isEmpty else { return }
    let base = plane.base.assumingMemoryBound(to: UInt8.self)
    countLevels(into: histogram) { counts in
        for row in area.top..<area.bottom { countRun(base + row * plane.stride, area.left..<area.right, step: plane.step, counts) }
    }
}

/// Runs `count` with four partial histograms (4 x 256, zeroed) and adds them to `histogram`:
/// neighbouring samples often hold the same level, and incrementing one counter back to back
/// waits on its own store every time.
@inline(__always)
private func countLevels(into histogram: UnsafeMutablePointer<Int>, _ count: (UnsafeMutablePointer<Int>) -> Void) {
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 4 * 256) { partial in
        let counts = partial.baseAddress!
        counts.initialize(repeating: 0, count: 4 * 256)
        count(counts)
        for level in 0..<256 {
            histogram[level] &+= counts[level] &+ counts[256 + level] &+ counts[512 + level] &+ counts[768 + level]
        }
    }
}

/// Counts the samples `line[run]` (every `step` bytes) into `countLevels`'s partial histograms, in turn.
@inline(__always)
private func countRun(_ line: UnsafePointer<UInt8>, _ run: Range<Int>, step: Int, _ counts: UnsafeMutablePointer<Int>) {
    var index = run.lowerBound
    while index &+ 4 <= run.upperBound {
        counts[Int(line[index &* step])] &+= 1
        counts[256 &+ Int(line[(index &+ 1) &* step])] &+= 1
        counts[512 &+ Int(line[(index &+ 2) &* step])] &+= 1
        counts[768 &+ Int(line[(index &+ 3) &* step])] &+= 1
        index &+= 4
    }
    while index < run.upperBound {
        counts[Int(line[index &* step])] &+= 1
        index &+= 1
    }
}

/// The sum of the samples of `region` (cut to the plane).
public func sumOfLevels(_ plane: SamplePlane, _ region: PixelRectangle) -> Int {
    let area = region.clamped(width: plane.width, height: plane.height)
    guard !area.isEmpty else { return 0 }
    let base = plane.base.assumingMemoryBound(to: UInt8.self)
    var total = 0
    for row in area.top..<area.bottom {
        let line = base + row * plane.stride
        for column in area.left..<area.right { total &+= Int(line[column &* plane.step]) }
    }
    return total
}

/// The next run of set bytes in `mask[column..<end]`, skipping clear ones eight at a time;
/// `column` moves past it. Nil when none is left.
@inline(__always)
func nextMaskedRun(_ mask: UnsafePointer<UInt8>, from column: inout Int, to end: Int) -> Range<Int>? {
    var index = column
    while index < end {
        if index &+ 8 <= end, UnsafeRawPointer(mask + index).loadUnaligned(as: UInt64.self) == 0 {
            index &+= 8
        } else if mask[index] == 0 {
            index &+= 1
        } else {
            break
        }
    }
    guard index < end else {
        column = end
        return nil
    }
    let start = index
    while index &+ 8 <= end, UnsafeRawPointer(mask + index).loadUnaligned(as: UInt64.self) == UInt64.max { index &+= 8 }
    while index < end && mask[index] != 0 { index &+= 1 }
    column = index
    return start..<index
}

/// Bytes of scratch `matchMaskedLevels` needs for a region of this size.
public func levelMatchingScratchCount(width: Int, height: Int) -> Int {
    let tiles = (max(width, 0) / levelMatchingTile + 2) * (max(height, 0) / levelMatchingTile + 2)
    return (4 * 256 + levelMatchingTile * levelMatchingTile) * MemoryLayout<Int>.stride + tiles + 64
}

/// Side of the tiles `matchMaskedLevels` walks: the JPEG block, so that the coefficient-domain
/// path (Codec's `setLumaBlocks`, one level per 8x8 luma block) gives the same result.
public let levelMatchingTile = 8

/// Rewrites the samples of `region` where `mask` is set so that together they hold the levels
/// counted in `target` (256 counts: their histogram before masking, from `addMaskedLevels`),
/// in the order of their current values: samples of a lower current value get levels no
/// higher than those of a higher one.
///
/// Units: the samples of one current value within one `levelMatchingTile`-square tile of the
/// plane's grid (a tile inside one cell is one unit). Units of equal value are ranked by
/// position, tiles row by row. Each unit gets one level: the target's level at the middle of
/// its share of ranks, so the histogram is kept to within half a unit (32 samples) per level.
/// See the file's comment for why, and why it keeps nothing finer than the cells the current
/// values come from.
///
/// When `target` counts a different number of samples than the mask covers (a caller's
/// mistake), ranks are scaled onto it, so the result still follows its shape.
/// `scratch` holds `levelMatchingScratchCount(width:height:)` bytes for the region's size.
public func matchMaskedLevels(_ plane: SamplePlane, region: PixelRectangle, mask: UnsafeRawPointer, maskStride: Int,
                              target: UnsafePointer<Int>, scratch: UnsafeMutableRawPointer) {
    let area = region.clamped(width: plane.width, height: plane.height)
    guard !area.isEmpty else { return }
    let aligned = UnsafeMutablePointer<Int>(bitPattern: (Int(bitPattern: scratch) + 7) & ~7)!
    // cursor[v]: the first rank not yet taken by samples of current value v; cumulative[u]:
    // target samples at levels up to u; inTile[v] and assigned[v]: this tile's samples of value
    // v and the level they get; values: the distinct values met in this tile.
    let cursor = aligned, cumulative = aligned + 256, inTile = aligned + 512, assigned = aligned + 768
    let values = aligned + 1024
    cursor.update(repeating: 0, count: 256)
    inTile.update(repeating: 0, count: 256)
    let maskBytes = mask.assumingMemoryBound(to: UInt8.self)
    let base = plane.base.assumingMemoryBound(to: UInt8.self)
    let step = plane.step, stride = plane.stride, tile = levelMatchingTile
    // Which tiles hold a masked sample, marked while counting the current values, so that the
    // tile passes skip the rest of the bounding rectangle.
    let originLeft = area.left - area.left % tile, originTop = area.top - area.top % tile
    let tilesAcross = (area.right - originLeft + tile - 1) / tile, tilesDown = (area.bottom - originTop + tile - 1) / tile
    let occupied = UnsafeMutableRawPointer(values + tile * tile).assumingMemoryBound(to: UInt8.self)
    occupied.update(repeating: 0, count: tilesAcross * tilesDown)
    for row in area.top..<area.bottom {
        let line = base + row * stride, maskLine = maskBytes + row * maskStride
        let marks = occupied + ((row - originTop) / tile) * tilesAcross
        var column = area.left
        while let run = nextMaskedRun(maskLine, from: &column, to: area.right) {
            for index in ((run.lowerBound - originLeft) / tile)...((run.upperBound - 1 - originLeft) / tile) { marks[index] = 1 }
            forEachEqualRun(line, run, step: step) { value, length in cursor[value] &+= length }
        }
    }
    let (total, targetTotal) = prepareRanks(counts: cursor, target: target, cumulative: cumulative)
    guard total > 0, targetTotal > 0 else { return }
    var tileTop = originTop
    while tileTop < area.bottom {
        let top = max(tileTop, area.top), bottom = min(tileTop + tile, area.bottom)
        let marks = occupied + ((tileTop - originTop) / tile) * tilesAcross
        var tileLeft = originLeft
        while tileLeft < area.right {
            guard marks[(tileLeft - originLeft) / tile] != 0 else {
                tileLeft &+= tile
                continue
            }
            let left = max(tileLeft, area.left), right = min(tileLeft + tile, area.right)
            var distinct = 0
            for row in top..<bottom {
                let line = base + row * stride, maskLine = maskBytes + row * maskStride
                var column = left
                while let run = nextMaskedRun(maskLine, from: &column, to: right) {
                    forEachEqualRun(line, run, step: step) { value, length in
                        if inTile[value] == 0 {
                            values[distinct] = value
                            distinct &+= 1
                        }
                        inTile[value] &+= length
                    }
                }
            }
            if distinct > 0 {
                for index in 0..<distinct {
                    let value = values[index], count = inTile[value]
                    let middle = (cursor[value] &+ count / 2) &* targetTotal / total
                    cursor[value] &+= count
                    assigned[value] = levelAt(rank: middle, cumulative: cumulative)
                }
                for row in top..<bottom {
                    let line = base + row * stride, maskLine = maskBytes + row * maskStride
                    var column = left
                    if distinct == 1 {
                        // One unit (a tile inside one cell): one level for every masked sample.
                        let level = UInt8(truncatingIfNeeded: assigned[values[0]])
                        while let run = nextMaskedRun(maskLine, from: &column, to: right) {
                            for index in run { line[index &* step] = level }
                        }
                    } else {
                        while let run = nextMaskedRun(maskLine, from: &column, to: right) {
                            for index in run { line[index &* step] = UInt8(truncatingIfNeeded: assigned[Int(line[index &* step])]) }
                        }
                    }
                }
                // The tile's values are rewritten, so `assigned` is read before any is cleared.
                for index in 0..<distinct { inTile[values[index]] = 0 }
            }
            tileLeft &+= tile
        }
        tileTop &+= tile
    }
}
/// Level matching's ranks: turns `counts` (samples per current value, 256) into each value's
/// first rank in place, and writes `target`'s cumulative counts into `cumulative` (256).
/// Returns both totals. Shared by `matchMaskedLevels` and the coefficient path's blocks.
public func prepareRanks(counts: UnsafeMutablePointer<Int>, target: UnsafePointer<Int>,
                         cumulative: UnsafeMutablePointer<Int>) -> (total: Int, targetTotal: Int) {
    var total = 0
    for value in 0..<256 {
        let count = counts[value]
        counts[value] = total
        total &+= count
    }
    var targetTotal = 0
    for value in 0..<256 {
        targetTotal &+= max(target[value], 0)
        cumulative[value] = targetTotal
    }
    return (total, targetTotal)
}

/// Calls `body` with each run of equal samples in `line[run]` (every `step` bytes): its value
/// and length. Pixelated samples come in runs as long as a cell, so counting a run at once
/// spares a store per sample.
@inline(__always)
private func forEachEqualRun(_ line: UnsafePointer<UInt8>, _ run: Range<Int>, step: Int, _ body: (Int, Int) -> Void) {
    var index = run.lowerBound
    while index < run.upperBound {
        let value = line[index &* step]
        let start = index
        index &+= 1
        while index < run.upperBound && line[index &* step] == value { index &+= 1 }
        body(Int(value), index &- start)
    }
}

/// The smallest level whose cumulative count (256 entries) passes `rank`.
@inlinable
public func levelAt(rank: Int, cumulative: UnsafePointer<Int>) -> Int {
    var low = 0, high = 255
    while low < high {
        let middle = (low + high) / 2
        if cumulative[middle] <= rank { low = middle + 1 } else { high = middle }
    }
    return low
}
