// JPEGCoefficientEditor: a JPEG edited in the DCT domain (whole blocks filled or pixelated)
// without decoding its pixels or re-encoding them: entropy decode, edit quantised coefficients,
// entropy encode, as jpegtran does. Untouched blocks keep their exact coefficients.

internal import CJPEG
public import Frames

/// One component's grid of 8x8 blocks.
public struct JPEGComponentBlocks: Sendable, Equatable {
    public var horizontalSampling: Int
    public var verticalSampling: Int
    /// Blocks holding image data across and down.
    public var widthInBlocks: Int
    public var heightInBlocks: Int
    /// Quantisation step of the DC coefficient: a block whose quantised DC is `q` has a mean of
    /// `128 + q * dcQuantizer / 8` once decoded.
    public var dcQuantizer: Int

    public init(horizontalSampling: Int, verticalSampling: Int, widthInBlocks: Int, heightInBlocks: Int, dcQuantizer: Int) {
        self.horizontalSampling = horizontalSampling
        self.verticalSampling = verticalSampling
        self.widthInBlocks = widthInBlocks
        self.heightInBlocks = heightInBlocks
        self.dcQuantizer = dcQuantizer
    }
}

/// The block structure of a JPEG read by `JPEGCoefficientEditor`.
///
/// An MCU here is `mcuWidth` x `mcuHeight` pixels (8 times the largest sampling factors: 16x16
/// for 4:2:0, 16x8 for 4:2:2, 8x8 for greyscale and 4:4:4): the smallest area whose blocks in
/// every component belong to it alone. Masks given to the editor have one byte per MCU.
public struct JPEGBlockGeometry: Sendable, Equatable {
    public var header: JPEGHeader
    public var mcuWidth: Int
    public var mcuHeight: Int
    private var components: (JPEGComponentBlocks, JPEGComponentBlocks, JPEGComponentBlocks, JPEGComponentBlocks)

    public var width: Int { header.width }
    public var height: Int { header.height }
    public var componentCount: Int { header.components }
    /// MCUs across and down, the last ones cut by the image's edge.
    public var mcuColumns: Int { (width + mcuWidth - 1) / mcuWidth }
    public var mcuRows: Int { (height + mcuHeight - 1) / mcuHeight }

    /// Component `index` (0 is luma for YCbCr); `index` must be below `componentCount`.
    public func component(_ index: Int) -> JPEGComponentBlocks {
        switch index {
        case 0: components.0
        case 1: components.1
        case 2: components.2
        default: components.3
        }
    }

    public static func == (first: JPEGBlockGeometry, second: JPEGBlockGeometry) -> Bool {
        first.header == second.header && first.mcuWidth == second.mcuWidth && first.mcuHeight == second.mcuHeight
            && (0..<4).allSatisfy { first.component($0) == second.component($0) }
    }

    init(_ raw: obscura_jpeg_coefficients) {
        header = JPEGHeader(raw.header)
        mcuWidth = 8 * Int(max(raw.max_horizontal_sampling, 1))
        mcuHeight = 8 * Int(max(raw.max_vertical_sampling, 1))
        func blocks(_ value: obscura_jpeg_component_blocks) -> JPEGComponentBlocks {
            JPEGComponentBlocks(horizontalSampling: Int(value.horizontal_sampling), verticalSampling: Int(value.vertical_sampling),
                                widthInBlocks: Int(value.width_in_blocks), heightInBlocks: Int(value.height_in_blocks),
                                dcQuantizer: Int(value.dc_quantizer))
        }
        components = (blocks(raw.component.0), blocks(raw.component.1), blocks(raw.component.2), blocks(raw.component.3))
    }
}

/// What an edit does to the blocks it covers.
public enum JPEGBlockEdit: Sendable, Equatable {
    /// DC and AC all zero in every component: every sample decodes to exactly 128 (mid-grey,
    /// neutral chroma), as the pixel path's fill writes.
    case fill
    /// Cells of `cellSize` luma pixels (rounded up to whole blocks; chroma cells are
    /// `cellSize` divided by the horizontal subsampling, as the pixel path sizes them), starting
    /// at the region's top-left MCU and cut by its edge: each masked block of a cell gets the
    /// rounded mean DC of all the cell's blocks and no AC, so it decodes to one flat value.
    case pixelate(cellSize: Int)
    /// As `pixelate`, but in the first component (luma) each cell's DC is the rounded mean of
    /// the cell means in its 3x3 neighbourhood of cells (inside the region) that lie within
    /// `tolerance` grey levels of its own (as Frames' `pixelateSmoothedMasked` does with pixels):
    /// cells of a plain surface, whose means differ only by noise, are evened out; cells that
    /// differ by more keep their own mean. The other components are pixelated as by `pixelate`.
    case pixelateSmoothed(cellSize: Int, tolerance: Int)
}

/// Edits JPEGs in the DCT domain: read a JPEG's coefficients, fill or pixelate whole blocks
/// (selected by a per-MCU mask), and write a new JPEG with the same quantisation into the
/// caller's buffer.
///
/// One editor per camera and thread of use: it owns one libjpeg decompressor and one compressor
/// reused for every frame, so it is not `Sendable`. Steady state allocates nothing in Swift;
/// libjpeg mallocs its per-image memory (the coefficient arrays among it) and frees it at the
/// end of each image.
///
/// Bad input never traps: every failure is a `JPEGError` and bumps `counters` (where `decoded`
/// counts images written); the editor is ready for the next image afterwards. Corrupt-data
/// warnings fail the read, as they fail a decode. MJPEG without Huffman tables (as UVC webcams
/// send) is read with the standard tables, as the decoder does.
public final class JPEGCoefficientEditor {
    public let maximumDimension: Int

    /// Images written and failures by kind (`decoded` counts images written).
    public var counters: JPEGDecoderCounters {
        var counters = recorded
        counters.corruptDataWarnings = obscura_jpeg_transcoder_corrupt_warnings(handle)
        counters.otherWarnings = obscura_jpeg_transcoder_other_warnings(handle)
        return counters
    }

    /// The geometry of the image read and not yet written (nil otherwise).
    public private(set) var geometry: JPEGBlockGeometry?

    private let handle: OpaquePointer
    private var recorded = JPEGDecoderCounters()
    /// Set when a block row could not be reached during an edit: the image is then not written
    /// (an edit that silently did not happen would pass unmasked blocks).
    private var editFailed = false
    private var lumaLayouts: [FrameLayout] = []
    /// Per-cell sums of one band of cells, reused across frames.
    private var sums: UnsafeMutableBufferPointer<Int>

    /// - Parameters:
    ///   - maximumDimension: reject JPEGs declaring a larger width or height.
    ///   - maximumMemory: cap on libjpeg's working memory (the coefficients of the whole image
    ///     are held at once: 768 bytes per 4:2:0 MCU); 0 means no cap.
    ///   - maximumScans: reject progressive JPEGs with more scans; 0 means no limit.
    public init(maximumDimension: Int = JPEGDecoder.defaultMaximumDimension,
                maximumMemory: Int = 256 << 20, maximumScans: Int = 500) {
        precondition(maximumDimension > 0, "maximumDimension must be positive")
        guard let handle = obscura_jpeg_transcoder_create(max(0, maximumMemory), Int32(clamping: maximumScans)) else {
            preconditionFailure("out of memory creating a JPEG transcoder")
        }
        self.handle = handle
        self.maximumDimension = maximumDimension
        sums = .allocate(capacity: 256)
    }

    deinit {
        obscura_jpeg_transcoder_destroy(handle)
        sums.deallocate()
    }

    /// A buffer size that holds the rewritten JPEG of a `width` x `height` image of this
    /// subsampling (TurboJPEG's tjBufSize bound, as `JPEGEncoder.maximumEncodedSize`). Masked
    /// blocks only shrink; a pathological input that still does not fit fails with
    /// `.outputTooSmall`, never a partial JPEG.
    public static func maximumOutputSize(width: Int, height: Int, subsampling: JPEGSubsampling) -> Int {
        let (blockWidth, blockHeight, chromaFactor) = switch subsampling {
        case .yuv420: (16, 16, 1)
        case .yuv422: (16, 8, 2)
        case .yuv444: (8, 8, 4)
        case .grayscale: (8, 8, 0)
        // Up to 4 full-resolution components (CMYK) or factors up to 4.
        case .other: (32, 32, 6)
        }
        let paddedWidth = (max(width, 1) + blockWidth - 1) / blockWidth * blockWidth
        let paddedHeight = (max(height, 1) + blockHeight - 1) / blockHeight * blockHeight
        return paddedWidth * paddedHeight * (2 + chromaFactor) + 2048
    }

    // MARK: Steps: read, edit, write

    /// Reads `jpeg` down to its quantised coefficients. The bytes must stay valid until `write`
    /// or `abort`. A pending image is abandoned first.
    /// The error for a failed read: too large when the header is past `maximumDimension`, else
    /// what the status says.
    private func readFailure(_ status: Int32, _ raw: obscura_jpeg_coefficients) -> JPEGError {
        let width = Int(raw.header.width), height = Int(raw.header.height)
        if status == OBSCURA_JPEG_STATUS_UNSUPPORTED, width > maximumDimension || height > maximumDimension {
            return .tooLarge(width: width, height: height, limit: maximumDimension)
        }
        return error(for: status)
    }

    @discardableResult
    public func read(_ jpeg: UnsafeRawBufferPointer) throws(JPEGError) -> JPEGBlockGeometry {
        geometry = nil
        editFailed = false
        do throws(JPEGError) {
            guard let base = jpeg.baseAddress, jpeg.count > 0 else {
                obscura_jpeg_transcoder_abort(handle)
                throw .empty
            }
            var raw = obscura_jpeg_coefficients()
            let status = obscura_jpeg_transcoder_read(handle, base.assumingMemoryBound(to: UInt8.self), jpeg.count,
                                                      Int32(clamping: maximumDimension), &raw)
            guard status == OBSCURA_JPEG_STATUS_OK else { throw readFailure(status, raw) }
            let read = JPEGBlockGeometry(raw)
            geometry = read
            return read
        } catch {
            recorded.record(error)
            throw error
        }
    }

    /// Reads `jpeg` down to its coefficients as `read` does and, from the same entropy decode,
    /// writes its luma (grey for a greyscale JPEG) into `frame`, whose layout becomes GRAY8 of the
    /// JPEG's size: the analysis copy of an MJPEG frame, for the price of one luma transform
    /// rather than a second decode. `frame`'s buffer must hold that layout (else
    /// `.frameTooSmall`); after a failure its pixels are undefined. Sequence and capture time
    /// are left as they are.
    @discardableResult
    public func read(_ jpeg: UnsafeRawBufferPointer, decodingLumaInto frame: inout Frame) throws(JPEGError) -> JPEGBlockGeometry {
        geometry = nil
        editFailed = false
        do throws(JPEGError) {
            guard let base = jpeg.baseAddress, jpeg.count > 0 else {
                obscura_jpeg_transcoder_abort(handle)
                throw .empty
            }
            var raw = obscura_jpeg_coefficients()
            var status = obscura_jpeg_transcoder_read_header(handle, base.assumingMemoryBound(to: UInt8.self), jpeg.count,
                                                             Int32(clamping: maximumDimension), &raw)
            guard status == OBSCURA_JPEG_STATUS_OK else { throw readFailure(status, raw) }
            let layout = lumaLayout(width: Int(raw.header.width), height: Int(raw.header.height))
            guard frame.setLayout(layout) else {
                obscura_jpeg_transcoder_abort(handle)
                throw .frameTooSmall(needed: layout.byteCount, capacity: frame.buffer.capacity)
            }
            frame.payloadSize = 0
            let luma = frame.planeBytes(0)
            status = obscura_jpeg_transcoder_read_decoding_luma(handle, luma.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                                                layout.planes[0].stride, &raw)
            guard status == OBSCURA_JPEG_STATUS_OK else { throw error(for: status) }
            let read = JPEGBlockGeometry(raw)
            geometry = read
            return read
        } catch {
            recorded.record(error)
            throw error
        }
    }

    /// Sets every block of every component to zero (the whole image decodes to 128).
    public func fillAll() {
        guard let geometry else { return }
        for component in 0..<geometry.componentCount {
            let blocks = geometry.component(component)
            for row in 0..<blocks.heightInBlocks {
                guard let line = blockRow(component, row) else { return }
                line.update(repeating: 0, count: blocks.widthInBlocks * 64)
            }
        }
    }

    /// Applies `edit` to the MCUs of `region` (in MCUs: columns `left..<right`, rows
    /// `top..<bottom`) whose byte in `mcuMask` is non-zero (all of them when `mcuMask` is nil).
    /// The mask has one byte per MCU, `maskStride` bytes per MCU row, and must cover `region`
    /// once clamped to the image. `firstComponent` 1 leaves luma alone (a caller that sets it
    /// with `setLumaBlocks`). Does nothing when no image has been read.
    public func apply(_ edit: JPEGBlockEdit, region: PixelRectangle, mcuMask: UnsafeRawPointer?, maskStride: Int,
                      firstComponent: Int = 0) {
        guard let geometry else { return }
        let area = region.clamped(width: geometry.mcuColumns, height: geometry.mcuRows)
        guard !area.isEmpty else { return }
        let mask = mcuMask?.assumingMemoryBound(to: UInt8.self)
        let components = min(max(firstComponent, 0), geometry.componentCount)..<geometry.componentCount
        switch edit {
        case .fill:
            for component in components {
                fill(component, geometry: geometry, area: area, mask: mask, maskStride: maskStride)
            }
        case .pixelate(let cellSize):
            for component in components {
                pixelate(component, geometry: geometry, area: area, cellSize: max(cellSize, 1), mask: mask, maskStride: maskStride)
            }
        case .pixelateSmoothed(let cellSize, let tolerance):
            for component in components {
                pixelate(component, geometry: geometry, area: area, cellSize: max(cellSize, 1), mask: mask, maskStride: maskStride,
                         tolerance: component == 0 ? max(tolerance, 0) : nil)
            }
        }
    }

    /// Makes every luma block of the masked MCUs of `region` (in MCUs, as `apply`) flat at its
    /// level in `levels` (DC only, no AC): one level per block of the luma's 8x8 grid,
    /// `blocksAcross` to a row (the image's width in blocks). How the coefficient-domain
    /// redaction writes luma levels it computed from a decode (level matching). A DC step is
    /// `dcQuantizer / 8` levels, so with a DC quantiser above 8 (JPEG quality below about 75)
    /// a block lands on the nearest level it can hold. A block whose level is negative is
    /// filled (128). Does nothing when no image has been read.
    public func setLumaBlocks(levels: UnsafePointer<Int16>, blocksAcross: Int, region: PixelRectangle,
                              mcuMask: UnsafeRawPointer?, maskStride: Int) {
        guard let geometry, geometry.componentCount > 0 else { return }
        let area = region.clamped(width: geometry.mcuColumns, height: geometry.mcuRows)
        let blocks = geometry.component(0)
        let horizontal = blocks.horizontalSampling, vertical = blocks.verticalSampling
        let target = blockArea(blocks, area)
        guard !area.isEmpty, !target.isEmpty, horizontal > 0, vertical > 0 else { return }
        let quantizer = max(blocks.dcQuantizer, 1)
        let mask = mcuMask?.assumingMemoryBound(to: UInt8.self)
        for row in target.top..<target.bottom {
            guard let line = blockRow(0, row) else { return }
            for column in target.left..<min(target.right, blocksAcross) {
                if let mask, mask[(row / vertical) * maskStride + column / horizontal] == 0 { continue }
                let level = Int(levels[row * blocksAcross + column])
                // The level's offset from 128 in DC units (a DC of 8 / quantizer is one level), rounded.
                let offset = (level < 0 ? 0 : min(level, 255) - 128) * 8
                let dc = offset >= 0 ? (offset + quantizer / 2) / quantizer : -((-offset + quantizer / 2) / quantizer)
                let block = line + column &* 64
                block[0] = Int16(clamping: dc)
                (block + 1).update(repeating: 0, count: 63)
            }
        }
    }

    /// Writes the edited image as a baseline JPEG (same quantisation tables, standard Huffman
    /// tables, no APPn or COM markers) at the start of `output`.
    /// - Returns: the number of bytes written.
    public func write(into output: UnsafeMutableRawBufferPointer) throws(JPEGError) -> Int {
        do throws(JPEGError) {
            guard geometry != nil else { throw .internalFailure("write called without a JPEG read") }
            guard !editFailed else {
                obscura_jpeg_transcoder_abort(handle)
                geometry = nil
                throw .internalFailure("a block row of the coefficient arrays could not be reached during an edit")
            }
            geometry = nil
            guard let base = output.baseAddress, output.count > 0 else {
                obscura_jpeg_transcoder_abort(handle)
                throw .outputTooSmall(capacity: output.count)
            }
            var written = 0
            let status = obscura_jpeg_transcoder_write(handle, base.assumingMemoryBound(to: UInt8.self), output.count, &written)
            guard status == OBSCURA_JPEG_STATUS_OK else {
                if status == OBSCURA_JPEG_STATUS_OUTPUT_TOO_SMALL { throw .outputTooSmall(capacity: output.count) }
                throw error(for: status)
            }
            recorded.decoded += 1
            return written
        } catch {
            recorded.record(error)
            throw error
        }
    }

    /// Abandons the image read and not yet written.
    public func abort() {
        geometry = nil
        obscura_jpeg_transcoder_abort(handle)
    }

    /// Reads `jpeg`, applies `edit` to the masked MCUs of the whole image, and writes the result
    /// into `output` in one call. `mcuMask` is `mcuColumns` x `mcuRows` of the JPEG (see
    /// `JPEGBlockGeometry`), or nil for every MCU.
    /// - Returns: the number of bytes written.
    public func redact(jpeg: UnsafeRawBufferPointer, edit: JPEGBlockEdit, mcuMask: UnsafeRawPointer?, maskStride: Int,
                       into output: UnsafeMutableRawBufferPointer) throws(JPEGError) -> Int {
        let geometry = try read(jpeg)
        apply(edit, region: PixelRectangle(left: 0, top: 0, right: geometry.mcuColumns, bottom: geometry.mcuRows),
              mcuMask: mcuMask, maskStride: maskStride)
        return try write(into: output)
    }

    /// The 64 coefficients (natural order, quantised) of one block of the image read, or nil
    /// when out of range (for tests and tools; allocates).
    public func blockCoefficients(component: Int, column: Int, row: Int) -> [Int16]? {
        guard let geometry, component >= 0, component < geometry.componentCount, column >= 0,
              column < geometry.component(component).widthInBlocks,
              let line = obscura_jpeg_transcoder_block_row(handle, Int32(component), Int32(clamping: row)) else { return nil }
        return Array(UnsafeBufferPointer(start: line + column * 64, count: 64))
    }

    // MARK: Block edits

    private func blockRow(_ component: Int, _ row: Int) -> UnsafeMutablePointer<Int16>? {
        guard let line = obscura_jpeg_transcoder_block_row(handle, Int32(component), Int32(clamping: row)) else {
            editFailed = true
            return nil
        }
        return line
    }

    /// The component's blocks covered by `area` (in MCUs), cut at the image's real blocks.
    private func blockArea(_ blocks: JPEGComponentBlocks, _ area: PixelRectangle) -> PixelRectangle {
        let horizontal = blocks.horizontalSampling, vertical = blocks.verticalSampling
        return PixelRectangle(left: area.left * horizontal, top: area.top * vertical,
                              right: min(area.right * horizontal, blocks.widthInBlocks),
                              bottom: min(area.bottom * vertical, blocks.heightInBlocks))
    }

    private func fill(_ component: Int, geometry: JPEGBlockGeometry, area: PixelRectangle,
                      mask: UnsafePointer<UInt8>?, maskStride: Int) {
        let blocks = geometry.component(component)
        let horizontal = blocks.horizontalSampling, vertical = blocks.verticalSampling
        let target = blockArea(blocks, area)
        guard !target.isEmpty else { return }
        for row in target.top..<target.bottom {
            guard let line = blockRow(component, row) else { return }
            if let mask {
                let maskLine = mask + (row / vertical) * maskStride
                for column in target.left..<target.right where maskLine[column / horizontal] != 0 {
                    (line + column &* 64).update(repeating: 0, count: 64)
                }
            } else {
                (line + target.left &* 64).update(repeating: 0, count: target.width &* 64)
            }
        }
    }

    /// `tolerance` (grey levels) set: each cell's DC is evened out with its nearly equal
    /// neighbours (`JPEGBlockEdit.pixelateSmoothed`); nil: each cell holds its own mean.
    private func pixelate(_ component: Int, geometry: JPEGBlockGeometry, area: PixelRectangle, cellSize: Int,
                          mask: UnsafePointer<UInt8>?, maskStride: Int, tolerance: Int? = nil) {
        let blocks = geometry.component(component)
        let horizontal = blocks.horizontalSampling, vertical = blocks.verticalSampling
        let target = blockArea(blocks, area)
        guard !target.isEmpty, horizontal > 0, vertical > 0 else { return }
        // Cell in this component's samples as the pixel path sizes it (divided by the
        // horizontal subsampling, square), then in whole blocks.
        let subsampling = max(1, (geometry.mcuWidth / 8 + horizontal - 1) / horizontal)
        let cellSamples = (cellSize + subsampling - 1) / subsampling
        let cell = max(1, (cellSamples + 7) / 8)
        let cellsAcross = (target.width + cell - 1) / cell
        let cellsDown = (target.height + cell - 1) / cell
        // One band of sums, or (evening out) every cell's mean and value at once.
        let needed = tolerance == nil ? cellsAcross : 2 * cellsAcross * cellsDown
        if needed > sums.count {
            sums.deallocate()
            sums = .allocate(capacity: needed)
        }
        // Every block of a component uses the same quantisation table, so the mean of the
        // dequantised DCs re-quantised with rounding is the rounded mean of the quantised
        // values: round(mean(q * Q) / Q) = round(mean(q)).
        func rounded(_ sum: Int, _ count: Int) -> Int {
            sum >= 0 ? (sum + count / 2) / count : -((-sum + count / 2) / count)
        }
        guard let tolerance else {
            var cellTop = target.top
            while cellTop < target.bottom {
                let cellBottom = min(cellTop + cell, target.bottom)
                UnsafeMutableBufferPointer(rebasing: sums[0..<cellsAcross]).update(repeating: 0)
                for row in cellTop..<cellBottom {
                    guard let line = blockRow(component, row) else { return }
                    for column in target.left..<target.right {
                        sums[(column &- target.left) / cell] &+= Int(line[column &* 64])
                    }
                }
                for index in 0..<cellsAcross {
                    let cellLeft = target.left + index * cell
                    let count = (cellBottom - cellTop) * (min(cellLeft + cell, target.right) - cellLeft)
                    sums[index] = rounded(sums[index], count)
                }
                write(component, rows: cellTop..<cellBottom, target: target, cell: cell, values: sums.baseAddress!,
                      mask: mask, maskStride: maskStride, vertical: vertical, horizontal: horizontal)
                cellTop = cellBottom
            }
            return
        }
        // Cell means in 1/256 of a quantised DC, then each cell's value (as pixelateSmoothedMasked).
        let means = sums.baseAddress!, values = means + cellsAcross * cellsDown
        UnsafeMutableBufferPointer(start: means, count: cellsAcross * cellsDown).update(repeating: 0)
        for row in target.top..<target.bottom {
            guard let line = blockRow(component, row) else { return }
            let band = means + ((row &- target.top) / cell) * cellsAcross
            for column in target.left..<target.right {
                band[(column &- target.left) / cell] &+= Int(line[column &* 64])
            }
        }
        for cellRow in 0..<cellsDown {
            let height = min(target.top + (cellRow + 1) * cell, target.bottom) - (target.top + cellRow * cell)
            for cellColumn in 0..<cellsAcross {
                let width = min(target.left + (cellColumn + 1) * cell, target.right) - (target.left + cellColumn * cell)
                means[cellRow * cellsAcross + cellColumn] = rounded(means[cellRow * cellsAcross + cellColumn] * 256, width * height)
            }
        }
        // A quantised DC step is dcQuantizer / 8 grey levels: within `tolerance` levels means a
        // difference of at most tolerance * 8 / dcQuantizer steps.
        let limit = tolerance * 8 * 256 / max(blocks.dcQuantizer, 1)
        for cellRow in 0..<cellsDown {
            for cellColumn in 0..<cellsAcross {
                let (sum, count) = nearlyEqualNeighbourSum(UnsafePointer(means), columns: cellsAcross, rows: cellsDown,
                                                           row: cellRow, column: cellColumn, limit: limit)
                values[cellRow * cellsAcross + cellColumn] = rounded(sum, count * 256)
            }
        }
        var cellTop = target.top
        while cellTop < target.bottom {
            let cellBottom = min(cellTop + cell, target.bottom)
            write(component, rows: cellTop..<cellBottom, target: target, cell: cell,
                  values: values + ((cellTop &- target.top) / cell) * cellsAcross,
                  mask: mask, maskStride: maskStride, vertical: vertical, horizontal: horizontal)
            cellTop = cellBottom
        }
    }

    /// Writes one band of cells: each masked block of `rows` gets its cell's DC from `values`
    /// (one per cell across) and no AC.
    private func write(_ component: Int, rows: Range<Int>, target: PixelRectangle, cell: Int, values: UnsafePointer<Int>,
                       mask: UnsafePointer<UInt8>?, maskStride: Int, vertical: Int, horizontal: Int) {
        for row in rows {
            guard let line = blockRow(component, row) else { return }
            let maskLine = mask.map { $0 + (row / vertical) * maskStride }
            for column in target.left..<target.right {
                if let maskLine, maskLine[column / horizontal] == 0 { continue }
                let block = line + column &* 64
                block[0] = Int16(truncatingIfNeeded: values[(column &- target.left) / cell])
                (block + 1).update(repeating: 0, count: 63)
            }
        }
    }

    /// GRAY8 layouts of recent sizes (a FrameLayout holds an array: one per frame would allocate).
    private func lumaLayout(width: Int, height: Int) -> FrameLayout {
        for layout in lumaLayouts where layout.width == width && layout.height == height { return layout }
        let layout = FrameLayout(format: .gray8, width: width, height: height)
        if lumaLayouts.count >= 4 { lumaLayouts.removeFirst() }
        lumaLayouts.append(layout)
        return layout
    }

    private func error(for status: obscura_jpeg_status) -> JPEGError {
        JPEGError(status: status, message: String(cString: obscura_jpeg_transcoder_message(handle)))
    }
}
