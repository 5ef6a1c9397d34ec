// Smoothed pixelation (`pixelateSmoothedMasked`, what the Redactor's pixelate writes in luma):
// cells of a plain, noisy surface are evened out instead of becoming a pattern of cells one level
// apart (which OpenCV's cascades read as faces after histogram equalisation, docs/AUDIT.md);
// cells that differ by more than the tolerance keep their own mean; every cell stays one flat
// value within the tolerance of its own mean; nothing outside the mask is written.

import Analysis
import Frames
import Redaction
import Testing

/// A `width` x `height` plane of cells of `cell` samples whose means are given by `mean(row, column)`
/// (in grey levels, possibly fractional): each cell holds the two levels around its mean in the
/// proportion that gives exactly that mean (to 1/cell^2), scattered by a fixed generator.
private func cellPlane(width: Int, height: Int, cell: Int, mean: (Int, Int) -> Double) -> [UInt8] {
    var samples = [UInt8](repeating: 0, count: width * height)
    var generator = Generator(state: 11)
    for cellRow in 0..<(height / cell) {
        for cellColumn in 0..<(width / cell) {
            let value = mean(cellRow, cellColumn)
            let low = value.rounded(.down)
            let highCount = Int(((value - low) * Double(cell * cell)).rounded())
            var levels = [UInt8](repeating: UInt8(low), count: cell * cell)
            for index in 0..<highCount { levels[index] = UInt8(low + 1) }
            // Shuffle so the cell has no structure of its own.
            for index in stride(from: levels.count - 1, to: 0, by: -1) {
                levels.swapAt(index, Int(generator.next() % UInt64(index + 1)))
            }
            for row in 0..<cell {
                for column in 0..<cell {
                    samples[(cellRow * cell + row) * width + cellColumn * cell + column] = levels[row * cell + column]
                }
            }
        }
    }
    return samples
}

/// Runs a kernel on a copy of `samples` and returns the result.
private func pixelated(_ samples: [UInt8], width: Int, height: Int, cell: Int, smoothed: Bool,
                       region: PixelRectangle? = nil, mask: [UInt8]? = nil) -> [UInt8] {
    var output = samples
    let area = region ?? PixelRectangle(left: 0, top: 0, right: width, bottom: height)
    var scratch = [UInt8](repeating: 0, count: smoothedPixelateScratchCount(width: area.width, height: area.height, cellSize: cell))
    output.withUnsafeMutableBytes { bytes in
        let plane = SamplePlane(base: bytes.baseAddress!, width: width, height: height, stride: width)
        let run = { (maskBase: UnsafeRawPointer?) in
            if smoothed {
                scratch.withUnsafeMutableBytes { scratchBytes in
                    pixelateSmoothedMasked(plane, region: area, cellSize: cell, mask: maskBase, maskStride: width,
                                           scratch: scratchBytes.baseAddress!)
                }
            } else {
                pixelateMasked(plane, region: area, cellSize: cell, mask: maskBase, maskStride: width)
            }
        }
        if let mask { mask.withUnsafeBytes { run($0.baseAddress!) } } else { run(nil) }
    }
    return output
}

/// Per cell of the plane, the set of values its samples hold.
private func cellValues(_ samples: [UInt8], width: Int, height: Int, cell: Int) -> [[Set<UInt8>]] {
    (0..<(height / cell)).map { cellRow in
        (0..<(width / cell)).map { cellColumn in
            var values = Set<UInt8>()
            for row in 0..<cell {
                for column in 0..<cell { values.insert(samples[(cellRow * cell + row) * width + cellColumn * cell + column]) }
            }
            return values
        }
    }
}

/// Pairs of side-by-side cells whose (flat) values differ.
private func cellEdges(_ values: [[Set<UInt8>]]) -> Int {
    var edges = 0
    for row in values.indices {
        for column in values[row].indices {
            if column + 1 < values[row].count, values[row][column] != values[row][column + 1] { edges += 1 }
            if row + 1 < values.count, values[row][column] != values[row + 1][column] { edges += 1 }
        }
    }
    return edges
}

@Suite("Smoothed pixelation")
struct SmoothedPixelationTests {
    @Test("a plain wall whose cell means differ by a fraction of a level comes out even, where flat cells make a pattern")
    func plainWallIsEven() {
        // 16-sample cells with means 112.3 and 112.6 in a checkerboard: flat pixelation rounds
        // them to 112 and 113, an edge between every two cells.
        let width = 160, height = 128, cell = 16
        let wall = cellPlane(width: width, height: height, cell: cell) { row, column in (row + column) % 2 == 0 ? 112.3 : 112.6 }
        let flat = cellValues(pixelated(wall, width: width, height: height, cell: cell, smoothed: false), width: width, height: height, cell: cell)
        let smooth = cellValues(pixelated(wall, width: width, height: height, cell: cell, smoothed: true), width: width, height: height, cell: cell)
        let flatEdges = cellEdges(flat), smoothEdges = cellEdges(smooth)
        print("plain wall: \(flatEdges) edges between flat cells, \(smoothEdges) between smoothed cells")
        #expect(flatEdges == 2 * 10 * 8 - 10 - 8, "flat cells: every neighbour differs")
        // Every cell away from the region's edge averages nine cells (four or five of each mean):
        // 112.43 or 112.47, both 112.
        for row in 1..<7 {
            for column in 1..<9 { #expect(smooth[row][column] == [112], "cell \(row),\(column): \(smooth[row][column])") }
        }
        #expect(smoothEdges * 4 <= flatEdges, "smoothed: \(smoothEdges) edges, flat: \(flatEdges)")
    }

    @Test("cells that differ by more than the tolerance keep exactly their own mean")
    func contrastIsKept() {
        // A face-like layout of strong contrasts, each cell's mean at least 3 levels from every
        // neighbour's: smoothed and flat pixelation must agree sample for sample.
        let width = 96, height = 96, cell = 16
        let levels: [Double] = [40, 90, 140, 190, 60, 110, 160, 210, 80]
        let picture = cellPlane(width: width, height: height, cell: cell) { row, column in levels[(row * 5 + column * 7) % levels.count] + 0.4 }
        let flat = pixelated(picture, width: width, height: height, cell: cell, smoothed: false)
        let smooth = pixelated(picture, width: width, height: height, cell: cell, smoothed: true)
        #expect(flat != picture)
        #expect(smooth == flat)
    }

    @Test("on real footage every masked cell is one value within the tolerance of its flat value, and unmasked samples are untouched")
    func boundedAndMasked() throws {
        let jpeg = try CompressedFixtures.firstJPEG("vtest_640x480.mjpeg")
        let luma = planeSamples(try CompressedFixtures.decode(jpeg))[0]
        let width = 640, height = 480, cell = 13
        // An irregular mask (a disc) inside a region that starts off the cell grid of the frame.
        let region = PixelRectangle(left: 101, top: 57, right: 433, bottom: 391)
        var mask = [UInt8](repeating: 0, count: width * height)
        for row in region.top..<region.bottom {
            for column in region.left..<region.right {
                let x = Double(column - 267), y = Double(row - 224)
                if x * x + y * y < 150 * 150 { mask[row * width + column] = 255 }
            }
        }
        let flat = pixelated(luma, width: width, height: height, cell: cell, smoothed: false, region: region, mask: mask)
        let smooth = pixelated(luma, width: width, height: height, cell: cell, smoothed: true, region: region, mask: mask)
        var worst = 0, changedCells = 0, outsideChanged = 0
        var cellSets: [Int: Set<UInt8>] = [:]
        for row in 0..<height {
            for column in 0..<width {
                let index = row * width + column
                if mask[index] == 0 {
                    if smooth[index] != luma[index] { outsideChanged += 1 }
                    continue
                }
                worst = max(worst, abs(Int(smooth[index]) - Int(flat[index])))
                let key = ((row - region.top) / cell) * 1000 + (column - region.left) / cell
                cellSets[key, default: []].insert(smooth[index])
            }
        }
        for (_, values) in cellSets where values.count != 1 { changedCells += 1 }
        #expect(outsideChanged == 0, "\(outsideChanged) unmasked samples written")
        #expect(changedCells == 0, "\(changedCells) cells hold more than one value")
        // Own mean rounded (flat) vs a mean of means within the tolerance, rounded: at most
        // tolerance + 1 apart.
        #expect(worst <= smoothedPixelateTolerance + 1, "a cell moved \(worst) levels from its own mean")
        #expect(smooth != flat, "real footage has nearly equal neighbouring cells to even out")
    }

    @Test("the Redactor's pixelate writes smoothed luma cells")
    func redactorUsesIt() throws {
        // A plain wall (cell means a fraction of a level apart) under a box: with 6 cells across
        // a 96-pixel box the cell is 16, as in the first test.
        #expect(Redactor.smoothPixelation)
        let width = 160, height = 128
        let wall = cellPlane(width: width, height: height, cell: 16) { row, column in (row + column) % 2 == 0 ? 112.3 : 112.6 }
        let layout = FrameLayout(format: .gray8, width: width, height: height)
        let pool = FramePool(count: 1, layout: layout)
        guard let frame = pool.makeFrame(layout: layout, sequence: 1, captureTime: .now) else {
            Issue.record("no frame from a fresh pool")
            return
        }
        let bytes = frame.planeBytes(0), stride = frame.plane(0).stride
        for row in 0..<height {
            for column in 0..<width { bytes[row * stride + column] = wall[row * width + column] }
        }
        let box = PixelRectangle(left: 32, top: 16, right: 128, bottom: 112)
        let redactor = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0), method: .pixelate))
        let redacted = redactor.redact(frame, analysis: RedactionInput(unverified: [DetectionBox(x: 32, y: 16, width: 96, height: 96)]))
        let output = planeSamples(redacted)[0]
        // Luma is then level-matched (LevelMatchingTests): the box gets back the wall's own 112s
        // and 113s in the order of the cell values. Evened out, every cell is 112, a tie, so the
        // levels follow the tiles' order (row by row) and rise once: a ramp, not a pattern.
        // Flat cells would be 112 and 113 alternately, and the 113s would come back where the
        // 112.6 cells are.
        #expect(Redactor.matchLevels)
        #expect(pixelated(wall, width: width, height: height, cell: 16, smoothed: true, region: box)[16 * width + 32] == 112)
        let levels = tileLevels(output, width: width, box: box)
        #expect(Set(levels) == [112, 113], "levels in the box: \(Set(levels).sorted())")
        #expect(levels == levels.sorted(), "levels do not rise tile by tile: \(levels)")
    }
}

/// The level of each 8x8 tile of `box` (on the plane's grid), tiles row by row; every tile must
/// be flat.
func tileLevels(_ samples: [UInt8], width: Int, box: PixelRectangle) -> [UInt8] {
    var levels: [UInt8] = []
    let tile = levelMatchingTile
    for top in stride(from: box.top, to: box.bottom, by: tile) {
        for left in stride(from: box.left, to: box.right, by: tile) {
            var values = Set<UInt8>()
            for row in top..<min(top + tile, box.bottom) {
                for column in left..<min(left + tile, box.right) { values.insert(samples[row * width + column]) }
            }
            #expect(values.count == 1, "tile at \(left), \(top) holds \(values.sorted())")
            levels.append(values.min() ?? 0)
        }
    }
    return levels
}
