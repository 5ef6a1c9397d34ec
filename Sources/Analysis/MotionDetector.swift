// Motion detection on the downscaled grey image: a running-average background, a threshold
// that follows the noise, a guard against global lighting changes, speckle cleaning, connected
// components with area filters and ignore masks, and frozen boxes that the background must not
// learn (a tracked person standing still stays foreground). The first stage of the budget.

import Frames

/// Settings of a `MotionDetector`. Fractions are of the analysed (downscaled) image.
public struct MotionConfiguration: Sendable {
    /// Weight of the current frame in the running-average background (0 ... 1). At 0.03 a
    /// change is half learned after about 23 frames.
    public var learningRate: Double = 0.03
    /// Rate for pixels that are foreground and changed since the previous frame, that is,
    /// where something is moving. Lower, so a slow walker does not half-fade while crossing
    /// and leave a trail behind. Foreground that holds still (a parked car, a ghost of someone
    /// who was there when the background was first learned) learns at `learningRate`, so it
    /// melts in about 60 frames at a contrast of 70 grey levels, unless it is frozen.
    public var foregroundLearningRate: Double = 0.01
    /// Threshold = `noiseMultiplier` x the noise spread (1.4826 x the median absolute difference
    /// from the background, which is the standard deviation for Gaussian noise)...
    public var noiseMultiplier: Double = 3.5
    /// ... but never below this many grey levels (a clean synthetic image has no noise at all)...
    public var minimumThreshold: Int = 12
    /// ... nor above this, so a busy frame does not blind the detector.
    public var maximumThreshold: Int = 60
    /// A frame where more than this fraction of pixels differs from the background is a global
    /// change (light switched on, clouds, auto-exposure), not motion.
    public var globalChangeFraction: Double = 0.4
    /// After a global change, frames during which the background learns at `relearningRate`, to
    /// absorb the part of the change that a single offset does not explain (gain, shadows).
    public var relearningFrames: Int = 8
    public var relearningRate: Double = 0.25
    /// Regions smaller or larger than these fractions of the image are dropped (and counted).
    public var minimumAreaFraction: Double = 0.0005
    public var maximumAreaFraction: Double = 0.5
    /// Rectangles (in analysed-image pixels) where motion is never reported.
    public var ignoreRectangles: [DetectionBox] = []

    public init() {}
}

/// One moving region, in the analysed (downscaled) image's pixels.
public struct MotionRegion: Equatable, Sendable {
    public var box: DetectionBox
    /// Foreground pixels in the region (not the box's area).
    public var area: Int

    public init(box: DetectionBox, area: Int) {
        self.box = box
        self.area = area
    }

    /// The box in full-frame pixels, for an image downscaled by `factor` (as `downscaleBox`
    /// makes it). Pixels of the partial block `downscaleBox` leaves out at the right and bottom
    /// edges are not covered; callers that mask should clamp to the frame, not shrink.
    public func fullFrameBox(factor: Int) -> DetectionBox {
        DetectionBox(x: box.x * factor, y: box.y * factor, width: box.width * factor, height: box.height * factor)
    }
}

/// A full-frame box in the pixels of the image downscaled by `factor`, rounded outwards so the
/// result covers every analysed pixel the box touches: for passing tracked boxes as `frozen`.
public func downscaledBox(_ box: DetectionBox, factor: Int) -> DetectionBox {
    precondition(factor >= 1)
    let left = box.x >= 0 ? box.x / factor : -((-box.x + factor - 1) / factor)
    let top = box.y >= 0 ? box.y / factor : -((-box.y + factor - 1) / factor)
    let rightEdge = box.x + box.width, bottomEdge = box.y + box.height
    let right = rightEdge >= 0 ? (rightEdge + factor - 1) / factor : -(-rightEdge / factor)
    let bottom = bottomEdge >= 0 ? (bottomEdge + factor - 1) / factor : -(-bottomEdge / factor)
    return DetectionBox(x: left, y: top, width: max(right - left, 0), height: max(bottom - top, 0))
}

/// The foreground of the last frame: 255 where a pixel moved, 0 elsewhere, `width` per row.
public struct MotionMask: Sendable {
    public let width: Int
    public let height: Int
    public let pixels: [UInt8]

    public subscript(x: Int, y: Int) -> Bool { pixels[y * width + x] != 0 }

    /// Foreground pixels inside `box` (clamped to the image).
    public func count(in box: DetectionBox) -> Int {
        let left = max(box.x, 0), right = min(box.x + box.width, width)
        let top = max(box.y, 0), bottom = min(box.y + box.height, height)
        guard right > left, bottom > top else { return 0 }
        var total = 0
        for row in top..<bottom {
            for column in left..<right where pixels[row * width + column] != 0 { total &+= 1 }
        }
        return total
    }
}

/// What one frame's motion analysis found.
///
/// The arrays share storage with the detector: drop the result (or copy what you need) before
/// the next `update`, or that update has to allocate fresh buffers.
public struct MotionResult: Sendable {
    /// Regions that passed the area filter, in raster order of their first pixel.
    public var regions: [MotionRegion]
    /// Fraction of the image that is foreground after cleaning and masking.
    public var changedFraction: Double
    /// This frame changed globally (lighting) and the background was compensated or re-learned.
    public var lightingChange: Bool
    /// The threshold used, in grey levels (follows the noise).
    public var threshold: Int
    public var foreground: MotionMask
}

/// Running totals since the detector was made.
public struct MotionCounters: Equatable, Sendable {
    public var frames: UInt64 = 0
    public var lightingChanges: UInt64 = 0
    /// Global changes a single brightness offset did not explain, so the background was reset
    /// (these are counted in `lightingChanges` too).
    public var backgroundResets: UInt64 = 0
    public var regionsReported: UInt64 = 0
    public var regionsFilteredBySize: UInt64 = 0
}

/// Q15 learning rates for the three kinds of pixel `MotionDetector.learn` tells apart.
private struct LearningRates {
    var background: Int32
    var still: Int32
    var moving: Int32
}

/// Motion detection for one camera. Not Sendable: it belongs to the camera's analysis task.
///
/// Works on a grey image of a fixed size (for example the 160x120 that `downscaleBox` makes of a
/// 640x480 frame). All buffers are allocated in `init`; `update` allocates nothing as long as
/// the caller does not keep the previous `MotionResult`.
public final class MotionDetector {
    public let width: Int
    public let height: Int
    public let configuration: MotionConfiguration
    public private(set) var counters = MotionCounters()

    private let pixelCount: Int
    // Background in 8.8 fixed point: sub-grey-level steps are what let a small learning rate
    // move the average at all.
    private let background: UnsafeMutablePointer<UInt16>
    // Signed difference of the current frame from the background, kept between the histogram
    // pass and the threshold pass so the image is read once.
    private let difference: UnsafeMutablePointer<Int16>
    // 255 where motion may be reported, 0 inside ignore rectangles or the ignore bitmap.
    private let allowed: UnsafeMutablePointer<UInt8>
    private var hasIgnoredPixels = false
    // 1 inside this frame's frozen boxes.
    private let frozenMap: UnsafeMutablePointer<UInt8>
    private let scratch: UnsafeMutablePointer<UInt8>
    // The previous frame, to tell moving foreground from foreground that holds still.
    private let previousImage: UnsafeMutablePointer<UInt8>
    // Histogram of signed differences, index difference + 255.
    private let histogram: UnsafeMutablePointer<Int32>
    private var foregroundPixels: [UInt8]
    private var regions: [MotionRegion]
    private let components: ConnectedComponents
    private let learningRate: Int32
    private let foregroundLearningRate: Int32
    // The last frame's threshold. The global-change test uses it rather than this frame's,
    // because a global change inflates this frame's noise estimate until nothing looks changed.
    // Nil until a frame has been compared with the background.
    private var previousThreshold: Int?
    private let relearningRate: Int32
    private var relearningLeft = 0
    private let minimumArea: Int
    private let maximumArea: Int

    public init(width: Int, height: Int, configuration: MotionConfiguration = MotionConfiguration()) {
        precondition(width > 0 && height > 0, "MotionDetector needs a non-empty image")
        self.width = width
        self.height = height
        self.configuration = configuration
        pixelCount = width * height
        background = .allocate(capacity: pixelCount)
        background.initialize(repeating: 0, count: pixelCount)
        difference = .allocate(capacity: pixelCount)
        difference.initialize(repeating: 0, count: pixelCount)
        allowed = .allocate(capacity: pixelCount)
        allowed.initialize(repeating: 255, count: pixelCount)
        frozenMap = .allocate(capacity: pixelCount)
        frozenMap.initialize(repeating: 0, count: pixelCount)
        scratch = .allocate(capacity: morphologyScratchCount(width: width, height: height))
        scratch.initialize(repeating: 0, count: morphologyScratchCount(width: width, height: height))
        previousImage = .allocate(capacity: pixelCount)
        previousImage.initialize(repeating: 0, count: pixelCount)
        histogram = .allocate(capacity: 511)
        histogram.initialize(repeating: 0, count: 511)
        foregroundPixels = [UInt8](repeating: 0, count: pixelCount)
        components = ConnectedComponents(maximumWidth: width, maximumHeight: height)
        regions = []
        regions.reserveCapacity((width + 1) / 2 * height + 1)
        learningRate = MotionDetector.fixedPointRate(configuration.learningRate)
        foregroundLearningRate = MotionDetector.fixedPointRate(configuration.foregroundLearningRate)
        relearningRate = MotionDetector.fixedPointRate(configuration.relearningRate)
        minimumArea = Int((configuration.minimumAreaFraction * Double(pixelCount)).rounded(.up))
        maximumArea = Int((configuration.maximumAreaFraction * Double(pixelCount)).rounded(.down))
        setIgnore(rectangles: configuration.ignoreRectangles)
    }

    deinit {
        background.deallocate()
        difference.deallocate()
        allowed.deallocate()
        frozenMap.deallocate()
        scratch.deallocate()
        previousImage.deallocate()
        histogram.deallocate()
    }

    /// Learning rates in Q15, so `difference x rate` of a full-scale 8.8 difference fits Int32.
    private static func fixedPointRate(_ rate: Double) -> Int32 {
        Int32((min(max(rate, 0), 1) * 32768).rounded())
    }

    /// Replaces the ignore mask (including the configuration's `ignoreRectangles`): `rectangles`
    /// (analysed-image pixels) plus, when given, a bitmap of `width * height` bytes where
    /// non-zero means "never report motion here".
    public func setIgnore(rectangles: [DetectionBox], bitmap: [UInt8]? = nil) {
        precondition(bitmap == nil || bitmap!.count == pixelCount, "the ignore bitmap must be width x height")
        allowed.update(repeating: 255, count: pixelCount)
        for rectangle in rectangles {
            fill(allowed, rectangle, with: 0)
        }
        if let bitmap {
            for index in 0..<pixelCount where bitmap[index] != 0 { allowed[index] = 0 }
        }
        hasIgnoredPixels = false
        for index in 0..<pixelCount where allowed[index] == 0 {
            hasIgnoredPixels = true
            break
        }
    }

    private func fill(_ plane: UnsafeMutablePointer<UInt8>, _ box: DetectionBox, with value: UInt8) {
        let left = max(box.x, 0), right = min(box.x + box.width, width)
        let top = max(box.y, 0), bottom = min(box.y + box.height, height)
        guard right > left, bottom > top else { return }
        for row in top..<bottom {
            (plane + row * width + left).update(repeating: value, count: right - left)
        }
    }

    /// The background as whole grey levels (for diagnostics and tests).
    public func backgroundImage() -> [UInt8] {
        var image = [UInt8](repeating: 0, count: pixelCount)
        for index in 0..<pixelCount { image[index] = UInt8(truncatingIfNeeded: (Int(background[index]) &+ 128) &>> 8) }
        return image
    }

    /// Analyses one frame and learns it into the background.
    /// - Parameters:
    ///   - image: `width` x `height` grey pixels, `stride` bytes per row.
    ///   - frozen: boxes (analysed-image pixels) of objects still being tracked; their pixels are
    ///     not learned, so a person who stops walking does not fade into the background.
    public func update(image: UnsafeRawPointer, stride: Int, frozen: [DetectionBox] = []) -> MotionResult {
        precondition(stride >= width)
        let input = image.assumingMemoryBound(to: UInt8.self)
        counters.frames &+= 1
        let hasFrozen = prepareFrozen(frozen)
        if counters.frames == 1 {
            // Nothing to compare the first frame with: it becomes the background.
            for row in 0..<height {
                let line = input + row * stride, backgroundLine = background + row * width
                for column in 0..<width { backgroundLine[column] = UInt16(line[column]) &<< 8 }
                (previousImage + row * width).update(from: line, count: width)
            }
            return finish(foregroundCount: clearForeground(), lightingChange: false, threshold: configuration.minimumThreshold)
        }

        computeDifferences(input, stride)
        var offset = 0
        var threshold = noiseThreshold(center: 0)
        var lightingChange = false
        var reset = false
        if let previousThreshold,
           Double(changedCount(center: 0, threshold: previousThreshold)) > configuration.globalChangeFraction * Double(pixelCount) {
            // Most of the frame changed at once. If it changed by a similar amount (a light, a
            // cloud), the median signed difference is that amount: compare against the
            // background shifted by it. If even then most pixels differ, nothing about the old
            // background is worth keeping. If the median did not move, the noise grew (sensor
            // gain, rain): the new threshold already covers it.
            let median = signedMedian()
            let compensatedThreshold = noiseThreshold(center: median)
            if Double(changedCount(center: median, threshold: compensatedThreshold)) > configuration.globalChangeFraction * Double(pixelCount) {
                reset = true
                counters.backgroundResets &+= 1
            }
            if reset || abs(median) >= previousThreshold {
                lightingChange = true
                counters.lightingChanges &+= 1
                offset = median
                threshold = compensatedThreshold
                relearningLeft = configuration.relearningFrames
            }
        }

        let foregroundCount: Int
        if reset {
            foregroundCount = clearForeground()
        } else {
            thresholdDifferences(center: offset, threshold: threshold)
            foregroundCount = cleanForeground()
        }
        learn(input, stride, offset: offset, reset: reset, hasFrozen: hasFrozen, threshold: threshold)
        previousThreshold = threshold
        return finish(foregroundCount: foregroundCount, lightingChange: lightingChange, threshold: threshold)
    }

    /// `update` for a tightly packed image (`stride == width`), as `AnalysisInputStage` holds it.
    public func update(image: [UInt8], frozen: [DetectionBox] = []) -> MotionResult {
        precondition(image.count >= pixelCount, "the image must hold width x height pixels")
        return image.withUnsafeBytes { update(image: $0.baseAddress!, stride: width, frozen: frozen) }
    }

    private func prepareFrozen(_ frozen: [DetectionBox]) -> Bool {
        guard !frozen.isEmpty else { return false }
        frozenMap.update(repeating: 0, count: pixelCount)
        for box in frozen { fill(frozenMap, box, with: 1) }
        return true
    }

    private func clearForeground() -> Int {
        foregroundPixels.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        return 0
    }

    /// Signed differences and their histogram in one pass over the image.
    private func computeDifferences(_ input: UnsafePointer<UInt8>, _ stride: Int) {
        histogram.update(repeating: 0, count: 511)
        for row in 0..<height {
            let line = input + row * stride
            let backgroundLine = background + row * width
            let differenceLine = difference + row * width
            for column in 0..<width {
                let value = Int(line[column]) &- ((Int(backgroundLine[column]) &+ 128) &>> 8)
                differenceLine[column] = Int16(truncatingIfNeeded: value)
                histogram[value &+ 255] &+= 1
            }
        }
    }

    /// Median of |difference - center|, from the histogram.
    private func medianAbsoluteDifference(center: Int) -> Int {
        let half = Int32((pixelCount + 1) / 2)
        var seen: Int32 = 0
        for distance in 0...510 {
            let upper = center + distance, lower = center - distance
            if upper >= -255 && upper <= 255 { seen &+= histogram[upper + 255] }
            if distance > 0 && lower >= -255 && lower <= 255 { seen &+= histogram[lower + 255] }
            if seen >= half { return distance }
        }
        return 510
    }

    private func signedMedian() -> Int {
        let half = Int32((pixelCount + 1) / 2)
        var seen: Int32 = 0
        for index in 0..<511 {
            seen &+= histogram[index]
            if seen >= half { return index - 255 }
        }
        return 255
    }

    private func noiseThreshold(center: Int) -> Int {
        let spread = 1.4826 * Double(medianAbsoluteDifference(center: center))
        let threshold = Int((configuration.noiseMultiplier * spread).rounded())
        return min(max(threshold, configuration.minimumThreshold), configuration.maximumThreshold)
    }

    /// Pixels with |difference - center| > threshold, from the histogram.
    private func changedCount(center: Int, threshold: Int) -> Int {
        var count = 0
        for index in 0..<511 where abs(index - 255 - center) > threshold { count &+= Int(histogram[index]) }
        return count
    }

    private func thresholdDifferences(center: Int, threshold: Int) {
        let center = Int16(center), threshold = Int16(threshold)
        let centerVector = SIMD16<Int16>(repeating: center), thresholdVector = SIMD16<Int16>(repeating: threshold)
        let on = SIMD16<Int16>(repeating: 255), off = SIMD16<Int16>(repeating: 0)
        foregroundPixels.withUnsafeMutableBufferPointer { buffer in
            let output = buffer.baseAddress!
            var index = 0
            while index &+ 16 <= pixelCount {
                let shifted = UnsafeRawPointer(difference + index).loadUnaligned(as: SIMD16<Int16>.self) &- centerVector
                let magnitude = pointwiseMax(shifted, SIMD16<Int16>() &- shifted)
                let value = off.replacing(with: on, where: magnitude .> thresholdVector)
                UnsafeMutableRawPointer(output + index).storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: value), as: SIMD16<UInt8>.self)
                index &+= 16
            }
            while index < pixelCount {
                output[index] = abs(difference[index] &- center) > threshold ? 255 : 0
                index &+= 1
            }
        }
    }

    /// Opening removes isolated pixels and thin lines of noise; closing then fills pinholes and
    /// one-pixel gaps so one walking person is one region. The ignore mask goes last so nothing
    /// the closing grows can leak into an ignored area. Returns the foreground pixel count.
    private func cleanForeground() -> Int {
        foregroundPixels.withUnsafeMutableBufferPointer { buffer in
            let mask = buffer.baseAddress!
            erode3x3(source: mask, width: width, height: height, stride: width, destination: mask, destinationStride: width, scratch: scratch)
            dilate3x3(source: mask, width: width, height: height, stride: width, destination: mask, destinationStride: width, scratch: scratch)
            dilate3x3(source: mask, width: width, height: height, stride: width, destination: mask, destinationStride: width, scratch: scratch)
            erode3x3(source: mask, width: width, height: height, stride: width, destination: mask, destinationStride: width, scratch: scratch)
            var count = 0
            if hasIgnoredPixels {
                for index in 0..<pixelCount {
                    let value = mask[index] & allowed[index]
                    mask[index] = value
                    count &+= Int(value & 1)
                }
            } else {
                for index in 0..<pixelCount { count &+= Int(mask[index] & 1) }
            }
            return count
        }
    }

    /// Running average towards the current frame. Foreground that changed since the previous
    /// frame (a mover) learns at the lower foreground rate so it leaves no trail; foreground
    /// that holds still learns at the normal rate so ghosts and parked objects melt. During
    /// warm-up the rate is at least 1 / frames seen (the plain mean) so the first frames do not
    /// haunt the background for long. After a global change the background first moves by the
    /// offset, then its background pixels learn fast for a while. Frozen pixels take only the
    /// offset: the light changed there too, the object did not.
    private func learn(_ input: UnsafePointer<UInt8>, _ stride: Int, offset: Int, reset: Bool, hasFrozen: Bool, threshold: Int) {
        let warmUpRate = Int32(32768 / Int(min(counters.frames, 32768)))
        // Three rates: background pixels, foreground that holds still, foreground that moves.
        var backgroundRate = max(learningRate, warmUpRate)
        var stillRate = backgroundRate
        var movingRate = max(foregroundLearningRate, warmUpRate)
        if relearningLeft > 0 {
            // What is still foreground right after a global change may be light the offset did
            // not explain, not a mover: let it go at the normal rate rather than linger. Only
            // the background proper learns fast, or a mover would leave a ghost.
            backgroundRate = max(backgroundRate, relearningRate)
            movingRate = max(movingRate, learningRate)
            relearningLeft -= 1
        }
        if reset {
            backgroundRate = 32768
            stillRate = 32768
            movingRate = 32768
        }
        let shift = Int32(offset) &<< 8
        let threshold = Int32(threshold), offset = Int32(offset)
        let rates = LearningRates(background: backgroundRate, still: stillRate, moving: movingRate)
        foregroundPixels.withUnsafeBufferPointer { foregroundBuffer in
            let foreground = foregroundBuffer.baseAddress!
            for row in 0..<height {
                let rowStart = row * width
                let line = input + row * stride
                var column = 0
                // Sixteen pixels per step, the same arithmetic as the scalar tail below.
                let shiftVector = SIMD16<Int32>(repeating: shift), offsetVector = SIMD16<Int32>(repeating: offset)
                let thresholdVector = SIMD16<Int32>(repeating: threshold), negativeThreshold = SIMD16<Int32>(repeating: -threshold)
                let zero = SIMD16<Int32>(), ceiling = SIMD16<Int32>(repeating: 65280), half = SIMD16<Int32>(repeating: 16384)
                let backgroundRates = SIMD16<Int32>(repeating: rates.background)
                let stillRates = SIMD16<Int32>(repeating: rates.still), movingRates = SIMD16<Int32>(repeating: rates.moving)
                while column &+ 16 <= width {
                    let index = rowStart &+ column
                    let value = SIMD16<Int32>(truncatingIfNeeded: UnsafeRawPointer(line + column).loadUnaligned(as: SIMD16<UInt8>.self))
                    let previousBytes = UnsafeRawPointer(previousImage + index).loadUnaligned(as: SIMD16<UInt8>.self)
                    let previous = SIMD16<Int32>(truncatingIfNeeded: previousBytes)
                    var shifted = SIMD16<Int32>(truncatingIfNeeded: UnsafeRawPointer(background + index).loadUnaligned(as: SIMD16<UInt16>.self)) &+ shiftVector
                    shifted.replace(with: zero, where: shifted .< zero)
                    shifted.replace(with: ceiling, where: shifted .> ceiling)
                    let change = value &- previous &- offsetVector
                    let moving = (change .> thresholdVector) .| (change .< negativeThreshold)
                    let isForeground = SIMD16<Int32>(truncatingIfNeeded: UnsafeRawPointer(foreground + index).loadUnaligned(as: SIMD16<UInt8>.self)) .!= zero
                    var pixelRates = backgroundRates
                    pixelRates.replace(with: stillRates, where: isForeground)
                    pixelRates.replace(with: movingRates, where: isForeground .& moving)
                    if hasFrozen {
                        let frozen = SIMD16<Int32>(truncatingIfNeeded: UnsafeRawPointer(frozenMap + index).loadUnaligned(as: SIMD16<UInt8>.self)) .!= zero
                        pixelRates.replace(with: zero, where: frozen)
                    }
                    let delta = (value &<< 8) &- shifted
                    let learned = shifted &+ ((delta &* pixelRates &+ half) &>> 15)
                    UnsafeMutableRawPointer(background + index).storeBytes(of: SIMD16<UInt16>(truncatingIfNeeded: learned), as: SIMD16<UInt16>.self)
                    UnsafeMutableRawPointer(previousImage + index).storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: value), as: SIMD16<UInt8>.self)
                    column &+= 16
                }
                while column < width {
                    let index = rowStart &+ column
                    let shifted = min(max(Int32(background[index]) &+ shift, 0), 65280)
                    let value = Int32(line[column])
                    // Compared with the previous frame as the offset would have lit it.
                    let change = value &- Int32(previousImage[index]) &- offset
                    let moving = change > threshold || change < -threshold
                    previousImage[index] = line[column]
                    var pixelRate = foreground[index] == 0 ? rates.background : (moving ? rates.moving : rates.still)
                    if hasFrozen && frozenMap[index] != 0 { pixelRate = 0 }
                    let delta = (value &<< 8) &- shifted
                    background[index] = UInt16(truncatingIfNeeded: shifted &+ ((delta &* pixelRate &+ 16384) &>> 15))
                    column &+= 1
                }
            }
        }
    }

    private func finish(foregroundCount: Int, lightingChange: Bool, threshold: Int) -> MotionResult {
        regions.removeAll(keepingCapacity: true)
        if foregroundCount > 0 {
            foregroundPixels.withUnsafeBytes { buffer in
                _ = components.label(mask: buffer.baseAddress!, width: width, height: height, stride: width)
            }
            for component in components.components {
                if component.area < minimumArea || component.area > maximumArea {
                    counters.regionsFilteredBySize &+= 1
                } else {
                    regions.append(MotionRegion(box: component.box, area: component.area))
                }
            }
            counters.regionsReported &+= UInt64(regions.count)
        }
        return MotionResult(
            regions: regions, changedFraction: Double(foregroundCount) / Double(pixelCount),
            lightingChange: lightingChange, threshold: threshold,
            foreground: MotionMask(width: width, height: height, pixels: foregroundPixels))
    }
}
