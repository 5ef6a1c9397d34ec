// The vocabulary of the budget scheduler: what a frame's budget is, what a detector must offer to
// be scheduled (its cost in work units, and a detection pass over a region), how the scheduler is
// configured, and what it returns for one frame (detections, unverified regions, metrics).
//
// The scheduler itself is in BudgetScheduler.swift; rectangle helpers in BudgetGeometry.swift.
// Classes are the tracker's `ObjectClass`, so that detections feed the tracker unconverted.

/// How much one frame may spend on detection.
public enum FrameBudget: Sendable, Equatable {
    /// Wall time measured with `ContinuousClock`, from the frame's start (see `schedule`).
    case time(milliseconds: Double)
    /// A fixed count of work units (see `RegionDetector.passCost`): deterministic, for tests and
    /// for comparing schedules independently of the machine.
    case workUnits(Int)
    /// No limit: every planned pass runs.
    case unlimited
}

/// The cost of one detector pass over a region, known before the pass runs.
public struct DetectorPassCost: Equatable, Hashable, Sendable {
    /// Work units the pass spends. For `CascadeDetector` one unit is one candidate window: one
    /// window position at one scale, on the grid the detector scans (every other row and column
    /// below scale 2, every one from 2 up), summed over the scales the parameters select.
    public var workUnits: Int
    /// Scales the pass scans; 0 means the detector cannot examine a region of that size at all.
    public var scales: Int

    public init(workUnits: Int, scales: Int) {
        self.workUnits = workUnits
        self.scales = scales
    }
}

/// A detector the scheduler can run on part of a frame. `CascadeDetector` is one; tests use fakes
/// to script costs and failures.
public protocol RegionDetector: AnyObject {
    /// What a pass over a `width` x `height` region with `parameters` will cost, without running it.
    func passCost(width: Int, height: Int, parameters: DetectionParameters) -> DetectorPassCost
    /// Boxes found in `image`, in its own pixels. A throw makes the scheduler fail the frame closed.
    func detect(_ image: GrayPlane, parameters: DetectionParameters) throws -> [DetectionBox]
    /// As `detect(_:parameters:)`, into `boxes` (emptied first); the scheduler calls this one, with
    /// an array it keeps, so that a detector that writes in place allocates nothing per pass.
    func detect(_ image: GrayPlane, parameters: DetectionParameters, into boxes: inout [DetectionBox]) throws
    /// Called once the frame size is known (and again when it changes), so that a detector can
    /// size its buffers for the largest region it will be given.
    func reserve(width: Int, height: Int)
}

extension RegionDetector {
    public func detect(_ image: GrayPlane, parameters: DetectionParameters, into boxes: inout [DetectionBox]) throws {
        boxes = try detect(image, parameters: parameters)
    }

    public func reserve(width: Int, height: Int) {}
}

extension CascadeDetector: RegionDetector {
    /// Counts the windows `detect` will evaluate, scale by scale, with the same scale list and
    /// the same rounding of the scaled image size as the scan itself.
    public func passCost(width: Int, height: Int, parameters: DetectionParameters) -> DetectorPassCost {
        let windowWidth = classifier.windowWidth, windowHeight = classifier.windowHeight
        var units = 0
        var count = 0
        let edge = Self.edgePadding(parameters, width: width, height: height)
        collectScales(imageWidth: width + 2 * edge, imageHeight: height + 2 * edge, parameters: parameters)
        for scale in chosenScales {
            let scaledWidth = Int((Float(width) / scale).rounded(.toNearestOrEven))
            let scaledHeight = Int((Float(height) / scale).rounded(.toNearestOrEven))
            let step = scale >= 2 ? 1 : 2
            guard scaledWidth > 0, scaledHeight > 0 else { continue }  // not scanned (see collectCandidates)
            let pad = scalePadding(edge: edge, scale: scale, step: step)
            var columnRange = 0..<max(scaledWidth + 2 * pad + 1 - windowWidth, 0)
            var rowRange = 0..<max(scaledHeight + 2 * pad + 1 - windowHeight, 0)
            if let centres = parameters.windowCentres {
                columnRange = centredWindowPositions(lower: centres.x, upper: centres.x + centres.width, window: windowWidth,
                                                     scale: scale, step: step, pad: pad, end: columnRange.upperBound)
                rowRange = centredWindowPositions(lower: centres.y, upper: centres.y + centres.height, window: windowHeight,
                                                  scale: scale, step: step, pad: pad, end: rowRange.upperBound)
            }
            let columns = (columnRange.count + step - 1) / step
            let rows = (rowRange.count + step - 1) / step
            units += columns * rows
            count += 1
        }
        return DetectorPassCost(workUnits: units, scales: count)
    }
}

/// One detector as the scheduler runs it.
public struct ScheduledDetector {
    public var objectClass: ObjectClass
    public var detector: any RegionDetector
    /// Parameters for moving regions, where objects of every size matter.
    public var parameters: DetectionParameters
    /// Parameters for the rest of the frame: fewer, larger scales, because the budget goes to
    /// what moved first and the static background is re-scanned often anyway.
    public var coarseParameters: DetectionParameters

    /// `coarseParameters` default to `coarsened(parameters, windowWidth:windowHeight:)` for a
    /// cascade, so that the same detector serves both stages.
    public init(objectClass: ObjectClass, detector: CascadeDetector, parameters: DetectionParameters,
                coarseParameters: DetectionParameters? = nil) {
        self.init(objectClass: objectClass, regionDetector: detector, parameters: parameters,
                  coarseParameters: coarseParameters ?? ScheduledDetector.coarsened(
                      parameters, windowWidth: detector.classifier.windowWidth,
                      windowHeight: detector.classifier.windowHeight))
    }

    public init(objectClass: ObjectClass, regionDetector: any RegionDetector, parameters: DetectionParameters,
                coarseParameters: DetectionParameters) {
        self.objectClass = objectClass
        self.detector = regionDetector
        self.parameters = parameters
        self.coarseParameters = coarseParameters
    }

    /// The parameters of the large-object pass: `coarseParameters` with the smallest window
    /// raised, keeping its shape, until its longer side is at least `longerSide` pixels.
    public func largeObjectParameters(longerSide: Int) -> DetectionParameters {
        var large = coarseParameters
        let width = large.minSize.width, height = large.minSize.height
        guard width > 0, height > 0 else {
            large.minSize = DetectionSize(width: max(width, longerSide), height: max(height, longerSide))
            return large
        }
        let longer = max(width, height)
        guard longer < longerSide else { return large }
        // Rounded up, so that the window's longer side reaches `longerSide` (never falls short).
        large.minSize = DetectionSize(width: (width * longerSide + longer - 1) / longer,
                                      height: (height * longerSide + longer - 1) / longer)
        return large
    }

    /// The default coarse parameters: a scale factor of at least 1.2 and no window smaller than
    /// twice the cascade's own, which together cut a full-frame pass to roughly a fifth of its
    /// windows (the smallest scales hold most of them).
    public static func coarsened(_ parameters: DetectionParameters, windowWidth: Int, windowHeight: Int) -> DetectionParameters {
        var coarse = parameters
        coarse.scaleFactor = max(parameters.scaleFactor, 1.2)
        coarse.minSize = DetectionSize(width: max(parameters.minSize.width, 2 * windowWidth),
                                       height: max(parameters.minSize.height, 2 * windowHeight))
        return coarse
    }
}

/// How the scheduler divides its work; the defaults suit 640x480 at 15 fps.
public struct BudgetSchedulerConfiguration: Sendable, Equatable {
    /// Each moving region grows by this fraction of its own width (each side, horizontally) and
    /// height (vertically) before detection: motion masks cover what changed, which is often
    /// only part of the object (an arm, the legs), and a cascade needs the whole object in view.
    public var regionMarginFraction: Double = 0.25
    /// The smallest margin in pixels, so that small blobs still grow to a detectable window.
    public var minimumRegionMargin: Int = 16
    /// The grid that the rest of the frame is split into for rotating coarse scans.
    public var tileColumns: Int = 4
    public var tileRows: Int = 3
    /// Each tile is scanned together with this many pixels of its neighbours on every side, so
    /// that an object lying across a tile border is whole in at least one scan.
    public var tileOverlap: Int = 32
    /// On (the default): one more coarse pass over the whole frame, at the scales no tile scan can
    /// hold. An object whose width or height is over twice `tileOverlap` may lie whole inside no
    /// tile's scan, so without this pass the tiles would vouch for it unseen wherever it did not
    /// move. The pass starts at windows whose longer side is `2 * tileOverlap` divided by the
    /// coarse scale factor, so its sizes overlap the tiles' by one scale step, and it costs little
    /// (on 640x480 with the default detectors and 80 pixels of overlap, about 3 ms). Its scan
    /// vouches for the whole frame like a tile's for its tile, expires and is voided by motion
    /// the same way, is refreshed in the frame before it expires, and runs before any tile;
    /// while it is not valid, the whole frame is unverified.
    public var largeObjectPass = true
    /// On (the default): a tile's scan evaluates only the windows centred in the tile (and within
    /// `DetectionParameters.centreMarginFraction` of a window around it), not every window of its
    /// grown scan area. An object is the business of the tile its centre lies in: it fits whole
    /// in that tile's scan area (up to twice `tileOverlap`), and its raw hits all lie within the
    /// margin, so it is found as before; windows centred in a neighbour are that neighbour's.
    /// The overlap is then read, not scanned, by the smallest windows, which are most of a
    /// tile's cost. Off: every window of the scan area, as before.
    public var centredTileWindows = true
    /// Tiles that are still verified are re-scanned, oldest first, at the rate that renews every
    /// tile once per `verificationLifetimeFrames` (scans of unverified tiles count toward it), and
    /// at most this many per frame; tiles that are not verified are always attempted while the
    /// budget lasts.
    public var tilesPerFrame: Int = 2
    /// A tile scan vouches for the tile during this many frames (the frame of the scan counts as
    /// the first), provided no motion touches the tile in the meantime.
    public var verificationLifetimeFrames: Int = 8
    /// Off (the default): any motion in a tile voids its scan, so every tile a walker crosses is
    /// re-scanned each frame, on top of the walker's own region passes; on the sample footage
    /// that is over half of a full-coverage frame's work. On: motion voids the scan only when a
    /// moving region touching the tile was not examined by every detector in its frame; the
    /// moving parts were examined at full parameters, the rest of the tile did not change, and
    /// the scan still expires after `verificationLifetimeFrames`. The cost: an object that walks
    /// in and then stops producing motion while something else in the tile keeps moving is
    /// re-examined only when the tile's scan expires, instead of at once.
    public var examinedMotionKeepsTilesVerified = false
    /// Time mode starts each detector with this cost per work unit and then learns its own.
    /// About what the frontal-face cascade costs per window on a small ARM board; erring high
    /// means early frames skip passes (more masking) rather than overrun.
    public var initialNanosecondsPerWorkUnit: Double = 300

    public init() {}
}

/// Why a whole frame was returned unverified.
public enum ScheduleFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The plane has no pixels, or a motion region has a negative size.
    case malformedInput(String)
    /// A detector threw during a pass.
    case detectorFailed(objectClass: ObjectClass, reason: String)

    public var description: String {
        switch self {
        case let .malformedInput(reason): "malformed input: \(reason)"
        case let .detectorFailed(objectClass, reason): "\(objectClass) detector failed: \(reason)"
        }
    }
}

/// Where in the schedule a detection came from.
public enum DetectionSource: Sendable, Hashable {
    /// A pass over a moving region; the box is the region as examined (grown and clamped).
    case movingRegion(DetectionBox)
    /// A coarse pass over the tile with this index in `BudgetScheduler.tiles`.
    case tile(Int)
    /// A pass over the whole frame: the scheduler's large-object pass, or any pass when the time
    /// is not limited.
    case wholeFrame
}

/// One object found, in full-frame pixels.
public struct ScheduledDetection: Sendable, Hashable, CustomStringConvertible {
    public var objectClass: ObjectClass
    public var box: DetectionBox
    public var source: DetectionSource

    public init(objectClass: ObjectClass, box: DetectionBox, source: DetectionSource) {
        self.objectClass = objectClass
        self.box = box
        self.source = source
    }

    public var description: String { "\(objectClass) \(box)" }
}

/// What the scheduler knows about one frame.
public struct ScheduleResult: Sendable, Equatable {
    /// Objects found, moving regions first (largest region first), then tiles. Overlapping passes
    /// can report the same object twice; the redaction stage masks the union either way.
    public var detections: [ScheduledDetection]
    /// Regions that must be masked because nothing vouches for them: moving regions not fully
    /// examined this frame (as grown and clamped, largest first), then tiles not verified (in
    /// tile order). The whole frame on failure.
    public var unverified: [DetectionBox]
    /// The area of the union of `unverified` over the frame's area (1 when the frame is empty).
    public var unverifiedFraction: Double
    /// Time mode: the frame ended after its deadline. Never set in work-unit mode, where a pass
    /// that would overrun is not started.
    public var deadlineMissed: Bool
    /// Scales of planned passes that were not run for lack of budget.
    public var scalesSkipped: Int
    /// Work units of the passes that ran, in either mode.
    public var workUsed: Int
    /// The part of `workUsed` spent on moving regions (the rest went to tiles).
    public var regionWorkUsed: Int
    /// Wall time from the frame's start to the result.
    public var elapsed: Duration
    /// Set when the whole frame was failed closed.
    public var failure: ScheduleFailure?

    /// An empty result (the whole of an empty frame unverified), to pass to
    /// `BudgetScheduler.schedule(_:motionRegions:budget:startedAt:into:)` and keep.
    public init() {
        detections = []
        unverified = []
        unverifiedFraction = 1
        deadlineMissed = false
        scalesSkipped = 0
        workUsed = 0
        regionWorkUsed = 0
        elapsed = .zero
        failure = nil
    }

    /// Empties the arrays (keeping their capacity) and clears the figures.
    mutating func reset() {
        detections.removeAll(keepingCapacity: true)
        unverified.removeAll(keepingCapacity: true)
        unverifiedFraction = 1
        deadlineMissed = false
        scalesSkipped = 0
        workUsed = 0
        regionWorkUsed = 0
        elapsed = .zero
        failure = nil
    }
}

/// Counters over the scheduler's life. Latency histograms live in the pipeline, which times
/// every stage the same way.
public struct BudgetSchedulerMetrics: Sendable, Equatable {
    public var frames = 0
    public var deadlineMisses = 0
    /// Frames returned wholly unverified because of malformed input or a detector failure.
    public var failedFrames = 0
    /// Sum of every frame's `unverifiedFraction`, for the mean.
    public var unverifiedFractionTotal = 0.0
    public var scalesSkipped = 0
    public var workUnitsUsed = 0
    /// Where the work went: the part of `workUnitsUsed` spent on moving regions, and the host
    /// time of the passes over moving regions and over tiles (the detectors alone, without the
    /// scheduler's bookkeeping).
    public var regionWorkUnitsUsed = 0
    public var regionPassNanoseconds: UInt64 = 0
    public var tilePassNanoseconds: UInt64 = 0
    /// The large-object pass (`BudgetSchedulerConfiguration.largeObjectPass`): how often it ran
    /// to the end, its host time, and the frames left wholly unverified because it was not valid.
    public var largeObjectPasses = 0
    public var largeObjectPassNanoseconds: UInt64 = 0
    public var largeObjectPassMissing = 0

    public init() {}

    public var meanUnverifiedFraction: Double { frames > 0 ? unverifiedFractionTotal / Double(frames) : 0 }
}
