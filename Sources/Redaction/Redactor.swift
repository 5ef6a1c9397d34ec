// The redaction stage: one Redactor per camera turns a Frame and what the analysis found in it
// into a RedactedFrame. It builds one full-frame luma mask per frame (boxes, privacy zones,
// the scaled-up motion foreground), derives the chroma mask from it, and applies the method
// region by region, so pixels outside every mask are never written. MJPEG frames take the
// coefficient-domain path instead (CompressedRedaction.swift), from the same mask.
public import Analysis
internal import Codec
public import Frames

/// Running totals since the redactor was made.
public struct RedactionCounters: Sendable, Equatable {
    public var frames: UInt64 = 0
    /// Boxes masked, summed over frames (detections and persisted boxes, unverified regions).
    public var boxesMasked: UInt64 = 0
    /// Frames filled entirely because analysis failed (or could not be redacted in place).
    public var fullFrameMasks: UInt64 = 0
    /// Sum over frames of the fraction of pixels masked.
    public var maskedFractionSum: Double = 0
    /// MJPEG frames redacted in the coefficient domain (`redactCompressed`) and written out.
    public var compressedFrames: UInt64 = 0
    /// MJPEG frames dropped whole (payload zeroed) because they could not be redacted: a JPEG
    /// error (corrupt or truncated input, output buffer too small), or no free output buffer.
    /// Each is also counted in `fullFrameMasks`.
    public var compressedDropped: UInt64 = 0

    /// Mean fraction of each frame's pixels that was masked.
    public var maskedFraction: Double { frames == 0 ? 0 : maskedFractionSum / Double(frames) }
}

/// Redacts the frames of one camera. Not thread-safe: it keeps the boxes of recent frames for
/// persistence and reuses its mask buffers, so it belongs to the one task that runs the camera's
/// stages.
public final class Redactor {
    public let configuration: RedactionConfiguration
    public internal(set) var counters = RedactionCounters()

    /// At most this many pixelation cells across a box's longer side. The issue asked for "about
    /// 8" across a face; measured with OpenCV's own face cascades (tools/audit-redaction on the
    /// face stills), 8 across a box grown by 30% still left faces OpenCV finds in 3 of 8 images,
    /// 6 left none. A face then spans about 4 to 5 cells.
    public static let pixelateCellsAcross = 6
    /// Luma and chroma written by `.fill` and by a whole-frame mask: mid-grey, no colour.
    public static let fillValue: UInt8 = 128
    /// Grey levels per quantisation step after a blur (32 levels remain).
    public static let blurQuantisationStep = 8
    /// Whether luma cells are evened out with their nearly equal neighbours
    /// (`pixelateSmoothedMasked`) rather than each holding its own rounded mean. Measured with
    /// tools/audit-redaction (docs/AUDIT.md): on a plain wall, cells one level apart made "new"
    /// faces OpenCV finds after histogram equalisation.
    public static let smoothPixelation = true
    /// Whether pixelated luma is level-matched afterwards (Frames' `matchMaskedLevels`; on
    /// blocks in the coefficient path, written by Codec's `setLumaBlocks`): the masked samples get back the grey levels they held, in the order
    /// of their cell values, so the frame's histogram is unchanged. Measured with
    /// tools/audit-redaction (docs/AUDIT.md): on the face pictures, pixelation's shift of the
    /// histogram alone made OpenCV find "faces" on untouched background after its equalisation.
    public static let matchLevels = true

    /// A box kept masked after its detection: where it is now and frames since it was seen.
    struct PersistentBox {
        var box: DetectionBox
        var framesSinceSeen: Int
    }

    private var persistent: [PersistentBox] = []
    /// This frame's masked regions with their cell size or blur radius; until the next frame
    /// they also say which parts of `lumaMask` to clear.
    var regions: [(rectangle: PixelRectangle, size: Int)] = []
    private var crossings: [Double] = []
    var lumaMask = Buffer()
    private var chromaMask = Buffer()
    private var coarseMask = Buffer()
    private var coarseScratch = Buffer()
    var blurScratch = Buffer()
    /// The coefficient path's level matching: a sum and a level per luma block.
    var blockScratch = Buffer()
    /// Level matching: the masked luma histogram (256 counts), then `matchMaskedLevels`'s scratch.
    var levelScratch = Buffer(byteCount: 256 * MemoryLayout<Int>.stride + levelMatchingScratchCount(width: 0, height: 0))
    private var maskWidth = 0
    private var maskHeight = 0
    // The coefficient-domain path (CompressedRedaction.swift): the libjpeg transcoder, made on
    // the first MJPEG frame; one byte per MCU of the frame; the output layouts of recent sizes
    // (a FrameLayout holds an array, so making one per frame would allocate).
    var coefficientEditor: JPEGCoefficientEditor?
    /// Which frame `prepareCompressed` read, so `redactCompressed` uses that read only for it.
    struct PreparedRead {
        var sequence: UInt64
        var payload: UnsafeRawPointer?
        var count: Int
    }
    var prepared: PreparedRead?
    var mcuMask = Buffer()
    /// The coefficient path's own decode of a frame's luma, for level matching when the caller
    /// has none (`redactCompressed(_:analysis:outputPool:luma:)`).
    var ownLuma: Frame?
    var outputLayouts: [FrameLayout] = []

    public init(configuration: RedactionConfiguration = RedactionConfiguration()) {
        self.configuration = configuration
        regions.reserveCapacity(64)
        crossings.reserveCapacity(64)
    }

    /// Boxes currently kept masked by persistence (for tests and metrics).
    public var persistentBoxes: [DetectionBox] { persistent.map(\.box) }

    /// Redacts one frame. The frame's buffer is modified in place and handed to the result.
    ///
    /// Fails closed: when `analysis.analysisFailed` is set, or the frame is compressed (use
    /// `redactCompressed` for MJPEG), nothing of the image survives.
    public func redact(_ frame: consuming Frame, analysis: RedactionInput) -> RedactedFrame {
        counters.frames &+= 1
        guard frame.format.isRaw else {
            // No pixel access to a JPEG payload here (`redactCompressed` has one): drop its
            // bytes rather than pass them on.
            ageAndPersist(analysis)
            return dropCompressed(frame)
        }
        if analysis.analysisFailed {
            for index in 0..<frame.format.planeCount {
                let plane = frame.plane(index)
                let bytes = frame.planeBytes(index)
                fillMasked(SamplePlane(base: bytes.baseAddress!, width: plane.width, height: plane.height, stride: plane.stride),
                           region: PixelRectangle(left: 0, top: 0, right: plane.width, bottom: plane.height),
                           mask: nil, maskStride: 0, value: Self.fillValue)
            }
            ageAndPersist(analysis)
            counters.fullFrameMasks &+= 1
            counters.maskedFractionSum += 1
            return RedactedFrame(frame: frame, maskedFraction: 1, wholeFrameMasked: true)
        }

        let width = frame.width, height = frame.height
        let masked = buildMask(width: width, height: height, analysis: analysis)
        apply(to: frame, masked: masked)

        let fraction = width * height == 0 ? 0 : Double(countMasked(lumaMask.base, stride: width, region: masked)) / Double(width * height)
        counters.maskedFractionSum += fraction
        return RedactedFrame(frame: frame, maskedFraction: fraction, wholeFrameMasked: false)
    }

    /// Fails closed on a compressed frame that cannot be redacted: the payload is dropped and the
    /// whole buffer zeroed, since `RedactedFrame.bytes` exposes all of it and a capture buffer
    /// past this payload still holds older, longer frames. Counted as a full-frame mask. (Only
    /// failures come here; a megabyte memset is cheap beside what failed.)
    func dropCompressed(_ frame: consuming Frame) -> RedactedFrame {
        frame.buffer.bytes.initializeMemory(as: UInt8.self, repeating: 0)
        frame.payloadSize = 0
        counters.fullFrameMasks &+= 1
        counters.maskedFractionSum += 1
        return RedactedFrame(frame: frame, maskedFraction: 1, wholeFrameMasked: true)
    }

    // MARK: - Building the mask

    /// Builds this frame's luma mask (`lumaMask`, `width` bytes a row) and `regions` from the
    /// analysis, ages the persistent boxes, and returns the bounding rectangle of every region.
    /// Shared by the pixel path and the coefficient path, so both mask the same pixels.
    func buildMask(width: Int, height: Int, analysis: RedactionInput) -> PixelRectangle {
        prepareMasks(width: width, height: height)
        let margin = configuration.policy.margin
        let maskBase = lumaMask.base

        ageAndPersist(analysis)
        var boxes = 0
        for entry in persistent {
            addBox(grown(entry.box, margin: margin), width: width, height: height, mask: maskBase)
            boxes &+= 1
        }
        for box in analysis.unverified {
            addBox(box, width: width, height: height, mask: maskBase)
            boxes &+= 1
        }
        counters.boxesMasked &+= UInt64(boxes)

        // Zones and the foreground are shapes, not boxes: their pixelation cells and blur radius
        // are set by the frame size (a face-sized part of a silhouette still gets a few cells).
        let shapeSize = max(4, (min(width, height) + 39) / 40)
        for zone in configuration.privacyZones {
            let touched = fillPolygonMask(maskBase, width: width, height: height, stride: width,
                                          polygon: zone.polygon, crossings: &crossings)
            if !touched.isEmpty { regions.append((touched, shapeSize)) }
        }
        if case .foreground = configuration.policy, let foreground = analysis.foreground {
            let touched = addForeground(foreground, width: width, height: height)
            if !touched.isEmpty { regions.append((touched, shapeSize)) }
        }

        var masked = PixelRectangle(left: 0, top: 0, right: 0, bottom: 0)
        for region in regions { masked = masked.union(region.rectangle) }
        return masked
    }

    // MARK: - Persistence

    /// Ages the kept boxes, moves each onto the predicted box it overlaps most, drops those not
    /// seen for more than `persistenceFrames`, and starts (or restarts) one per detection.
    func ageAndPersist(_ analysis: RedactionInput) {
        var kept = 0
        for index in persistent.indices {
            var entry = persistent[index]
            entry.framesSinceSeen &+= 1
            guard entry.framesSinceSeen <= configuration.persistenceFrames else { continue }
            var best = 0.0
            let lastBox = entry.box
            for predicted in analysis.predicted {
                let overlap = lastBox.intersectionOverUnion(predicted)
                if overlap > best {
                    best = overlap
                    entry.box = predicted
                }
            }
            // A fresh detection of the same thing replaces the kept box rather than doubling it.
            var replaced = false
            for detection in analysis.detections where detection.box.intersectionOverUnion(entry.box) > 0.3 {
                replaced = true
                break
            }
            if replaced { continue }
            persistent[kept] = entry
            kept &+= 1
        }
        persistent.removeLast(persistent.count - kept)
        for detection in analysis.detections {
            persistent.append(PersistentBox(box: detection.box, framesSinceSeen: 0))
        }
    }

    /// The box grown by `margin` of its width and height, half on each side, rounded outwards.
    func grown(_ box: DetectionBox, margin: Double) -> DetectionBox {
        let horizontal = (Double(box.width) * margin / 2).rounded(.up)
        let vertical = (Double(box.height) * margin / 2).rounded(.up)
        return DetectionBox(x: box.x - Int(horizontal), y: box.y - Int(vertical),
                            width: box.width + 2 * Int(horizontal), height: box.height + 2 * Int(vertical))
    }

    private func addBox(_ box: DetectionBox, width: Int, height: Int, mask: UnsafeMutableRawPointer) {
        let rectangle = PixelRectangle(left: box.x, top: box.y, right: box.x + box.width, bottom: box.y + box.height)
            .clamped(width: width, height: height)
        guard !rectangle.isEmpty else { return }
        fillRectangleMask(mask, width: width, height: height, stride: width, rectangle: rectangle)
        // Sized by the whole box, not its visible part, so a face half out of frame keeps big cells.
        let longer = max(box.width, box.height)
        regions.append((rectangle, max(2, (longer + Self.pixelateCellsAcross - 1) / Self.pixelateCellsAcross)))
    }

    /// Dilates the coarse foreground, scales it up into the luma mask, and returns the
    /// full-frame rectangle it covers.
    private func addForeground(_ foreground: ForegroundMask, width: Int, height: Int) -> PixelRectangle {
        let coarseWidth = foreground.width, coarseHeight = foreground.height
        guard coarseWidth > 0, coarseHeight > 0 else { return PixelRectangle(left: 0, top: 0, right: 0, bottom: 0) }
        coarseMask.reserve(coarseWidth * coarseHeight)
        coarseScratch.reserve(morphologyScratchCount(width: coarseWidth, height: coarseHeight))
        foreground.pixels.withUnsafeBytes { source in
            coarseMask.base.copyMemory(from: source.baseAddress!, byteCount: coarseWidth * coarseHeight)
        }
        for _ in 0..<configuration.foregroundDilation {
            dilate3x3(source: coarseMask.base, width: coarseWidth, height: coarseHeight, stride: coarseWidth,
                      destination: coarseMask.base, destinationStride: coarseWidth, scratch: coarseScratch.base)
        }
        var bounds = PixelRectangle(left: coarseWidth, top: coarseHeight, right: 0, bottom: 0)
        let coarse = coarseMask.base.assumingMemoryBound(to: UInt8.self)
        for row in 0..<coarseHeight {
            for column in 0..<coarseWidth where coarse[row * coarseWidth + column] != 0 {
                bounds.left = min(bounds.left, column)
                bounds.right = max(bounds.right, column + 1)
                bounds.top = min(bounds.top, row)
                bounds.bottom = max(bounds.bottom, row + 1)
            }
        }
        guard !bounds.isEmpty else { return PixelRectangle(left: 0, top: 0, right: 0, bottom: 0) }
        upscaleMask(source: coarseMask.base, sourceWidth: coarseWidth, sourceHeight: coarseHeight, sourceStride: coarseWidth,
                    factor: foreground.scale, destination: lumaMask.base, width: width, height: height, destinationStride: width)
        let scale = foreground.scale
        // The last coarse row and column stand for the strip a floor-division downscale dropped.
        return PixelRectangle(left: bounds.left * scale, top: bounds.top * scale,
                              right: bounds.right == coarseWidth ? width : bounds.right * scale,
                              bottom: bounds.bottom == coarseHeight ? height : bounds.bottom * scale)
            .clamped(width: width, height: height)
    }

    private func prepareMasks(width: Int, height: Int) {
        if width != maskWidth || height != maskHeight {
            lumaMask.reserve(width * height)
            lumaMask.base.initializeMemory(as: UInt8.self, repeating: 0, count: width * height)
            let chromaCount = ((width + 1) / 2) * height
            chromaMask.reserve(chromaCount)
            chromaMask.base.initializeMemory(as: UInt8.self, repeating: 0, count: chromaCount)
            blurScratch.reserve(blurScratchCount(width: width, height: height))
            maskWidth = width
            maskHeight = height
        } else {
            // Only the last frame's regions were set; every set byte lies in one of them.
            for region in regions {
                let area = region.rectangle
                for row in area.top..<area.bottom {
                    (lumaMask.base + row * width + area.left).initializeMemory(as: UInt8.self, repeating: 0, count: area.width)
                }
            }
            // The chroma mask is only read where it was rewritten this frame, so it needs no clearing.
        }
        regions.removeAll(keepingCapacity: true)
    }

    // MARK: - Applying the method

    private func apply(to frame: borrowing Frame, masked: PixelRectangle) {
        guard !masked.isEmpty else { return }
        let width = frame.width, height = frame.height
        let chromaWidth = (width + 1) / 2
        var luma: SamplePlane
        // Two optional planes rather than an array: an array would be a malloc every frame.
        var chroma: (blue: SamplePlane, red: SamplePlane)? = nil
        var horizontal = 2, vertical = 2
        let first = frame.plane(0), firstBase = frame.planeBytes(0).baseAddress!
        switch frame.format {
        case .gray8, .mjpeg:
            luma = SamplePlane(base: firstBase, width: width, height: height, stride: first.stride)
        case .i420, .i422:
            luma = SamplePlane(base: firstBase, width: width, height: height, stride: first.stride)
            vertical = frame.format == .i420 ? 2 : 1
            let blue = frame.plane(1), red = frame.plane(2)
            chroma = (SamplePlane(base: frame.planeBytes(1).baseAddress!, width: blue.width, height: blue.height, stride: blue.stride),
                      SamplePlane(base: frame.planeBytes(2).baseAddress!, width: red.width, height: red.height, stride: red.stride))
        case .nv12:
            luma = SamplePlane(base: firstBase, width: width, height: height, stride: first.stride)
            let plane = frame.plane(1), base = frame.planeBytes(1).baseAddress!
            chroma = (SamplePlane(base: base, width: chromaWidth, height: plane.height, stride: plane.stride, step: 2),
                      SamplePlane(base: base + 1, width: chromaWidth, height: plane.height, stride: plane.stride, step: 2))
        case .yuyv:
            vertical = 1
            luma = SamplePlane(base: firstBase, width: width, height: height, stride: first.stride, step: 2)
            chroma = (SamplePlane(base: firstBase + 1, width: chromaWidth, height: height, stride: first.stride, step: 4),
                      SamplePlane(base: firstBase + 3, width: chromaWidth, height: height, stride: first.stride, step: 4))
        }
        let chromaStride = chromaWidth
        if chroma != nil {
            // Per region rather than over their bounding box: regions are few and small, and
            // each chroma sample depends only on the final luma mask, so overlaps are harmless.
            for region in regions {
                reduceMaskToChroma(luma: lumaMask.base, width: width, height: height, stride: width,
                                   horizontal: horizontal, vertical: vertical, lumaRegion: region.rectangle,
                                   chroma: chromaMask.base, chromaStride: chromaStride)
            }
        }
        let matching = configuration.method == .pixelate && Self.matchLevels
        if matching {
            levelScratch.reserve(256 * MemoryLayout<Int>.stride + levelMatchingScratchCount(width: masked.width, height: masked.height))
        }
        let histogram = levelScratch.base.assumingMemoryBound(to: Int.self)
        if matching {
            // The masked samples' levels before pixelation: what level matching gives back.
            histogram.update(repeating: 0, count: 256)
            addMaskedLevels(luma, region: masked, mask: lumaMask.base, maskStride: width, into: histogram)
        }
        for region in regions {
            applyMethod(luma, region: region.rectangle, size: region.size, mask: lumaMask.base, maskStride: width, isLuma: true)
            let chromaRegion = region.rectangle.subsampled(horizontal: horizontal, vertical: vertical)
            let chromaSize = max(1, (region.size + horizontal - 1) / horizontal)
            if let chroma {
                applyMethod(chroma.blue, region: chromaRegion, size: chromaSize, mask: chromaMask.base, maskStride: chromaStride)
                applyMethod(chroma.red, region: chromaRegion, size: chromaSize, mask: chromaMask.base, maskStride: chromaStride)
            }
        }
        if matching {
            matchMaskedLevels(luma, region: masked, mask: lumaMask.base, maskStride: width,
                              target: UnsafePointer(histogram), scratch: levelScratch.base + 256 * MemoryLayout<Int>.stride)
        }
    }

    /// `size` is the pixelation cell and, for blur, the radius: an eighth of a box's longer side.
    ///
    /// Luma cells are evened out with their nearly equal neighbours (`pixelateSmoothedMasked`),
    /// chroma cells are plain means: the evening out is there because luma cells on a plain
    /// surface made patterns face detectors fire on after histogram equalisation
    /// (docs/AUDIT.md), and colour plays no part in that.
    private func applyMethod(_ plane: SamplePlane, region: PixelRectangle, size: Int,
                             mask: UnsafeMutableRawPointer, maskStride: Int, isLuma: Bool = false) {
        switch configuration.method {
        case .fill:
            fillMasked(plane, region: region, mask: mask, maskStride: maskStride, value: Self.fillValue)
        case .pixelate where isLuma && Self.smoothPixelation:
            let area = region.clamped(width: plane.width, height: plane.height)
            blurScratch.reserve(smoothedPixelateScratchCount(width: area.width, height: area.height, cellSize: size))
            pixelateSmoothedMasked(plane, region: region, cellSize: size, mask: mask, maskStride: maskStride,
                                   scratch: blurScratch.base)
        case .pixelate:
            pixelateMasked(plane, region: region, cellSize: size, mask: mask, maskStride: maskStride)
        case .blur:
            // A radius past a few hundred adds nothing (regions are smaller), and a bogus box
            // from a detector must not reach the kernel's precondition.
            blurMasked(plane, region: region, radius: min(size, 255), quantisationStep: Self.blurQuantisationStep,
                       mask: mask, maskStride: maskStride, scratch: blurScratch.base)
        }
    }
}

/// A growable block of bytes owned by the redactor, reused from frame to frame so that the
/// steady state allocates nothing.
struct Buffer: ~Copyable {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int

    init(byteCount: Int = 64) {
        base = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 64), alignment: 64)
        capacity = max(byteCount, 64)
    }

    deinit { base.deallocate() }

    /// Makes room for at least `count` bytes; the old contents are not kept.
    mutating func reserve(_ count: Int) {
        guard count > capacity else { return }
        base.deallocate()
        base = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        capacity = count
    }
}
