// The built-in moving test pattern: colour bars, a box that moves with the frame index, and a
// band that spells the frame index in binary. A pure function of (index, layout), filled a row
// span at a time so that it is cheap enough to feed benchmarks.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A colour in full-range BT.601 YCbCr.
struct PatternColor {
    var luma: UInt8
    var blue: UInt8
    var red: UInt8
}

/// The eight bars, left to right (white, yellow, cyan, green, magenta, red, blue, black), in
/// full-range YCbCr computed with the same coefficients as `convertRGBToI420`.
let patternBars: [PatternColor] = [
    (255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0),
    (255, 0, 255), (255, 0, 0), (0, 0, 255), (0, 0, 0),
].map { rgb in
    let chroma = bt601Chroma(redSum: rgb.0, greenSum: rgb.1, blueSum: rgb.2, shift: 0)
    return PatternColor(luma: bt601Luma(red: rgb.0, green: rgb.1, blue: rgb.2), blue: chroma.blue, red: chroma.red)
}

/// Where the parts of the pattern sit for one frame. Exposed so that tests (and motion-analysis
/// tests) can know where the box is without decoding pixels.
public struct TestPatternGeometry: Sendable, Equatable {
    /// Rows `0..<barsHeight` hold the bars (and the box); the rest is the counter band.
    public var barsHeight: Int
    /// The moving box, in luma pixels: x, y, side.
    public var boxX: Int
    public var boxY: Int
    public var boxSide: Int
    /// Bits of the frame index shown in the band (most significant first), each `cellWidth`
    /// pixels wide.
    public var counterBits: Int
    public var cellWidth: Int

    /// The geometry of frame `index` at `width` x `height`.
    public init(index: UInt64, width: Int, height: Int) {
        let band = height >= 2 ? max(1, height / 8) : 0
        barsHeight = height - band
        boxSide = max(1, min(width, barsHeight) / 4)
        // A triangle wave, so the box bounces instead of jumping back to the corner; different
        // speeds on the two axes keep consecutive positions distinct.
        func bounce(_ index: UInt64, speed: UInt64, span: Int) -> Int {
            guard span > 0 else { return 0 }
            let period = UInt64(span) * 2
            let phase = Int((index &* speed) % period)
            return phase <= span ? phase : 2 * span - phase
        }
        boxX = bounce(index, speed: 4, span: max(0, width - boxSide))
        boxY = bounce(index, speed: 3, span: max(0, barsHeight - boxSide))
        counterBits = min(32, width)
        cellWidth = counterBits > 0 ? width / counterBits : 0
    }
}

/// Renders frame `index` of the test pattern into a buffer laid out as `layout` (any raw format).
/// The same index and layout always give the same bytes; consecutive indexes differ in the box
/// position and the counter band. Row padding is left untouched.
public func renderTestPattern(index: UInt64, layout: FrameLayout, into base: UnsafeMutableRawPointer) {
    precondition(layout.format.isRaw, "the test pattern is raw pixels, not \(layout.format)")
    let width = layout.width, height = layout.height
    guard width > 0, height > 0 else { return }
    let writer = PatternWriter(layout: layout, base: base)
    let geometry = TestPatternGeometry(index: index, width: width, height: height)

    // Bars: one row written span by span, then copied down.
    let barCount = patternBars.count
    for bar in 0..<barCount {
        let start = bar * width / barCount
        let end = (bar + 1) * width / barCount
        writer.fill(row: 0, from: start, to: end, color: patternBars[bar])
    }
    writer.copyFirstRow(of: 0, through: geometry.barsHeight)

    // Counter band: black and white cells, the rest neutral grey.
    if geometry.barsHeight < height {
        let row = geometry.barsHeight
        let neutral = PatternColor(luma: 128, blue: 128, red: 128)
        let cells = geometry.counterBits * geometry.cellWidth
        for bit in 0..<geometry.counterBits {
            let isSet = (index >> UInt64(geometry.counterBits - 1 - bit)) & 1 == 1
            let color = PatternColor(luma: isSet ? 255 : 0, blue: 128, red: 128)
            writer.fill(row: row, from: bit * geometry.cellWidth, to: (bit + 1) * geometry.cellWidth, color: color)
        }
        writer.fill(row: row, from: cells, to: width, color: neutral)
        writer.copyFirstRow(of: row, through: height)
    }

    // The box: a grey whose brightness also steps with the index.
    let boxColor = PatternColor(luma: UInt8(truncatingIfNeeded: 64 &+ (index % 8) &* 16), blue: 128, red: 128)
    for row in geometry.boxY..<min(geometry.boxY + geometry.boxSide, geometry.barsHeight) {
        writer.fill(row: row, from: geometry.boxX, to: geometry.boxX + geometry.boxSide, color: boxColor)
    }
}

/// Span fills for each raw format: one switch per span, never per pixel.
struct PatternWriter {
    let layout: FrameLayout
    let base: UnsafeMutableRawPointer
    /// Luma rows per chroma row: 2 for the 4:2:0 formats.
    let verticalSubsampling: Int

    init(layout: FrameLayout, base: UnsafeMutableRawPointer) {
        self.layout = layout
        self.base = base
        switch layout.format {
        case .i420, .nv12: verticalSubsampling = 2
        default: verticalSubsampling = 1
        }
    }

    /// Fills luma pixels `start..<end` of `row` (and the chroma samples they own) with `color`.
    /// Chroma is written for the chroma row whose first luma row is `row`, or for every row in
    /// 4:2:2, so a span on the odd row of a 4:2:0 pair only changes luma.
    func fill(row: Int, from start: Int, to end: Int, color: PatternColor) {
        let start = max(0, start), end = min(end, layout.width)
        guard start < end else { return }
        let planes = layout.planes
        let writesChroma = row % verticalSubsampling == 0
        let chromaRow = row / verticalSubsampling
        // Chroma sample c covers luma 2c and 2c+1; it takes the colour of its left pixel.
        let chromaStart = (start + 1) / 2, chromaEnd = (end + 1) / 2
        switch layout.format {
        case .gray8, .i420, .i422, .nv12:
            memset(base + planes[0].offset + row * planes[0].stride + start, Int32(color.luma), end - start)
            guard writesChroma, layout.format != .gray8, chromaStart < chromaEnd else { return }
            if layout.format == .nv12 {
                let pairs = (base + planes[1].offset + chromaRow * planes[1].stride).assumingMemoryBound(to: UInt8.self)
                var sample = chromaStart
                while sample < chromaEnd {
                    pairs[sample &* 2] = color.blue
                    pairs[sample &* 2 &+ 1] = color.red
                    sample &+= 1
                }
            } else {
                memset(base + planes[1].offset + chromaRow * planes[1].stride + chromaStart, Int32(color.blue), chromaEnd - chromaStart)
                memset(base + planes[2].offset + chromaRow * planes[2].stride + chromaStart, Int32(color.red), chromaEnd - chromaStart)
            }
        case .yuyv:
            let packed = (base + planes[0].offset + row * planes[0].stride).assumingMemoryBound(to: UInt8.self)
            var x = start
            while x < end {
                packed[x &* 2] = color.luma
                x &+= 1
            }
            var sample = chromaStart
            while sample < chromaEnd {
                packed[sample &* 4 &+ 1] = color.blue
                packed[sample &* 4 &+ 3] = color.red
                sample &+= 1
            }
            // An odd width leaves a padding pixel in the last pair; keep it defined.
            if end == layout.width, layout.width & 1 == 1 { packed[layout.width &* 2] = color.luma }
        case .mjpeg:
            preconditionFailure("the test pattern is raw pixels")
        }
    }

    /// Copies luma row `first` (and its chroma row) to every row up to `end` (exclusive).
    func copyFirstRow(of first: Int, through end: Int) {
        guard first < end else { return }
        let planes = layout.planes
        // Index loop rather than `enumerated()`: in unoptimised builds the generic iterator
        // allocates a coroutine frame per step, and this runs every frame.
        for planeIndex in 0..<planes.count {
            let plane = planes[planeIndex]
            let subsampled = planeIndex > 0 && verticalSubsampling == 2
            let firstRow = subsampled ? first / 2 : first
            let endRow = min(plane.height, subsampled ? (end + 1) / 2 : end)
            guard firstRow < endRow else { continue }
            let source = base + plane.offset + firstRow * plane.stride
            var row = firstRow + 1
            while row < endRow {
                memcpy(base + plane.offset + row * plane.stride, source, plane.rowBytes)
                row &+= 1
            }
        }
    }
}
