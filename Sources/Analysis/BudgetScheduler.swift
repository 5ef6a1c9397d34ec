// The budget scheduler: spends one frame's detection budget in the order DESIGN.md declares and
// returns, with the detections, every region nothing vouches for, so that the redaction stage
// masks it (invariant 3, fail closed).
//
// Order within a frame (motion has already run in the caller, which passes its regions in):
//   1. Moving regions, grown by a margin, clamped, merged where they overlap, largest first; every
//      detector on each region at its full parameters. A region any detector did not finish is
//      unverified.
//   2. The rest of the frame as a grid of tiles at coarse parameters: first every tile that is
//      not verified (oldest scan first), then verified ones (oldest first) at the rate that renews
//      each tile once per lifetime, to refresh them before they expire. Oldest-first is a round
//      robin that also puts stale and disturbed tiles ahead of fresh ones.
//   Before the tiles, when its scan is invalid or about to expire: the large-object pass, one
//      coarse pass over the whole frame at the scales too large for any tile's scan
//      (`largeObjectPass`). While it is not valid the whole frame is unverified.
// A pass that would not fit in what is left of the budget is not started (in time mode, by the
// detector's learned cost per work unit), and later, smaller passes may still run.
//
// A tile is verified when it was scanned within the last `verificationLifetimeFrames` frames and
// no motion has touched it since that scan. A verified scan vouches for what it found as much as
// for what it did not: its detections are reported again in every frame in which the scan is
// still valid (source `.tile`, or `.wholeFrame` for the large-object pass), so that an object
// found by a scan stays masked until the next one, not only in the scan's own frame. Motion invalidates the tile even where the moving
// region itself was examined: an object can walk in, stop, and stop producing motion, and the
// old scan never saw it. Moving regions are verified only by this frame's own region passes,
// never by a tile scan (coarse scales) and never by an earlier frame.

/// Runs detectors over a frame within a budget. Keeps per-tile history across frames, so use one
/// scheduler per camera stream. Not thread-safe, like the detectors it owns.
public final class BudgetScheduler {
    public let configuration: BudgetSchedulerConfiguration
    public private(set) var metrics = BudgetSchedulerMetrics()
    /// The tile grid for the current frame size (empty before the first frame).
    public private(set) var tiles: [DetectionBox] = []

    private var detectors: [ScheduledDetector]
    /// Time mode's learned cost per work unit, per detector, at `index * 2 + stage` (0 for moving
    /// regions, 1 for tiles). Kept apart because the two stages scan different scale ranges: below
    /// scale 2 the cascade visits every other window and a window costs about twice what it costs
    /// at the coarse scales (measured here with the frontal-face cascade: about 190 against 100 ns).
    private var nanosecondsPerWorkUnit: [Double]
    private let clock = ContinuousClock()
    /// Passes of at least this many work units teach the cost estimate at full weight; smaller
    /// ones in proportion (see `runPass`).
    static let fullWeightWorkUnits = 4096.0
    /// The index of the frame being scheduled; the first frame is 0.
    private var frameIndex = -1
    private var gridWidth = -1
    private var gridHeight = -1
    /// The current frame: the camera's size, and the padding around it in the plane (see `schedule`).
    private var cameraWidth = 0
    private var cameraHeight = 0
    private var canvasPadding = 0
    /// Per tile: the frame of its last complete scan, and of the last motion touching it.
    private var lastScanFrame: [Int] = []
    private var lastMotionFrame: [Int] = []
    /// Per tile: every moving region that touched it since its last scan was examined by every
    /// detector in its own frame (see `examinedMotionKeepsTilesVerified`).
    private var motionExaminedSinceScan: [Bool] = []
    private var regionsExaminedInTile: [Bool] = []
    // Working arrays, kept with their capacity from frame to frame.
    private var regions: [DetectionBox] = []
    private var tileOrder: [Int] = []
    private var verifiedTiles: [Int] = []
    private var scannedThisFrame: [Int] = []
    /// Where each of `scannedThisFrame`'s detections lie in this frame's result.
    private var scannedRanges: [Range<Int>] = []
    /// Per tile, what its last complete scan found; and the large-object pass's.
    private var tileFindings: [[ScheduledDetection]] = []
    private var largeFindings: [ScheduledDetection] = []
    private var passBoxes: [DetectionBox] = []
    /// Per detector, the parameters of its tile scans (`coarseParameters`, capped in size when
    /// the large-object pass takes the larger objects).
    private var tileParameters: [DetectionParameters] = []
    private var unionArea = BudgetGeometry.UnionArea()
    /// Tile scans owed to the refresh rate (see `fillTileOrder`).
    private var refreshCredit = 0.0
    /// The large-object pass's scan, kept like a tile's: the frame of its last complete scan, of
    /// the last motion, and whether every moving region since that scan was examined.
    private var largeScanFrame = -1
    private var largeMotionFrame = -1
    private var largeMotionExamined = false

    /// Throws `BudgetSchedulerError` for a configuration that could never verify anything, so
    /// that a mistake shows at start-up instead of as a fully masked stream.
    public init(detectors: [ScheduledDetector], configuration: BudgetSchedulerConfiguration = BudgetSchedulerConfiguration()) throws(BudgetSchedulerError) {
        guard !detectors.isEmpty else { throw .invalidConfiguration("no detectors") }
        for entry in detectors {
            for parameters in [entry.parameters, entry.coarseParameters] {
                guard parameters.scaleFactor > 1, parameters.scaleFactor.isFinite else {
                    throw .invalidConfiguration("\(entry.objectClass): scale factor \(parameters.scaleFactor) must be a finite number above 1")
                }
                guard parameters.minNeighbors >= 0 else {
                    throw .invalidConfiguration("\(entry.objectClass): minNeighbors \(parameters.minNeighbors) must not be negative")
                }
            }
        }
        guard configuration.tileColumns > 0, configuration.tileRows > 0 else {
            throw .invalidConfiguration("the tile grid \(configuration.tileColumns)x\(configuration.tileRows) must have at least one tile")
        }
        guard configuration.tilesPerFrame >= 0, configuration.tileOverlap >= 0, configuration.minimumRegionMargin >= 0,
              configuration.regionMarginFraction >= 0, configuration.regionMarginFraction.isFinite else {
            throw .invalidConfiguration("tilesPerFrame, tileOverlap and the region margins must not be negative")
        }
        guard configuration.verificationLifetimeFrames >= 1 else {
            throw .invalidConfiguration("verificationLifetimeFrames must be at least 1 (the frame of the scan)")
        }
        guard configuration.initialNanosecondsPerWorkUnit > 0, configuration.initialNanosecondsPerWorkUnit.isFinite else {
            throw .invalidConfiguration("initialNanosecondsPerWorkUnit must be a positive number")
        }
        self.detectors = detectors
        self.configuration = configuration
        nanosecondsPerWorkUnit = Array(repeating: configuration.initialNanosecondsPerWorkUnit, count: 2 * detectors.count)
    }

    /// Schedules one frame. `frame` is the full-resolution grey (Y) plane; `motionRegions` are in
    /// its pixels; `startedAt` is when the frame's budget began (default: now), so that time the
    /// caller already spent on motion counts against a time budget.
    ///
    /// `frame` may carry `padding` pixels more on every side than the camera's frame (its edge
    /// rows and columns repeated), so that detector windows can hang over the edge and a face cut
    /// off by it is still found. Tiles, moving regions, detections and unverified regions are all
    /// in the camera frame's pixels; a detection may reach past its edge.
    public func schedule(_ frame: GrayPlane, padding: Int = 0, motionRegions: [DetectionBox], budget: FrameBudget,
                         startedAt: ContinuousClock.Instant? = nil) -> ScheduleResult {
        var result = ScheduleResult()
        schedule(frame, padding: padding, motionRegions: motionRegions, budget: budget, startedAt: startedAt, into: &result)
        return result
    }

    /// As `schedule(_:motionRegions:budget:startedAt:)`, into a result the caller keeps from frame
    /// to frame: its arrays are emptied and refilled with their capacity kept, so a steady stream
    /// allocates nothing here. (Keep no other reference to those arrays across frames, or the
    /// next frame copies them.)
    public func schedule(_ frame: GrayPlane, padding: Int = 0, motionRegions: [DetectionBox], budget: FrameBudget,
                         startedAt: ContinuousClock.Instant? = nil, into result: inout ScheduleResult) {
        let start = startedAt ?? clock.now
        frameIndex += 1
        var spending = Spending(budget: budget, start: start, clock: clock)
        result.reset()

        // The camera's frame, inside the padding.
        let width = frame.width - 2 * max(padding, 0), height = frame.height - 2 * max(padding, 0)
        cameraWidth = max(width, 0)
        cameraHeight = max(height, 0)
        if padding < 0 || width <= 0 || height <= 0 {
            // Nothing to vouch for, and no way to know whether the grid still describes the
            // camera: forget every scan.
            forgetTiles()
            failClosed(frame, .malformedInput("the plane is \(frame.width)x\(frame.height) with \(padding) pixels of padding"),
                       spending: spending, into: &result)
            return
        }
        if let bad = motionRegions.first(where: { $0.width < 0 || $0.height < 0 }) {
            forgetTiles()
            failClosed(frame, .malformedInput("motion region \(bad) has a negative size"), spending: spending, into: &result)
            return
        }
        canvasPadding = padding
        if width != gridWidth || height != gridHeight { rebuildGrid(width: width, height: height) }

        // Stage 1: moving regions.
        examinedRegions(motionRegions)
        for tile in tiles.indices { regionsExaminedInTile[tile] = motionExaminedSinceScan[tile] }
        for region in regions {
            for tile in tiles.indices where BudgetGeometry.boxesOverlap(tiles[tile], region) {
                lastMotionFrame[tile] = frameIndex
                // Pessimistic until this frame's region passes are all done, so that a frame that
                // fails closed part-way leaves its tiles needing a scan.
                motionExaminedSinceScan[tile] = false
            }
        }
        var everyRegionExamined = true
        if !regions.isEmpty { largeMotionFrame = frameIndex }
        for region in regions {
            guard let examined = runDetectors(over: region, in: frame, source: .movingRegion(region), spending: &spending,
                                              into: &result, parameters: { self.detectors[$0].parameters }) else { return }
            if !examined {
                everyRegionExamined = false
                // Only the part in the camera's frame: the padding is not the camera's.
                result.unverified.append(BudgetGeometry.clampBox(region, width: width, height: height) ?? region)
                for tile in tiles.indices where BudgetGeometry.boxesOverlap(tiles[tile], region) { regionsExaminedInTile[tile] = false }
            }
        }
        for tile in tiles.indices where lastMotionFrame[tile] == frameIndex {
            motionExaminedSinceScan[tile] = regionsExaminedInTile[tile]
        }
        if !regions.isEmpty { largeMotionExamined = largeMotionExamined && everyRegionExamined }

        // The large-object pass, before the tiles: while it is not valid the whole frame is.
        var largeScannedThisFrame = false
        var largeRange = 0..<0
        if configuration.largeObjectPass
            && (!isLargeScanVerified || frameIndex - largeScanFrame >= configuration.verificationLifetimeFrames - 1) {
            let whole = DetectionBox(x: -padding, y: -padding, width: frame.width, height: frame.height)
            let passStart = clock.now
            let firstFinding = result.detections.count
            guard let complete = runDetectors(over: whole, in: frame, source: .wholeFrame, spending: &spending, into: &result,
                                              parameters: { index in
                let entry = self.detectors[index]
                // One coarse scale step below what the tiles' overlap holds whole, so that the two
                // stages' sizes overlap.
                let longerSide = Int((Double(2 * self.configuration.tileOverlap) / entry.coarseParameters.scaleFactor).rounded(.down))
                let parameters = entry.largeObjectParameters(longerSide: longerSide)
                // No window that large fits in the frame: there is no object that large to find.
                return entry.detector.passCost(width: frame.width, height: frame.height, parameters: parameters).scales == 0
                    ? nil : parameters
            }) else { return }
            metrics.largeObjectPassNanoseconds &+= UInt64(max(nanoseconds(clock.now - passStart), 0))
            if complete {
                largeScannedThisFrame = true
                largeRange = firstFinding..<result.detections.count
                metrics.largeObjectPasses += 1
            }
        }

        // Stage 2: the rest of the frame, tile by tile at coarse scales.
        scannedThisFrame.removeAll(keepingCapacity: true)
        scannedRanges.removeAll(keepingCapacity: true)
        fillTileOrder()
        for tile in tileOrder {
            let scanArea = clampToCanvas(BudgetGeometry.grownBox(tiles[tile], horizontal: configuration.tileOverlap,
                                                                 vertical: configuration.tileOverlap)) ?? tiles[tile]
            let firstFinding = result.detections.count
            // Objects centred in the tile fit whole in its scan area; only windows centred in the
            // tile (and just around it) need to run (`DetectionParameters.windowCentres`). At the
            // frame's edges the tile's share reaches to the end of the padding, so that a face
            // cut off there with its centre outside the frame is still this tile's.
            let box = tiles[tile]
            let left = box.x <= 0 ? 0 : box.x - scanArea.x
            let top = box.y <= 0 ? 0 : box.y - scanArea.y
            let right = box.x + box.width >= cameraWidth ? scanArea.width : box.x + box.width - scanArea.x
            let bottom = box.y + box.height >= cameraHeight ? scanArea.height : box.y + box.height - scanArea.y
            let centres = DetectionBox(x: left, y: top, width: right - left, height: bottom - top)
            guard let complete = runDetectors(over: scanArea, in: frame, source: .tile(tile), spending: &spending, into: &result,
                                              parameters: { index in
                var parameters = self.tileParameters[index]
                if self.configuration.centredTileWindows { parameters.windowCentres = centres }
                return parameters
            }) else { return }
            if complete {
                scannedThisFrame.append(tile)
                scannedRanges.append(firstFinding..<result.detections.count)
            }
        }
        // Recorded only now, so that a frame that fails closed part-way leaves no scan behind.
        for (position, tile) in scannedThisFrame.enumerated() {
            lastScanFrame[tile] = frameIndex
            motionExaminedSinceScan[tile] = true
            tileFindings[tile].removeAll(keepingCapacity: true)
            tileFindings[tile].append(contentsOf: result.detections[scannedRanges[position]])
        }
        if largeScannedThisFrame {
            largeScanFrame = frameIndex
            largeMotionExamined = true
            largeFindings.removeAll(keepingCapacity: true)
            largeFindings.append(contentsOf: result.detections[largeRange])
        }
        // What still-valid scans of earlier frames found is still there.
        for tile in tiles.indices where lastScanFrame[tile] != frameIndex && isVerified(tile) {
            result.detections.append(contentsOf: tileFindings[tile])
        }
        if configuration.largeObjectPass && largeScanFrame != frameIndex && isLargeScanVerified {
            result.detections.append(contentsOf: largeFindings)
        }
        for tile in tiles.indices where !isVerified(tile) { result.unverified.append(tiles[tile]) }
        if configuration.largeObjectPass && !isLargeScanVerified {
            metrics.largeObjectPassMissing += 1
            result.unverified.append(DetectionBox(x: 0, y: 0, width: width, height: height))
        }

        let elapsed = clock.now - start
        let missed: Bool
        if case let .time(milliseconds) = budget { missed = elapsed > Duration.nanoseconds(nanoseconds(milliseconds: milliseconds)) } else { missed = false }
        result.unverifiedFraction = Double(unionArea.area(of: result.unverified)) / Double(width * height)
        result.deadlineMissed = missed
        result.scalesSkipped = spending.scalesSkipped
        result.workUsed = spending.workUsed
        result.regionWorkUsed = spending.regionWorkUsed
        result.elapsed = elapsed
        finish(result)
    }

    /// Whether the tile is vouched for as of the current frame.
    func isVerified(_ tile: Int) -> Bool {
        let scanned = lastScanFrame[tile]
        let untouched = scanned >= lastMotionFrame[tile]
            || (configuration.examinedMotionKeepsTilesVerified && motionExaminedSinceScan[tile])
        return scanned >= 0 && untouched && frameIndex - scanned < configuration.verificationLifetimeFrames
    }

    /// Whether the large-object pass vouches for the frame, by the same rule as a tile.
    var isLargeScanVerified: Bool {
        let untouched = largeScanFrame >= largeMotionFrame
            || (configuration.examinedMotionKeepsTilesVerified && largeMotionExamined)
        return largeScanFrame >= 0 && untouched && frameIndex - largeScanFrame < configuration.verificationLifetimeFrames
    }

    // MARK: - Stages

    /// A box clamped to the padded frame (the camera's frame and `canvasPadding` around it).
    private func clampToCanvas(_ box: DetectionBox) -> DetectionBox? {
        let pad = canvasPadding
        return BudgetGeometry.clampBox(DetectionBox(x: box.x + pad, y: box.y + pad, width: box.width, height: box.height),
                                       width: gridWidth + 2 * pad, height: gridHeight + 2 * pad)
            .map { DetectionBox(x: $0.x - pad, y: $0.y - pad, width: $0.width, height: $0.height) }
    }

    /// Fills `regions` with the moving regions as they will be examined: grown, clamped, merged,
    /// largest first.
    private func examinedRegions(_ motionRegions: [DetectionBox]) {
        regions.removeAll(keepingCapacity: true)
        for region in motionRegions where region.width > 0 && region.height > 0 {
            let horizontal = max(configuration.minimumRegionMargin, margin(of: region.width))
            let vertical = max(configuration.minimumRegionMargin, margin(of: region.height))
            if let clamped = clampToCanvas(BudgetGeometry.grownBox(region, horizontal: horizontal, vertical: vertical)) {
                regions.append(clamped)
            }
        }
        BudgetGeometry.mergeOverlappingBoxes(&regions)
        BudgetGeometry.insertionSort(&regions, by: BudgetGeometry.largestFirst)
    }

    /// The fractional margin for a side of `length`, held below any frame size so that a wild
    /// length or fraction cannot trap in the conversion.
    private func margin(of length: Int) -> Int {
        Int(min((Double(length) * configuration.regionMarginFraction).rounded(.up), 1e12))
    }

    /// Fills `tileOrder` with the tiles to attempt this frame: every unverified tile, then the
    /// verified ones that are due for a refresh (at most `tilesPerFrame`); each group oldest scan
    /// first, then by tile index.
    ///
    /// Refreshes keep the scans' ages spread out, so that tiles do not all expire in one frame
    /// (which would overrun the budget and mask them). They run at the rate that renews every tile
    /// once per lifetime, `tiles / verificationLifetimeFrames` scans a frame, and scans of
    /// unverified tiles count toward it: a frame that already re-scans tiles for motion or expiry
    /// refreshes none. (Refreshing `tilesPerFrame` every frame, as before, renewed each tile every
    /// 6 frames of its 8 on the default grid: a third more tile work than the lifetime needs.)
    private func fillTileOrder() {
        tileOrder.removeAll(keepingCapacity: true)
        verifiedTiles.removeAll(keepingCapacity: true)
        for tile in tiles.indices {
            if isVerified(tile) { verifiedTiles.append(tile) } else { tileOrder.append(tile) }
        }
        BudgetGeometry.insertionSort(&tileOrder) { self.scannedEarlier($0, $1) }
        BudgetGeometry.insertionSort(&verifiedTiles) { self.scannedEarlier($0, $1) }
        let rate = Double(tiles.count) / Double(configuration.verificationLifetimeFrames)
        refreshCredit = min(refreshCredit + rate, rate + Double(configuration.tilesPerFrame))
        let due = max(Int(refreshCredit.rounded(.down)) - tileOrder.count, 0)
        let refreshes = min(due, configuration.tilesPerFrame, verifiedTiles.count)
        refreshCredit = max(refreshCredit - Double(tileOrder.count + refreshes), 0)
        tileOrder.append(contentsOf: verifiedTiles.prefix(refreshes))
    }

    /// Oldest scan first, then by tile index.
    private func scannedEarlier(_ first: Int, _ second: Int) -> Bool {
        lastScanFrame[first] != lastScanFrame[second] ? lastScanFrame[first] < lastScanFrame[second] : first < second
    }

    private enum PassOutcome {
        case completed
        /// Not started (no budget left for it) or impossible (region smaller than the window).
        case notRun
        case failed(String)
    }

    /// Every detector over one box, with the parameters `parameters` gives each (nil: that
    /// detector has nothing to look for there). Returns whether every pass ran; nil after a
    /// detector failed, when the frame has been failed closed.
    private func runDetectors(over box: DetectionBox, in frame: GrayPlane, source: DetectionSource, spending: inout Spending,
                              into result: inout ScheduleResult, parameters: (Int) -> DetectionParameters?) -> Bool? {
        var complete = true
        for index in detectors.indices {
            guard let chosen = parameters(index) else { continue }
            switch runPass(index, over: box, in: frame, parameters: chosen, source: source, spending: &spending,
                           into: &result.detections) {
            case .completed: break
            case .notRun: complete = false
            case let .failed(reason):
                failClosed(frame, .detectorFailed(objectClass: detectors[index].objectClass, reason: reason),
                           spending: spending, into: &result)
                return nil
            }
        }
        return complete
    }

    /// One detector over one region, if the budget allows; boxes are moved to frame pixels.
    private func runPass(_ index: Int, over region: DetectionBox, in frame: GrayPlane, parameters: DetectionParameters,
                         source: DetectionSource, spending: inout Spending,
                         into detections: inout [ScheduledDetection]) -> PassOutcome {
        let entry = detectors[index]
        let rateIndex: Int
        if case .movingRegion = source { rateIndex = 2 * index } else { rateIndex = 2 * index + 1 }
        let cost = entry.detector.passCost(width: region.width, height: region.height, parameters: parameters)
        // A region smaller than the detector's window cannot be examined: it stays unverified.
        guard cost.scales > 0 else { return .notRun }
        guard spending.allows(cost.workUnits, nanosecondsPerWorkUnit: nanosecondsPerWorkUnit[rateIndex]) else {
            spending.scalesSkipped += cost.scales
            return .notRun
        }
        let crop = GrayPlane(base: frame.base + (region.y + canvasPadding) * frame.stride + region.x + canvasPadding,
                             width: region.width, height: region.height, stride: frame.stride)
        let passStart = clock.now
        do {
            try entry.detector.detect(crop, parameters: parameters, into: &passBoxes)
        } catch {
            return .failed("\(error)")
        }
        let passDuration = nanoseconds(clock.now - passStart)
        let passNanoseconds = Double(passDuration)
        spending.workUsed += cost.workUnits
        switch source {
        case .tile: metrics.tilePassNanoseconds &+= UInt64(max(passDuration, 0))
        case .wholeFrame: break  // counted by the large-object pass itself
        case .movingRegion:
            spending.regionWorkUsed += cost.workUnits
            metrics.regionPassNanoseconds &+= UInt64(max(passDuration, 0))
        }
        if cost.workUnits > 0 {
            // A moving average, so that one slow pass (a page fault, another process) does not
            // throw the estimate far, while a board that is slower than assumed is learned in a
            // few frames. Weighted by the pass's size: a pass of a few windows costs mostly its
            // fixed set-up (the scale plan, integral images), which says nothing about the cost
            // of a window. Learned at full weight, one 3-window pass of 15 us (5,000 ns a window
            // against about 110) raised the estimate tenfold, the next frame's largest region
            // was then skipped as too expensive, and since skipped passes teach nothing it stayed
            // skipped: on the sample footage 7 to 8% of the frame was left unverified in some
            // runs instead of 1 to 2%.
            let observed = passNanoseconds / Double(cost.workUnits)
            let weight = 0.25 * min(1, Double(cost.workUnits) / Self.fullWeightWorkUnits)
            nanosecondsPerWorkUnit[rateIndex] = (1 - weight) * nanosecondsPerWorkUnit[rateIndex] + weight * observed
        }
        for box in passBoxes {
            detections.append(ScheduledDetection(
                objectClass: entry.objectClass,
                box: DetectionBox(x: box.x + region.x, y: box.y + region.y, width: box.width, height: box.height),
                source: source))
        }
        return .completed
    }

    // MARK: - Bookkeeping

    private func rebuildGrid(width: Int, height: Int) {
        // With the large-object pass, tiles stop at the sizes their overlap holds whole (objects
        // up to twice the overlap): larger windows are that pass's, and a tile's scan area has
        // room for some, which would be scanned twice. Not when the limit would leave a detector
        // no scale at all (a minimum size above it).
        let limit = 2 * configuration.tileOverlap
        tileParameters = detectors.map { entry in
            var parameters = entry.coarseParameters
            if configuration.largeObjectPass && limit >= parameters.minSize.width && limit >= parameters.minSize.height {
                parameters.maxSize = DetectionSize(width: limit, height: limit)
            }
            return parameters
        }
        gridWidth = width
        gridHeight = height
        tiles = BudgetGeometry.tileGrid(width: width, height: height, columns: configuration.tileColumns, rows: configuration.tileRows)
        lastScanFrame = Array(repeating: -1, count: tiles.count)
        lastMotionFrame = Array(repeating: -1, count: tiles.count)
        motionExaminedSinceScan = Array(repeating: false, count: tiles.count)
        largeScanFrame = -1
        largeMotionExamined = false
        tileFindings = Array(repeating: [], count: tiles.count)
        largeFindings.removeAll(keepingCapacity: true)
        regionsExaminedInTile = Array(repeating: false, count: tiles.count)
        // No region is larger than the frame: sized now, the detectors never grow their buffers
        // (and recompile) part-way through a stream.
        for entry in detectors { entry.detector.reserve(width: width + 2 * canvasPadding, height: height + 2 * canvasPadding) }
    }

    private func forgetTiles() {
        for tile in tiles.indices {
            lastScanFrame[tile] = -1
            motionExaminedSinceScan[tile] = false
        }
        largeScanFrame = -1
        largeMotionExamined = false
        for tile in tileFindings.indices { tileFindings[tile].removeAll(keepingCapacity: true) }
        largeFindings.removeAll(keepingCapacity: true)
    }

    /// The whole frame unverified, keeping the detections found so far.
    private func failClosed(_ frame: GrayPlane, _ failure: ScheduleFailure, spending: Spending,
                            into result: inout ScheduleResult) {
        let elapsed = clock.now - spending.start
        var missed = false
        if case let .time(milliseconds) = spending.budget { missed = elapsed > .nanoseconds(nanoseconds(milliseconds: milliseconds)) }
        result.unverified.removeAll(keepingCapacity: true)
        result.unverified.append(DetectionBox(x: 0, y: 0, width: cameraWidth, height: cameraHeight))
        result.unverifiedFraction = 1
        result.deadlineMissed = missed
        result.scalesSkipped = spending.scalesSkipped
        result.workUsed = spending.workUsed
        result.regionWorkUsed = spending.regionWorkUsed
        result.elapsed = elapsed
        result.failure = failure
        finish(result)
    }

    private func finish(_ result: ScheduleResult) {
        metrics.frames += 1
        if result.deadlineMissed { metrics.deadlineMisses += 1 }
        if result.failure != nil { metrics.failedFrames += 1 }
        metrics.unverifiedFractionTotal += result.unverifiedFraction
        metrics.scalesSkipped += result.scalesSkipped
        metrics.workUnitsUsed += result.workUsed
        metrics.regionWorkUnitsUsed += result.regionWorkUsed
    }
}

/// A configuration the scheduler refuses.
public enum BudgetSchedulerError: Error, Equatable, CustomStringConvertible {
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case let .invalidConfiguration(reason): "budget scheduler: \(reason)"
        }
    }
}

/// What is left of one frame's budget.
private struct Spending {
    let budget: FrameBudget
    let start: ContinuousClock.Instant
    let clock: ContinuousClock
    var workUsed = 0
    var regionWorkUsed = 0
    var scalesSkipped = 0

    init(budget: FrameBudget, start: ContinuousClock.Instant, clock: ContinuousClock) {
        self.budget = budget
        self.start = start
        self.clock = clock
    }

    /// Whether a pass of `units` may start: in work-unit mode if it fits exactly; in time mode if
    /// time is left and the detector's learned rate says the pass ends before the deadline.
    func allows(_ units: Int, nanosecondsPerWorkUnit: Double) -> Bool {
        switch budget {
        case .unlimited:
            return true
        case let .workUnits(limit):
            // Nothing starts once the budget is spent, not even a pass that claims to be free.
            return limit - workUsed > 0 && units <= limit - workUsed
        case let .time(milliseconds):
            let remaining = nanoseconds(milliseconds: milliseconds) - nanoseconds(clock.now - start)
            return remaining > 0 && Double(units) * nanosecondsPerWorkUnit <= Double(remaining)
        }
    }
}

private func nanoseconds(milliseconds: Double) -> Int64 {
    guard milliseconds.isFinite else { return milliseconds > 0 ? Int64.max : 0 }
    return Int64(max(min(milliseconds * 1_000_000, 9.2e18), 0))
}

private func nanoseconds(_ duration: Duration) -> Int64 {
    let parts = duration.components
    return parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000
}
