// The coefficient-domain path of the redaction stage: an MJPEG frame is redacted by editing its
// quantised DCT blocks (Codec's JPEGCoefficientEditor) instead of decoding, masking and
// re-encoding it. The mask comes from the same code as the pixel path (`buildMask`), reduced to
// whole MCUs, rounding outward: an MCU with any masked pixel is masked.
//
// Cells: pixelation works on whole blocks, so a region's cell is its pixel-path cell
// (`pixelateCellsAcross` = 6 cells across a box's longer side) rounded up to whole MCUs, at
// least one MCU (16x16 at 4:2:0). A box therefore never gets more than 6 cells across (a 64-pixel
// face gets 4 cells of 16, a 200-pixel one 5 of 48), and a small box gets coarser cells than the
// pixel path would give it: never finer. Blur has no DCT-domain form; `canRedactCompressed` says
// so, and a caller that sends a frame here anyway gets fill, which masks more.
//
// Level matching (Frames/LevelMatching.swift): luma is pixelated and level-matched with the pixel
// path's arithmetic on 8x8 blocks (block sums and the masked MCUs' histogram from this frame's
// luma decode, on this path's cell grid), and every masked luma block then takes its level as one
// DC (`setLumaBlocks`). Chroma is pixelated in the DCT domain as below.
//
// Luma cells are evened out with their nearly equal neighbours as in the pixel path
// (`Redactor.smoothPixelation`, Frames' `pixelateSmoothedMasked`): Codec's `.pixelateSmoothed`
// gives each luma cell the mean of the cell means within `smoothedPixelateTolerance` grey levels
// of its own in its 3x3 neighbourhood, as one DC; chroma cells hold their own mean.
public import Codec
public import Frames

extension Redactor {
    /// Whether this redactor's method can run in the coefficient domain (fill and pixelate can;
    /// blur cannot). When false, decode MJPEG frames and use `redact`.
    public var canRedactCompressed: Bool { configuration.method != .blur }

    /// The layout of the frames `redactCompressed` writes for `width` x `height` MJPEG of this
    /// subsampling: size an output `FramePool` with it (`FramePool(count:layout:)`), one buffer
    /// per redacted frame that may be in flight at once (sinks hold them until written).
    public static func compressedOutputLayout(width: Int, height: Int, subsampling: JPEGSubsampling) -> FrameLayout {
        FrameLayout(format: .mjpeg, width: width, height: height,
                    payloadCapacity: JPEGCoefficientEditor.maximumOutputSize(width: width, height: height, subsampling: subsampling))
    }

    /// Counters of the JPEG transcoder behind `redactCompressed`: images written
    /// (`decoded`) and JPEG failures by kind.
    public var compressedJPEGCounters: JPEGDecoderCounters { coefficientEditor?.counters ?? JPEGDecoderCounters() }

    /// The analysis copy of an MJPEG frame, decoded once for both paths: entropy-decodes `frame`,
    /// keeps its coefficients for the `redactCompressed` call that follows (same frame, same
    /// sequence, payload untouched in between), and writes its luma into `luma` (GRAY8 of the
    /// JPEG's size: what motion and the detectors read). Costs the coefficient read plus one luma
    /// transform, instead of a separate decode.
    ///
    /// On a throw the frame cannot be redacted: drop it or pass it to `redactCompressed` with
    /// `RedactionInput.failed` (which drops it again, counted). A frame prepared but never
    /// redacted is forgotten at the next one.
    public func prepareCompressed(_ frame: borrowing Frame, lumaInto luma: inout Frame) throws(JPEGError) {
        prepared = nil
        guard frame.format == .mjpeg else { throw .unsupportedFrameFormat(frame.format) }
        let payload = frame.payload
        try editor.read(payload, decodingLumaInto: &luma)
        prepared = PreparedRead(sequence: frame.sequence, payload: payload.baseAddress, count: payload.count)
    }

    /// Redacts an MJPEG frame in the DCT domain, without decoding it, and writes the result into
    /// a frame from `outputPool` (see `compressedOutputLayout`); the input frame's buffer goes
    /// back to its pool when this returns.
    ///
    /// `analysis` is what the analysis stages found on a decoded copy of this frame (same size).
    /// Masked MCUs are filled (DC 0, no AC: the pixel path's 128) or pixelated (cells of whole
    /// blocks holding their blocks' mean DC); every other block keeps its coefficients exactly,
    /// so it decodes to the same pixels as the input. Analysis failed: every block is filled.
    ///
    /// `luma` is this frame's luma as decoded (the analysis copy `prepareCompressed` wrote), for
    /// level matching (`Redactor.matchLevels`): pixelated luma is matched to the masked pixels'
    /// levels in it (it is only read). Without it, a pixelating redactor decodes the luma itself
    /// (a second read of the frame, with one luma transform).
    ///
    /// Fails closed: a JPEG error (corrupt or truncated input, output too small) or no free
    /// buffer in `outputPool` drops the frame (its buffer zeroed, `wholeFrameMasked`), counted
    /// in `counters.compressedDropped` (and the JPEG error in `compressedJPEGCounters`). A raw
    /// frame given here takes the pixel path (`redact`).
    public func redactCompressed(_ frame: consuming Frame, analysis: RedactionInput, outputPool: FramePool,
                                 luma: SamplePlane? = nil) -> RedactedFrame {
        guard frame.format == .mjpeg else { return redact(frame, analysis: analysis) }
        counters.frames &+= 1
        let editor = self.editor
        let geometry: JPEGBlockGeometry
        let payload = frame.payload
        // Level matching needs the masked pixels' levels: the caller's decode of this frame, or
        // one made here from the same entropy decode.
        let needsLuma = configuration.method == .pixelate && Self.matchLevels && !analysis.analysisFailed
        var decodedLuma = luma
        if needsLuma, luma == nil {
            prepared = nil
        }
        if let read = prepared, read.sequence == frame.sequence, read.payload == payload.baseAddress, read.count == payload.count,
           let held = editor.geometry {
            // `prepareCompressed` read this very frame: its coefficients are waiting.
            geometry = held
        } else {
            do {
                if needsLuma, luma == nil {
                    (geometry, decodedLuma) = try readDecodingOwnLuma(editor, payload)
                } else {
                    geometry = try editor.read(payload)
                }
            } catch {
                prepared = nil
                ageAndPersist(analysis)
                counters.compressedDropped &+= 1
                return dropCompressed(frame)
            }
        }
        prepared = nil
        // Payload capacity in whole 32-byte units, so that the layout's byteCount fits a buffer.
        let capacity = outputPool.bufferCapacity / FrameLayout.defaultAlignment * FrameLayout.defaultAlignment
        let layout = outputLayout(width: geometry.width, height: geometry.height, capacity: capacity)
        guard var output = outputPool.makeFrame(layout: layout, sequence: frame.sequence, captureTime: frame.captureTime) else {
            editor.abort()
            ageAndPersist(analysis)
            counters.compressedDropped &+= 1
            return dropCompressed(frame)
        }

        let fraction: Double
        if analysis.analysisFailed {
            ageAndPersist(analysis)
            editor.fillAll()
            fraction = 1
        } else {
            let masked = buildMask(width: geometry.width, height: geometry.height, analysis: analysis)
            fraction = editMasked(editor, geometry: geometry, masked: masked, luma: decodedLuma)
        }

        do {
            output.payloadSize = try editor.write(into: output.planeBytes(0))
        } catch {
            counters.compressedDropped &+= 1
            return dropCompressed(frame)
        }
        _ = consume frame
        counters.compressedFrames &+= 1
        if analysis.analysisFailed { counters.fullFrameMasks &+= 1 }
        counters.maskedFractionSum += fraction
        return RedactedFrame(frame: output, maskedFraction: fraction, wholeFrameMasked: analysis.analysisFailed)
    }

    /// Reads `payload` and decodes its luma into the redactor's own frame (`ownLuma`), made or
    /// grown to the JPEG's size: for level matching when the caller gave no decode.
    private func readDecodingOwnLuma(_ editor: JPEGCoefficientEditor,
                                     _ payload: UnsafeRawBufferPointer) throws(JPEGError) -> (JPEGBlockGeometry, SamplePlane) {
        var frame: Frame
        if let held = ownLuma.take() {
            frame = held
        } else {
            frame = try Self.makeLumaFrame(capacity: 640 * 480)
        }
        let geometry: JPEGBlockGeometry
        do {
            geometry = try editor.read(payload, decodingLumaInto: &frame)
        } catch .frameTooSmall(let needed, _) {
            frame = try Self.makeLumaFrame(capacity: needed)
            geometry = try editor.read(payload, decodingLumaInto: &frame)
        }
        let plane = SamplePlane(base: frame.planeBytes(0).baseAddress!, width: frame.width, height: frame.height,
                                stride: frame.plane(0).stride)
        ownLuma = consume frame
        return (geometry, plane)
    }

    private static func makeLumaFrame(capacity: Int) throws(JPEGError) -> Frame {
        let layout = FrameLayout(format: .gray8, width: 1, height: 1)
        guard let frame = FramePool(count: 1, bufferCapacity: max(capacity, layout.byteCount))
            .makeFrame(layout: layout, sequence: 0, captureTime: .now) else {
            throw .internalFailure("no buffer for the luma that level matching reads")
        }
        return frame
    }

    /// The transcoder, made on first use (one per redactor, so one per camera).
    private var editor: JPEGCoefficientEditor {
        if let existing = coefficientEditor { return existing }
        let editor = JPEGCoefficientEditor()
        coefficientEditor = editor
        return editor
    }

    /// Reduces the luma mask to MCUs, applies the method, and returns the fraction of the
    /// frame's pixels inside masked MCUs.
    private func editMasked(_ editor: JPEGCoefficientEditor, geometry: JPEGBlockGeometry, masked: PixelRectangle,
                            luma: SamplePlane?) -> Double {
        let width = geometry.width, height = geometry.height
        let columns = geometry.mcuColumns, rows = geometry.mcuRows
        let mcuWidth = geometry.mcuWidth, mcuHeight = geometry.mcuHeight
        guard !masked.isEmpty, columns > 0, rows > 0 else { return 0 }
        mcuMask.reserve(columns * rows)
        let mcus = mcuMask.base.assumingMemoryBound(to: UInt8.self)
        mcus.update(repeating: 0, count: columns * rows)
        let pixels = lumaMask.base.assumingMemoryBound(to: UInt8.self)

        var maskedPixels = 0
        for region in regions {
            let area = mcuArea(region.rectangle, geometry)
            for row in area.top..<area.bottom {
                let top = row * mcuHeight, bottom = min(top + mcuHeight, height)
                for column in area.left..<area.right where mcus[row * columns + column] == 0 {
                    let left = column * mcuWidth, right = min(left + mcuWidth, width)
                    if anyMasked(pixels, stride: width, left: left, right: right, top: top, bottom: bottom) {
                        mcus[row * columns + column] = 1
                        maskedPixels &+= (right - left) * (bottom - top)
                    }
                }
            }
        }

        switch configuration.method {
        case .pixelate:
            // Luma level-matched from the decode when there is one (then only chroma is pixelated
            // here); else pixelated here with the rest.
            // (Luma at full resolution, so that its blocks are 8x8 pixels, as in every common JPEG.)
            let luma0 = geometry.component(0)
            let matching = Self.matchLevels && luma.map { $0.width == width && $0.height == height } == true
                && luma0.horizontalSampling * 8 == mcuWidth && luma0.verticalSampling * 8 == mcuHeight
            for region in regions {
                // The region's pixel-path cell, rounded up to whole MCUs (at least one).
                let cell = (max(region.size, 1) + mcuWidth - 1) / mcuWidth * mcuWidth
                let edit: JPEGBlockEdit = Self.smoothPixelation
                    ? .pixelateSmoothed(cellSize: cell, tolerance: smoothedPixelateTolerance) : .pixelate(cellSize: cell)
                editor.apply(edit, region: mcuArea(region.rectangle, geometry), mcuMask: mcuMask.base, maskStride: columns,
                             firstComponent: matching ? 1 : 0)
            }
            if matching, let luma {
                matchLevels(editor, geometry: geometry, masked: masked, luma: luma)
            }
        case .fill, .blur:
            editor.apply(.fill, region: mcuArea(masked, geometry), mcuMask: mcuMask.base, maskStride: columns)
        }
        return width * height == 0 ? 0 : Double(maskedPixels) / Double(width * height)
    }

    /// Luma with level matching, computed as the pixel path computes it (pixelate with evened-out
    /// cells, then Frames' `matchMaskedLevels`) but on 8x8 luma blocks instead of samples: every
    /// masked block is whole (masks are whole MCUs) and every cell is whole blocks (cells of
    /// whole MCUs from the region's first MCU), so a block is one value after pixelation and
    /// one unit of matching, and the pixel path's sums, means, ranks and levels come out of
    /// block sums and pixel counts exactly. `luma` (this frame's decode) gives the masked
    /// pixels' histogram and the blocks' sums; it is only read. Each masked luma block then
    /// takes its level as one DC (`setLumaBlocks`). With boxes and cells on the MCU grid this
    /// is the pixel path's luma up to DC re-quantisation (CompressedRedactionTests).
    private func matchLevels(_ editor: JPEGCoefficientEditor, geometry: JPEGBlockGeometry, masked: PixelRectangle, luma: SamplePlane) {
        let width = geometry.width, height = geometry.height
        let columns = geometry.mcuColumns, mcuWidth = geometry.mcuWidth, mcuHeight = geometry.mcuHeight
        let mcus = mcuMask.base.assumingMemoryBound(to: UInt8.self)
        let area = mcuArea(masked, geometry)
        guard !area.isEmpty else { return }
        // Blocks of the frame's luma (the last ones cut by its edge): per block its current sum,
        // or -1 while not yet read from `luma`, and its level once masked (-1 before).
        let blocksAcross = (width + 7) / 8, blocksDown = (height + 7) / 8
        let blockCount = blocksAcross * blocksDown
        blockScratch.reserve(blockCount * (MemoryLayout<Int>.stride + MemoryLayout<Int16>.stride) + 64)
        let sums = blockScratch.base.assumingMemoryBound(to: Int.self)
        let levels = UnsafeMutableRawPointer(sums + blockCount).assumingMemoryBound(to: Int16.self)
        let pixelArea = pixelRectangle(area, geometry)
        let blockArea = PixelRectangle(left: pixelArea.left / 8, top: pixelArea.top / 8,
                                       right: (pixelArea.right + 7) / 8, bottom: (pixelArea.bottom + 7) / 8)
        for row in blockArea.top..<blockArea.bottom {
            (sums + row * blocksAcross + blockArea.left).update(repeating: -1, count: blockArea.width)
            (levels + row * blocksAcross + blockArea.left).update(repeating: -1, count: blockArea.width)
        }
        func pixels(_ column: Int, _ row: Int) -> Int { min(8, width - column * 8) * min(8, height - row * 8) }
        func isMasked(_ column: Int, _ row: Int) -> Bool { mcus[(row * 8 / mcuHeight) * columns + column * 8 / mcuWidth] != 0 }
        func sum(_ column: Int, _ row: Int) -> Int {
            let index = row * blocksAcross + column
            if sums[index] < 0 {
                sums[index] = sumOfLevels(luma, PixelRectangle(left: column * 8, top: row * 8,
                                                               right: min(column * 8 + 8, width), bottom: min(row * 8 + 8, height)))
            }
            return sums[index]
        }

        // The masked pixels' levels before the edit: what matching gives back.
        let histogram = levelScratch.base.assumingMemoryBound(to: Int.self)
        histogram.update(repeating: 0, count: 256)
        for row in area.top..<area.bottom {
            for column in area.left..<area.right where mcus[row * columns + column] != 0 {
                addLevels(luma, region: PixelRectangle(left: column * mcuWidth, top: row * mcuHeight,
                                                       right: min(column * mcuWidth + mcuWidth, width),
                                                       bottom: min(row * mcuHeight + mcuHeight, height)), into: histogram)
            }
        }

        // Pixelation, region by region as the pixel path goes (a later region's cells read what
        // an earlier one wrote): cell means from block sums, evened out, written to masked blocks.
        let limit = smoothedPixelateTolerance * 256
        for region in regions {
            let cellBlocks = (max(region.size, 1) + mcuWidth - 1) / mcuWidth * mcuWidth / 8
            let rectangle = pixelRectangle(mcuArea(region.rectangle, geometry), geometry)
            guard !rectangle.isEmpty, cellBlocks > 0 else { continue }
            let left = rectangle.left / 8, top = rectangle.top / 8
            let right = (rectangle.right + 7) / 8, bottom = (rectangle.bottom + 7) / 8
            let cellsAcross = (right - left + cellBlocks - 1) / cellBlocks, cellsDown = (bottom - top + cellBlocks - 1) / cellBlocks
            blurScratch.reserve(2 * cellsAcross * cellsDown * MemoryLayout<Int>.stride + 64)
            let means = blurScratch.base.assumingMemoryBound(to: Int.self), values = means + cellsAcross * cellsDown
            for cellRow in 0..<cellsDown {
                for cellColumn in 0..<cellsAcross {
                    var total = 0, count = 0
                    for row in (top + cellRow * cellBlocks)..<min(top + (cellRow + 1) * cellBlocks, bottom) {
                        for column in (left + cellColumn * cellBlocks)..<min(left + (cellColumn + 1) * cellBlocks, right) {
                            total &+= sum(column, row)
                            count &+= pixels(column, row)
                        }
                    }
                    means[cellRow * cellsAcross + cellColumn] = smoothedCellMean(sum: total, count: count)
                }
            }
            for cellRow in 0..<cellsDown {
                for cellColumn in 0..<cellsAcross {
                    values[cellRow * cellsAcross + cellColumn] = smoothedCellValue(UnsafePointer(means), columns: cellsAcross,
                                                                                   rows: cellsDown, row: cellRow, column: cellColumn,
                                                                                   limit: limit)
                }
            }
            for row in top..<bottom {
                for column in left..<right where isMasked(column, row) {
                    let value = values[((row - top) / cellBlocks) * cellsAcross + (column - left) / cellBlocks]
                    levels[row * blocksAcross + column] = Int16(value)
                    sums[row * blocksAcross + column] = value * pixels(column, row)
                }
            }
        }

        // Matching, as `matchMaskedLevels` ranks units: each masked block is one, blocks row by row.
        let scratch = UnsafeMutablePointer<Int>(bitPattern: (Int(bitPattern: levelScratch.base + 256 * MemoryLayout<Int>.stride) + 7) & ~7)!
        let cursor = scratch, cumulative = scratch + 256
        cursor.update(repeating: 0, count: 256)
        for row in blockArea.top..<blockArea.bottom {
            for column in blockArea.left..<blockArea.right where isMasked(column, row) {
                // A masked block no region reached cannot happen (the mask is made of the
                // regions); were it to, it is filled rather than left as it was.
                if levels[row * blocksAcross + column] < 0 { levels[row * blocksAcross + column] = Int16(Self.fillValue) }
                cursor[Int(levels[row * blocksAcross + column])] &+= pixels(column, row)
            }
        }
        let (total, targetTotal) = prepareRanks(counts: cursor, target: UnsafePointer(histogram), cumulative: cumulative)
        // (Both are positive whenever a block is masked; were one not, the blocks keep their
        // pixelated levels: luma is never left as it was, since `apply` skipped it.)
        if total > 0 && targetTotal > 0 {
            for row in blockArea.top..<blockArea.bottom {
                for column in blockArea.left..<blockArea.right where isMasked(column, row) {
                    let index = row * blocksAcross + column, value = Int(levels[index]), count = pixels(column, row)
                    let middle = (cursor[value] &+ count / 2) &* targetTotal / total
                    cursor[value] &+= count
                    levels[index] = Int16(levelAt(rank: middle, cumulative: cumulative))
                }
            }
        }
        editor.setLumaBlocks(levels: levels, blocksAcross: blocksAcross, region: area, mcuMask: mcuMask.base, maskStride: columns)
    }

    /// The pixels of a rectangle of MCUs, cut at the frame's edge.
    private func pixelRectangle(_ area: PixelRectangle, _ geometry: JPEGBlockGeometry) -> PixelRectangle {
        PixelRectangle(left: area.left * geometry.mcuWidth, top: area.top * geometry.mcuHeight,
                       right: area.right * geometry.mcuWidth, bottom: area.bottom * geometry.mcuHeight)
            .clamped(width: geometry.width, height: geometry.height)
    }

    /// The MCUs a pixel rectangle touches (rounded outward), clamped to the frame's MCUs.
    private func mcuArea(_ rectangle: PixelRectangle, _ geometry: JPEGBlockGeometry) -> PixelRectangle {
        PixelRectangle(left: rectangle.left / geometry.mcuWidth, top: rectangle.top / geometry.mcuHeight,
                       right: (rectangle.right + geometry.mcuWidth - 1) / geometry.mcuWidth,
                       bottom: (rectangle.bottom + geometry.mcuHeight - 1) / geometry.mcuHeight)
            .clamped(width: geometry.mcuColumns, height: geometry.mcuRows)
    }

    /// An `.mjpeg` layout of this size and payload capacity, from the recent ones when possible.
    private func outputLayout(width: Int, height: Int, capacity: Int) -> FrameLayout {
        for layout in outputLayouts where layout.width == width && layout.height == height && layout.planes[0].stride == capacity {
            return layout
        }
        let layout = FrameLayout(format: .mjpeg, width: width, height: height, payloadCapacity: capacity)
        if outputLayouts.count >= 4 { outputLayouts.removeFirst() }
        outputLayouts.append(layout)
        return layout
    }
}

/// Whether any mask byte in the rectangle is set; stops at the first.
private func anyMasked(_ mask: UnsafePointer<UInt8>, stride: Int, left: Int, right: Int, top: Int, bottom: Int) -> Bool {
    for row in top..<bottom {
        let line = mask + row * stride
        var column = left
        // Eight bytes at a time (unaligned loads), then the tail.
        while column + 8 <= right {
            if UnsafeRawPointer(line + column).loadUnaligned(as: UInt64.self) != 0 { return true }
            column &+= 8
        }
        while column < right {
            if line[column] != 0 { return true }
            column &+= 1
        }
    }
    return false
}
