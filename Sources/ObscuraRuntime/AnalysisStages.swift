// The analysis stages, in the order DESIGN.md declares: motion on a 1/4 grey image, then the
// cascade detectors under the frame's remaining budget (moving regions first, the rest of the
// frame in rotation), then tracking and counting. They share one AnalysisContext, which holds
// what the redaction stage will need: detections, track predictions and unverified regions.

public import Analysis
public import Boards
import Foundation
public import Frames

/// What the analysis of the current frame found, passed from stage to stage.
public final class AnalysisContext {
    public let width: Int
    public let height: Int
    public let downscale = 4
    /// The 1/4 grey image motion works on, allocated once.
    var image: [UInt8]
    public internal(set) var imageWidth: Int
    public internal(set) var imageHeight: Int
    /// Moving regions in full-frame pixels.
    public internal(set) var motionRegions: [DetectionBox] = []
    public internal(set) var detections: [ScheduledDetection] = []
    /// Regions the detectors did not examine in time; redaction masks them (fail closed).
    public internal(set) var unverified: [DetectionBox] = []
    public internal(set) var unverifiedFraction = 1.0
    /// The motion foreground of the current frame (1/4 scale). Shares storage with the motion
    /// detector: the redaction step drops it after use so the next update need not copy it.
    public internal(set) var foreground: MotionMask?
    /// Sequence numbers of the frame each stage last finished, so the redaction step can tell a
    /// frame whose analysis ran in full from one a stage skipped (fail closed).
    public internal(set) var motionSequence: UInt64?
    public internal(set) var detectSequence: UInt64?
    /// Whether the motion foreground of the current frame was measured against a settled
    /// background model: false for the first `MotionStage.warmUpFrames` frames and as long after
    /// a reset (a sudden global change), when nothing is known to be empty scene.
    public internal(set) var backgroundReady = false
    /// Set by the tracking stage to the tracker, for predicted boxes (persistence).
    public internal(set) var tracker: Tracker?
    /// Closed counting intervals, oldest first.
    public internal(set) var intervals: [IntervalCounts] = []
    /// When the first frame of the run was captured, to report intervals as offsets.
    var firstCapture: ContinuousClock.Instant?

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        imageWidth = width / downscale
        imageHeight = height / downscale
        image = [UInt8](repeating: 0, count: max(1, imageWidth * imageHeight))
    }
}

/// A stage that is told, before each frame, how much of the board's per-frame budget is left.
public protocol BudgetedStage: PipelineStage {
    func setRemainingBudget(boardMilliseconds: Double)
}

/// A stage with per-interval results for the report.
public protocol IntervalReportingStage: PipelineStage {
    /// Closes the interval in progress (the run is ending) and returns every interval.
    func finishIntervals(at time: ContinuousClock.Instant) -> [IntervalCounts]
    var runStart: ContinuousClock.Instant? { get }
}

/// Downscales the luma plane by 4 and updates the background model. Regions of tracked objects
/// are kept out of the background so that a person standing still stays foreground.
public final class MotionStage: PipelineStage {
    public let name = "motion"
    public let workKind = WorkKind.pixelKernels
    let context: AnalysisContext
    let tracker: Tracker
    public let detector: MotionDetector
    private var frozen: [DetectionBox] = []
    private var dropped: UInt64 = 0
    /// Frames since the background model was started or reset (the first frame counts as 1).
    private var framesSinceReset = 0
    /// Frames after a start or reset before the background model is trusted to say what is
    /// empty scene: the first frame becomes the model whole (a person in it too), and someone
    /// walking slowly differs from it only at their edges for the first few frames.
    public static let warmUpFrames = 8

    init(context: AnalysisContext, tracker: Tracker) {
        self.context = context
        self.tracker = tracker
        detector = MotionDetector(width: context.imageWidth, height: context.imageHeight)
    }

    public func process(_ frame: consuming Frame) -> Frame? {
        let layout = frame.layout
        let step: Int
        switch layout.format {
        case .gray8, .i420, .i422, .nv12: step = 1
        case .yuyv: step = 2
        case .mjpeg: dropped &+= 1; return nil  // undecoded: fail closed
        }
        guard layout.width == context.width, layout.height == context.height else {
            dropped &+= 1
            return nil
        }
        let plane = layout.planes[0]
        let base = UnsafeRawPointer(frame.buffer.baseAddress + plane.offset)
        let width = context.imageWidth
        context.image.withUnsafeMutableBytes { destination in
            downscaleBox(source: base, width: layout.width, height: layout.height, stride: plane.stride, pixelStep: step,
                         factor: context.downscale, destination: destination.baseAddress!, destinationStride: width)
        }
        tracker.frozenBoxes(downscaledBy: context.downscale, into: &frozen)
        let resetsBefore = detector.counters.backgroundResets
        let result = context.image.withUnsafeBytes { bytes in
            detector.update(image: bytes.baseAddress!, stride: width, frozen: frozen)
        }
        if detector.counters.frames == 1 || detector.counters.backgroundResets != resetsBefore { framesSinceReset = 0 }
        framesSinceReset &+= 1
        context.backgroundReady = framesSinceReset > Self.warmUpFrames
        context.motionRegions.removeAll(keepingCapacity: true)
        for region in result.regions {
            context.motionRegions.append(region.fullFrameBox(factor: context.downscale))
        }
        context.foreground = result.foreground
        context.motionSequence = frame.sequence
        return frame
    }

    public var counters: [String: UInt64] {
        let counters = detector.counters
        return ["frames": counters.frames, "lighting_changes": counters.lightingChanges,
                "regions": counters.regionsReported, "regions_filtered": counters.regionsFilteredBySize,
                "dropped": dropped]
    }
}

/// Runs the cascades through the budget scheduler. On the emulated board the detectors run
/// `cascade` times slower than here, so the host gets that fraction of the remaining budget.
public final class DetectStage: BudgetedStage {
    public let name = "detect"
    public let workKind = WorkKind.cascade
    let context: AnalysisContext
    /// Nil when the config lists no detectors: then nothing can be verified and the whole
    /// frame is returned unverified (fail closed).
    public let scheduler: BudgetScheduler?
    let cascadeFactor: Double
    private var remainingBoardMilliseconds = 0.0
    private var framesWithoutDetectors: UInt64 = 0

    /// The scheduler's detectors, for whole-frame passes when there is no time limit.
    let detectors: [ScheduledDetector]
    /// Kept from frame to frame so that scheduling and whole-frame passes allocate nothing:
    /// the scheduler refills these arrays in place (their elements are copied into the context,
    /// never the arrays themselves, which would make the next frame copy them).
    private var scheduleResult = ScheduleResult()
    private var wholeFrameBoxes: [DetectionBox] = []
    private var wholeFramePasses: UInt64 = 0
    private var wholeFrameFailures: UInt64 = 0
    /// The histogram-equalised luma the detectors read, and its scratch (allocated once).
    let equalize: Bool
    private var equalized: UnsafeMutablePointer<UInt8>
    private var equalizedCapacity = 0
    private let histogram = UnsafeMutablePointer<Int>.allocate(capacity: 256)
    private let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)

    init(context: AnalysisContext, scheduler: BudgetScheduler?, detectors: [ScheduledDetector], cascadeFactor: Double,
         equalize: Bool) {
        self.context = context
        self.scheduler = scheduler
        self.detectors = detectors
        self.cascadeFactor = cascadeFactor
        self.equalize = equalize
        equalized = .allocate(capacity: 1)
    }

    deinit {
        equalized.deallocate()
        histogram.deallocate()
        table.deallocate()
    }

    /// The plane the detectors read: the luma itself, or its equalised copy. With `padding`, the
    /// copy has that many pixels more on every side, repeating the edge rows and columns, so a
    /// detector window can hang over the frame's edge: a face cut off by the edge (a forehead
    /// outside the frame) is then still found. Boxes found on it are `padding` off.
    private func detectorPlane(_ luma: GrayPlane, padding: Int = 0) -> GrayPlane {
        guard equalize || padding > 0, luma.width > 0, luma.height > 0 else { return luma }
        let width = luma.width + 2 * padding, height = luma.height + 2 * padding
        let needed = width * height
        if equalizedCapacity < needed {
            equalized.deallocate()
            equalized = .allocate(capacity: needed)
            equalizedCapacity = needed
        }
        let inner = equalized + padding * width + padding
        if equalize {
            equalizeHistogram(source: luma.base, width: luma.width, height: luma.height, stride: luma.stride,
                              destination: inner, destinationStride: width, histogram: histogram, table: table)
        } else {
            for row in 0..<luma.height { (inner + row * width).update(from: luma.base + row * luma.stride, count: luma.width) }
        }
        if padding > 0 {
            for row in 0..<luma.height {
                let line = inner + row * width
                (line - padding).update(repeating: line[0], count: padding)
                (line + luma.width).update(repeating: line[luma.width - 1], count: padding)
            }
            for row in 0..<padding {
                (equalized + row * width).update(from: equalized + padding * width, count: width)
                (equalized + (height - 1 - row) * width).update(from: equalized + (height - 1 - padding) * width, count: width)
            }
        }
        return GrayPlane(base: UnsafePointer(equalized), width: width, height: height, stride: width)
    }

    /// Padding for whole-frame passes: a sixteenth of the shorter side, at least 16 pixels.
    static func edgePadding(width: Int, height: Int) -> Int { max(16, min(width, height) / 16) }

    /// Mean unverified fraction over scheduled frames and whole-frame passes (which leave
    /// nothing unverified unless a detector failed).
    private func unverifiedMean(_ metrics: BudgetSchedulerMetrics) -> Double {
        let total = Double(metrics.frames) + Double(wholeFramePasses)
        guard total > 0 else { return 0 }
        return (metrics.meanUnverifiedFraction * Double(metrics.frames) + Double(wholeFrameFailures)) / total
    }

    /// With no time limit (offline redaction) every detector scans the whole frame at its full
    /// parameters, every scale, as OpenCV's detectMultiScale does (every window it evaluates,
    /// on its grid), plus the windows that hang `padding` pixels over the frame's edges
    /// (`DetectionParameters.edgePadding`): objects of any size anywhere, including faces the
    /// edge cuts off. A detector error leaves the whole frame unverified.
    private func detectWholeFrame(_ gray: GrayPlane, padding: Int, width: Int, height: Int) {
        context.detections.removeAll(keepingCapacity: true)
        context.unverified.removeAll(keepingCapacity: true)
        context.unverifiedFraction = 0
        wholeFramePasses &+= 1
        for entry in detectors {
            do {
                var parameters = entry.parameters
                parameters.edgePadding = padding
                try entry.detector.detect(gray, parameters: parameters, into: &wholeFrameBoxes)
                for box in wholeFrameBoxes {
                    // In frame pixels. A box may hang over the frame's edge; it is kept whole, so
                    // its margin and pixelation cells follow the whole face (the Redactor clips).
                    guard box.x < width, box.y < height, box.x + box.width > 0, box.y + box.height > 0 else { continue }
                    context.detections.append(ScheduledDetection(objectClass: entry.objectClass, box: box, source: .wholeFrame))
                }
            } catch {
                wholeFrameFailures &+= 1
                context.unverified.removeAll(keepingCapacity: true)
                context.unverified.append(DetectionBox(x: 0, y: 0, width: width, height: height))
                context.unverifiedFraction = 1
                return
            }
        }
    }

    public func setRemainingBudget(boardMilliseconds: Double) {
        remainingBoardMilliseconds = boardMilliseconds
    }

    public func process(_ frame: consuming Frame) -> Frame? {
        guard let scheduler else {
            framesWithoutDetectors &+= 1
            context.detections.removeAll(keepingCapacity: true)
            context.unverified.removeAll(keepingCapacity: true)
            context.unverified.append(DetectionBox(x: 0, y: 0, width: frame.width, height: frame.height))
            context.unverifiedFraction = 1
            context.detectSequence = frame.sequence
            return frame
        }
        let plane = frame.layout.planes[0]
        let step = frame.format == .yuyv ? 2 : 1
        // An infinite budget (offline redaction) lets every detector finish the whole frame.
        let budget: FrameBudget = remainingBoardMilliseconds.isInfinite
            ? .unlimited : .time(milliseconds: max(0, remainingBoardMilliseconds) / cascadeFactor)
        if step == 1 && remainingBoardMilliseconds.isInfinite {
            let gray = GrayPlane(base: UnsafePointer(frame.buffer.baseAddress.assumingMemoryBound(to: UInt8.self) + plane.offset),
                                 width: frame.width, height: frame.height, stride: plane.stride)
            let padding = Self.edgePadding(width: frame.width, height: frame.height)
            detectWholeFrame(detectorPlane(gray), padding: padding, width: frame.width, height: frame.height)
            context.detectSequence = frame.sequence
            return frame
        }
        if step == 1 {
            let gray = GrayPlane(base: UnsafePointer(frame.buffer.baseAddress.assumingMemoryBound(to: UInt8.self) + plane.offset),
                                 width: frame.width, height: frame.height, stride: plane.stride)
            // Padded as for whole-frame passes, so that tiles and regions at the frame's edge find
            // faces the edge cuts off.
            let padding = Self.edgePadding(width: frame.width, height: frame.height)
            scheduler.schedule(detectorPlane(gray, padding: padding), padding: padding, motionRegions: context.motionRegions,
                               budget: budget, into: &scheduleResult)
        } else {
            // Packed YUYV has no contiguous luma plane for the detectors: nothing is verified.
            scheduler.schedule(GrayPlane(base: UnsafePointer(bitPattern: 1)!, width: 0, height: 0, stride: 0),
                               motionRegions: context.motionRegions, budget: budget, into: &scheduleResult)
        }
        // Copied element by element: sharing the result's arrays would make the next frame copy them.
        context.detections.removeAll(keepingCapacity: true)
        context.detections.append(contentsOf: scheduleResult.detections)
        context.unverified.removeAll(keepingCapacity: true)
        context.unverified.append(contentsOf: scheduleResult.unverified)
        context.unverifiedFraction = scheduleResult.unverifiedFraction
        context.detectSequence = frame.sequence
        return frame
    }

    public var counters: [String: UInt64] {
        guard let scheduler else {
            return ["frames": framesWithoutDetectors, "unverified_permille_mean": framesWithoutDetectors > 0 ? 1000 : 0]
        }
        let metrics = scheduler.metrics
        return ["frames": UInt64(metrics.frames) + wholeFramePasses, "whole_frame_passes": wholeFramePasses,
                "whole_frame_failures": wholeFrameFailures, "deadline_misses": UInt64(metrics.deadlineMisses),
                "failed_frames": UInt64(metrics.failedFrames), "scales_skipped": UInt64(metrics.scalesSkipped),
                // Where the detectors' time went: moving regions (full parameters) and tiles.
                "work_units": UInt64(metrics.workUnitsUsed), "region_work_units": UInt64(metrics.regionWorkUnitsUsed),
                "region_pass_ms": metrics.regionPassNanoseconds / 1_000_000, "tile_pass_ms": metrics.tilePassNanoseconds / 1_000_000,
                "large_object_passes": UInt64(metrics.largeObjectPasses),
                "large_object_pass_ms": metrics.largeObjectPassNanoseconds / 1_000_000,
                "large_object_pass_missing": UInt64(metrics.largeObjectPassMissing),
                "unverified_permille_mean": UInt64((unverifiedMean(metrics) * 1000).rounded())]
    }
}

/// Associates detections and moving regions across frames and counts line crossings and zone
/// occupancy per interval. Track identities live only in memory and carry no appearance.
public final class TrackStage: IntervalReportingStage {
    public let name = "track"
    public let workKind = WorkKind.pixelKernels
    let context: AnalysisContext
    public let tracker: Tracker
    public let aggregator: CountAggregator
    private var observations: [Observation] = []
    public private(set) var runStart: ContinuousClock.Instant?

    init(context: AnalysisContext, tracker: Tracker, aggregator: CountAggregator) {
        self.context = context
        self.tracker = tracker
        self.aggregator = aggregator
        context.tracker = tracker
    }

    public func process(_ frame: consuming Frame) -> Frame? {
        if runStart == nil { runStart = frame.captureTime }
        observations.removeAll(keepingCapacity: true)
        for detection in context.detections {
            observations.append(Observation(box: detection.box, objectClass: detection.objectClass))
        }
        for region in context.motionRegions {
            observations.append(Observation(box: region, objectClass: .motion))
        }
        let tracks = tracker.update(observations, frameSequence: frame.sequence)
        if let closed = aggregator.observe(tracks, at: frame.captureTime) {
            context.intervals.append(closed)
        }
        return frame
    }

    public func finishIntervals(at time: ContinuousClock.Instant) -> [IntervalCounts] {
        let last = aggregator.closeInterval(at: time)
        if last.frames > 0 { context.intervals.append(last) }
        return context.intervals
    }

    public var counters: [String: UInt64] {
        let counters = tracker.counters
        return ["tracks_started": counters.tracksStarted, "tracks_ended": counters.tracksEnded,
                "tracks_confirmed": counters.tracksConfirmed]
    }
}

/// Errors setting up analysis: a cascade that is missing or not a cascade.
public enum AnalysisSetupError: Error, CustomStringConvertible {
    case cascade(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cascade(path, reason): "detector cascade \(path): \(reason)"
        }
    }
}

/// Builds the three analysis stages for a frame size, and the context they fill in for the
/// redaction step.
func makeAnalysisStages(settings: AnalysisSettings, width: Int, height: Int, board: BoardProfile)
    throws(AnalysisSetupError) -> (stages: [any PipelineStage], context: AnalysisContext) {
    let context = AnalysisContext(width: width, height: height)
    let tracker = Tracker()
    var detectors: [ScheduledDetector] = []
    for setting in settings.detectors {
        let path = setting.cascade.hasPrefix("/") ? setting.cascade : settings.cascadesDirectory + "/" + setting.cascade
        let classifier: CascadeClassifier
        do { classifier = try CascadeClassifier.load(path: path) } catch {
            throw .cascade(path: path, reason: "\(error)")
        }
        let parameters = DetectionParameters(
            scaleFactor: setting.scaleFactor, minNeighbors: setting.minNeighbors,
            minSize: DetectionSize(width: setting.minWidth, height: setting.minHeight))
        let cascade = CascadeDetector(classifier: classifier)
        if setting.mirrored {
            detectors.append(ScheduledDetector(
                objectClass: setting.objectClass, regionDetector: MirroredDetector(cascade), parameters: parameters,
                coarseParameters: ScheduledDetector.coarsened(parameters, windowWidth: classifier.windowWidth,
                                                              windowHeight: classifier.windowHeight)))
        } else {
            detectors.append(ScheduledDetector(objectClass: setting.objectClass, detector: cascade, parameters: parameters))
        }
    }
    var scheduler: BudgetScheduler?
    if !detectors.isEmpty {
        var configuration = BudgetSchedulerConfiguration()
        configuration.examinedMotionKeepsTilesVerified = settings.trustExaminedMotion
        // A tile is scanned with this much of its neighbours on every side, so every object up to
        // twice this size lies whole inside some tile's scan wherever it stands; larger ones are
        // the large-object pass's (BudgetSchedulerConfiguration.largeObjectPass). Two fifths of
        // the tile's shorter side, 64 pixels at 640x480. Measured on the sample footage at 30 fps
        // (two runs each), tiles and large-object pass together took 7.4-8.3 ms a frame with 64,
        // 9.5-10.2 with 80 (half a tile), and 6.4-7.8 with 48, where the larger pass (about
        // 10 ms) sometimes did not fit in the budget and left the whole frame masked.
        let tileWidth = width / max(configuration.tileColumns, 1), tileHeight = height / max(configuration.tileRows, 1)
        configuration.tileOverlap = max(configuration.tileOverlap, 2 * min(tileWidth, tileHeight) / 5)
        do { scheduler = try BudgetScheduler(detectors: detectors, configuration: configuration) } catch {
            throw .cascade(path: settings.cascadesDirectory, reason: "\(error)")
        }
    }
    let aggregator = CountAggregator(
        lines: settings.lines.map { CountingLine(name: $0.name, from: $0.from, to: $0.to) },
        zones: settings.zones.map { CountingZone(name: $0.name, polygon: $0.polygon) },
        configuration: CountingConfiguration(intervalSeconds: settings.countIntervalSeconds))
    let stages: [any PipelineStage] = [
        MotionStage(context: context, tracker: tracker),
        DetectStage(context: context, scheduler: scheduler, detectors: detectors, cascadeFactor: board.costFactors.cascade,
                    equalize: settings.equalizeHistogram),
        TrackStage(context: context, tracker: tracker, aggregator: aggregator),
    ]
    return (stages, context)
}
