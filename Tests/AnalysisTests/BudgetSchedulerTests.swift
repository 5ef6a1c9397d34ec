// The budget scheduler's contracts with a scripted detector whose cost is known exactly (one work
// unit per 100 pixels of the region), so that each test can name the regions a given budget
// leaves unverified: fail-closed output, largest-first order, tile rotation, invalidation by
// motion, malformed input and detector failure. Real cascades are in BudgetSchedulerImageTests.

import Testing
@testable import Analysis

/// A detector that costs `width * height / 100` work units, needs a 24x24 region, records the
/// regions it was run on (in frame pixels) and finds one box at (1, 2) of size 3x4 in each.
final class ScriptedRegionDetector: RegionDetector {
    struct Failure: Error, CustomStringConvertible {
        var description: String { "scripted failure" }
    }

    let frame: SchedulerTestFrame
    /// The passes run so far, as frame regions, in order.
    private(set) var passes: [DetectionBox] = []
    /// Throw on the pass with this index (0 is the first).
    var failingPass: Int?

    init(frame: SchedulerTestFrame) { self.frame = frame }

    func passCost(width: Int, height: Int, parameters: DetectionParameters) -> DetectorPassCost {
        width >= 24 && height >= 24 ? DetectorPassCost(workUnits: width * height / 100, scales: 1)
            : DetectorPassCost(workUnits: 0, scales: 0)
    }

    func detect(_ image: GrayPlane, parameters: DetectionParameters) throws -> [DetectionBox] {
        #expect(image.stride == frame.stride, "a crop must keep the frame's stride")
        let offset = image.base - UnsafePointer(frame.pixels)
        passes.append(DetectionBox(x: offset % frame.stride, y: offset / frame.stride, width: image.width, height: image.height))
        if passes.count - 1 == failingPass { throw Failure() }
        return [DetectionBox(x: 1, y: 2, width: 3, height: 4)]
    }
}

/// A 640x480 frame with padded rows (stride 700), so that crops must honour the stride.
final class SchedulerTestFrame {
    let width = 640, height = 480, stride = 700
    let pixels: UnsafeMutablePointer<UInt8>

    init() {
        pixels = .allocate(capacity: stride * height)
        pixels.initialize(repeating: 128, count: stride * height)
    }

    deinit { pixels.deallocate() }

    var plane: GrayPlane { GrayPlane(base: pixels, width: width, height: height, stride: stride) }
}

/// No margins or overlap, so regions and tiles are examined exactly as given: a 4x3 grid of
/// 160x160 tiles (256 units each), two refreshes per frame, scans valid for 8 frames.
func exactSchedulerConfiguration() -> BudgetSchedulerConfiguration {
    var configuration = BudgetSchedulerConfiguration()
    configuration.regionMarginFraction = 0
    configuration.minimumRegionMargin = 0
    configuration.tileOverlap = 0
    configuration.tileColumns = 4
    configuration.tileRows = 3
    configuration.tilesPerFrame = 2
    configuration.verificationLifetimeFrames = 8
    // Tested on its own (BudgetSchedulerLargeObjectTests), so that these tests see tiles only.
    configuration.largeObjectPass = false
    return configuration
}

/// The tile at `column`, `row` of the exact configuration's grid.
func schedulerTile(_ column: Int, _ row: Int) -> DetectionBox {
    DetectionBox(x: 160 * column, y: 160 * row, width: 160, height: 160)
}

@Suite("Budget scheduler")
struct BudgetSchedulerTests {
    let frame = SchedulerTestFrame()
    let detector: ScriptedRegionDetector
    let scheduler: BudgetScheduler

    init() throws {
        detector = ScriptedRegionDetector(frame: frame)
        scheduler = try BudgetScheduler(
            detectors: [ScheduledDetector(objectClass: .face, regionDetector: detector, parameters: DetectionParameters(),
                                          coarseParameters: DetectionParameters(scaleFactor: 1.2))],
            configuration: exactSchedulerConfiguration())
    }

    /// Three moving regions, one per tile, of distinct sizes: A 120 units in tile 0, B 60 units
    /// in tile 6, C 9 units in tile 11.
    static let regionA = DetectionBox(x: 10, y: 10, width: 120, height: 100)
    static let regionB = DetectionBox(x: 330, y: 170, width: 100, height: 60)
    static let regionC = DetectionBox(x: 600, y: 440, width: 30, height: 30)

    @Test("with no limit every region and tile is examined, and boxes come back in frame pixels")
    func unlimited() {
        let result = scheduler.schedule(frame.plane, motionRegions: [Self.regionC, Self.regionA, Self.regionB], budget: .unlimited)
        #expect(result.unverified == [])
        #expect(result.unverifiedFraction == 0)
        #expect(result.failure == nil)
        #expect(!result.deadlineMissed)
        #expect(result.scalesSkipped == 0)
        #expect(result.workUsed == 120 + 60 + 9 + 12 * 256)
        #expect(detector.passes == [Self.regionA, Self.regionB, Self.regionC] + (0..<12).map { schedulerTile($0 % 4, $0 / 4) })
        #expect(result.detections.count == 15)
        #expect(result.detections[0] == ScheduledDetection(objectClass: .face, box: DetectionBox(x: 11, y: 12, width: 3, height: 4),
                                                           source: .movingRegion(Self.regionA)))
        #expect(result.detections[14] == ScheduledDetection(objectClass: .face, box: DetectionBox(x: 481, y: 322, width: 3, height: 4),
                                                            source: .tile(11)))
    }

    @Test("with a budget of 130 units, exactly the skipped region and the tiles motion touched are unverified")
    func exactUnverifiedList() {
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        let result = scheduler.schedule(frame.plane, motionRegions: [Self.regionB, Self.regionC, Self.regionA],
                                        budget: .workUnits(130))
        // A (120) runs, B (60) no longer fits, C (9) does; no tile (256) fits in the last unit.
        #expect(result.unverified == [Self.regionB, schedulerTile(0, 0), schedulerTile(2, 1), schedulerTile(3, 2)])
        #expect(result.unverifiedFraction == 0.25)
        #expect(result.workUsed == 129)
        // B's one scale and the three disturbed tiles. No refresh is due: re-scans of disturbed
        // tiles count toward the refresh rate (12 tiles / 8 frames = 1.5 a frame).
        #expect(result.scalesSkipped == 4)
        #expect(!result.deadlineMissed)
        // The regions' passes, then what frame 1's scans found in the tiles still verified.
        #expect(result.detections.map(\.source) == [.movingRegion(Self.regionA), .movingRegion(Self.regionC)]
            + [1, 2, 3, 4, 5, 7, 8, 9, 10].map { DetectionSource.tile($0) })
    }

    @Test("with a budget for the regions and one tile, the other disturbed tiles stay unverified")
    func budgetForOneTile() {
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        let result = scheduler.schedule(frame.plane, motionRegions: [Self.regionA, Self.regionB, Self.regionC],
                                        budget: .workUnits(120 + 60 + 9 + 256))
        #expect(result.unverified == [schedulerTile(2, 1), schedulerTile(3, 2)])
        #expect(result.workUsed == 445)
        #expect(detector.passes.suffix(4) == [Self.regionA, Self.regionB, Self.regionC, schedulerTile(0, 0)])
    }

    @Test("a budget of zero leaves the whole frame unverified", arguments: [FrameBudget.workUnits(0), .time(milliseconds: 0)])
    func zeroBudget(budget: FrameBudget) {
        let result = scheduler.schedule(frame.plane, motionRegions: [Self.regionA], budget: budget)
        #expect(result.unverifiedFraction == 1)
        #expect(result.unverified == [Self.regionA] + (0..<12).map { schedulerTile($0 % 4, $0 / 4) })
        #expect(result.detections == [])
        #expect(result.workUsed == 0)
        #expect(detector.passes == [])
        #expect(result.failure == nil)
    }

    @Test("moving regions are examined largest first, and a budget for the largest leaves the rest unverified")
    func largestFirst() {
        let regions = [
            DetectionBox(x: 500, y: 300, width: 40, height: 40),
            DetectionBox(x: 0, y: 0, width: 100, height: 90),
            DetectionBox(x: 300, y: 20, width: 60, height: 50),
            DetectionBox(x: 20, y: 300, width: 90, height: 100),
        ]
        let result = scheduler.schedule(frame.plane, motionRegions: regions, budget: .workUnits(90))
        #expect(detector.passes == [regions[1]])
        #expect(Array(result.unverified.prefix(3)) == [regions[3], regions[2], regions[0]])

        let unlimited = scheduler.schedule(frame.plane, motionRegions: regions, budget: .unlimited)
        #expect(Array(detector.passes[1..<5]) == [regions[1], regions[3], regions[2], regions[0]])
        #expect(unlimited.unverified == [])
    }

    @Test("overlapping moving regions are examined once, as their bounding box")
    func overlappingRegionsMerge() {
        let result = scheduler.schedule(frame.plane, motionRegions: [DetectionBox(x: 100, y: 100, width: 50, height: 50),
                                                                     DetectionBox(x: 140, y: 120, width: 60, height: 60)],
                                        budget: .workUnits(0))
        #expect(result.unverified.first == DetectionBox(x: 100, y: 100, width: 100, height: 80))
    }

    @Test("with a budget of two tiles a frame, the rotation verifies every tile in six frames, then renews each once per lifetime")
    func rotation() {
        var scansOfTile = [[Int]](repeating: [], count: 12)
        var laterScans = 0
        for frameNumber in 0..<30 {
            let before = detector.passes.count
            let result = scheduler.schedule(frame.plane, motionRegions: [], budget: .workUnits(512))
            for pass in detector.passes[before...] {
                let index = scheduler.tiles.firstIndex(of: pass)!
                scansOfTile[index].append(frameNumber)
            }
            if frameNumber < 6 {
                #expect(detector.passes.count - before == 2)
            } else {
                // 12 tiles / 8 frames: one scan, then two, in turn.
                #expect(detector.passes.count - before == (frameNumber % 2 == 0 ? 1 : 2), "frame \(frameNumber)")
                laterScans += detector.passes.count - before
            }
            if frameNumber < 5 {
                #expect(result.unverified.count == 12 - 2 * (frameNumber + 1))
            } else {
                #expect(result.unverified == [], "frame \(frameNumber)")
            }
        }
        // Within the first six frames every tile is scanned once, in tile order.
        #expect(scansOfTile.map { $0.first } == (0..<12).map { Optional($0 / 2) })
        #expect(laterScans == 36)
        for scans in scansOfTile {
            let gaps = zip(scans.dropFirst(), scans).map { $0 - $1 }
            // Renewed within the lifetime: a tile whose scan expires is re-scanned in that frame.
            #expect(gaps.allSatisfy { $0 <= 8 }, "scanned at frames \(scans)")
        }
    }

    @Test("with no limit the first frame scans every tile and later frames refresh 12 tiles in 8 frames, oldest first")
    func refreshesWithPlentyOfBudget() {
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        #expect(detector.passes.count == 12)
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        #expect(Array(detector.passes[12...]) == [schedulerTile(0, 0)])
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        #expect(Array(detector.passes[13...]) == [schedulerTile(1, 0), schedulerTile(2, 0)])
        for _ in 3..<8 { _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited) }
        // Frames 1 to 7 refreshed 1 + 2 + 1 + 2 + 1 + 2 + 1 = 10 tiles; the last two expire in
        // frame 8 and are re-scanned there.
        #expect(detector.passes.count == 22)
        let result = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        #expect(Array(detector.passes[22...]) == [schedulerTile(2, 2), schedulerTile(3, 2)])
        #expect(result.unverified == [])
    }

    @Test("a frame that re-scans tiles for motion refreshes none")
    func motionRescansCountTowardRefreshes() {
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        // Region A touches tile 0 and C tile 11; with trust in examined motion off, both need a scan.
        _ = scheduler.schedule(frame.plane, motionRegions: [Self.regionA, Self.regionC], budget: .unlimited)
        #expect(Array(detector.passes[12...]) == [Self.regionA, Self.regionC, schedulerTile(0, 0), schedulerTile(3, 2)])
    }

    @Test("a scan older than the lifetime no longer verifies its tile")
    func scansExpire() {
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        for _ in 1..<8 {
            #expect(scheduler.schedule(frame.plane, motionRegions: [], budget: .workUnits(0)).unverified == [])
        }
        let expired = scheduler.schedule(frame.plane, motionRegions: [], budget: .workUnits(0))
        #expect(expired.unverifiedFraction == 1)
    }

    @Test("a moving region is never verified by an earlier scan, and its tile waits for a new one")
    func motionInvalidatesOldScans() {
        let region = DetectionBox(x: 170, y: 170, width: 50, height: 50)
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)

        let moved = scheduler.schedule(frame.plane, motionRegions: [region], budget: .workUnits(0))
        #expect(moved.unverified == [region, schedulerTile(1, 1)])

        // The object stopped: no motion, but the tile's scan predates it.
        let stopped = scheduler.schedule(frame.plane, motionRegions: [], budget: .workUnits(0))
        #expect(stopped.unverified == [schedulerTile(1, 1)])

        // Examining the region vouches for the region only, not for the rest of its tile.
        let examined = scheduler.schedule(frame.plane, motionRegions: [region], budget: .workUnits(25))
        #expect(examined.unverified == [schedulerTile(1, 1)])

        // A new scan of the tile goes first and clears it.
        let rescanned = scheduler.schedule(frame.plane, motionRegions: [], budget: .workUnits(256))
        #expect(detector.passes.last == schedulerTile(1, 1))
        #expect(rescanned.unverified == [])
    }

    @Test("a coarse tile scan does not verify a moving region the region pass could not examine")
    func tileScanDoesNotVerifyMovingRegion() {
        // Smaller than the scripted detector's 24x24 window: no pass can examine it.
        let tiny = DetectionBox(x: 200, y: 200, width: 10, height: 10)
        let result = scheduler.schedule(frame.plane, motionRegions: [tiny], budget: .unlimited)
        #expect(result.unverified == [tiny])
        #expect(detector.passes.count == 12)
    }

    @Test("a plane with no pixels fails the frame closed and forgets earlier scans")
    func emptyPlane() {
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        let empty = GrayPlane(base: frame.pixels, width: 0, height: 480, stride: 700)
        let result = scheduler.schedule(empty, motionRegions: [], budget: .unlimited)
        #expect(result.unverified == [DetectionBox(x: 0, y: 0, width: 0, height: 480)])
        #expect(result.unverifiedFraction == 1)
        guard case .malformedInput = result.failure else {
            Issue.record("expected malformed input, got \(String(describing: result.failure))")
            return
        }
        let next = scheduler.schedule(frame.plane, motionRegions: [], budget: .workUnits(0))
        #expect(next.unverifiedFraction == 1)
        #expect(scheduler.metrics.failedFrames == 1)
    }

    @Test("a motion region with a negative size fails the frame closed")
    func negativeRegion() {
        let result = scheduler.schedule(frame.plane, motionRegions: [Self.regionA, DetectionBox(x: 5, y: 5, width: -3, height: 10)],
                                        budget: .unlimited)
        #expect(result.unverified == [DetectionBox(x: 0, y: 0, width: 640, height: 480)])
        #expect(result.unverifiedFraction == 1)
        #expect(detector.passes == [])
        #expect(result.failure != nil)
    }

    @Test("motion regions outside the frame or with huge values are clamped, not trapped on")
    func wildRegions() {
        let result = scheduler.schedule(frame.plane, motionRegions: [
            DetectionBox(x: Int.max - 5, y: Int.max - 5, width: Int.max, height: Int.max),
            DetectionBox(x: Int.min, y: Int.min, width: Int.max, height: Int.max),
            DetectionBox(x: 600, y: 400, width: Int.max, height: Int.max),
            DetectionBox(x: 1000, y: 1000, width: 50, height: 50),
        ], budget: .workUnits(0))
        #expect(result.failure == nil)
        #expect(result.unverified.first == DetectionBox(x: 600, y: 400, width: 40, height: 80))
        #expect(result.unverifiedFraction == 1)
    }

    @Test("a detector that throws fails the whole frame closed, and its partial scans are not recorded")
    func detectorFailure() {
        detector.failingPass = 3
        let result = scheduler.schedule(frame.plane, motionRegions: [Self.regionA], budget: .unlimited)
        #expect(result.unverified == [DetectionBox(x: 0, y: 0, width: 640, height: 480)])
        #expect(result.unverifiedFraction == 1)
        #expect(result.failure == .detectorFailed(objectClass: .face, reason: "scripted failure"))
        // Tiles 0 and 1 were scanned before the failure; they must not count as verified.
        let next = scheduler.schedule(frame.plane, motionRegions: [], budget: .workUnits(0))
        #expect(next.unverifiedFraction == 1)
        #expect(scheduler.metrics.failedFrames == 1)
    }

    @Test("the counters add up over frames")
    func metrics() {
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        _ = scheduler.schedule(frame.plane, motionRegions: [Self.regionA], budget: .workUnits(0))
        let metrics = scheduler.metrics
        #expect(metrics.frames == 2)
        #expect(metrics.deadlineMisses == 0)
        #expect(metrics.workUnitsUsed == 12 * 256)
        // Frame 2: region A and its disturbed tile 0 (whose re-scan stands in for a refresh).
        #expect(metrics.scalesSkipped == 2)
        let secondFraction: Double = 25600.0 / 307200.0
        #expect(metrics.meanUnverifiedFraction == (0 + secondFraction) / 2)
    }

    @Test("a generous time budget examines everything without a deadline miss")
    func generousTime() {
        let result = scheduler.schedule(frame.plane, motionRegions: [Self.regionA], budget: .time(milliseconds: 60_000))
        #expect(result.unverified == [])
        #expect(!result.deadlineMissed)
        #expect(scheduler.metrics.deadlineMisses == 0)
    }

    @Test("a time budget already spent before the scheduler starts is a deadline miss with nothing examined")
    func spentTime() {
        let clock = ContinuousClock()
        let result = scheduler.schedule(frame.plane, motionRegions: [], budget: .time(milliseconds: 1),
                                        startedAt: clock.now - .milliseconds(5))
        #expect(result.deadlineMissed)
        #expect(result.unverifiedFraction == 1)
        #expect(detector.passes == [])
        #expect(scheduler.metrics.deadlineMisses == 1)
    }

    @Test("configurations that could never verify anything are refused")
    func invalidConfiguration() {
        #expect(throws: BudgetSchedulerError.self) {
            _ = try BudgetScheduler(detectors: [])
        }
        #expect(throws: BudgetSchedulerError.self) {
            _ = try BudgetScheduler(detectors: [ScheduledDetector(objectClass: .face, regionDetector: detector,
                                                                  parameters: DetectionParameters(scaleFactor: 1),
                                                                  coarseParameters: DetectionParameters())])
        }
        var configuration = exactSchedulerConfiguration()
        configuration.verificationLifetimeFrames = 0
        #expect(throws: BudgetSchedulerError.self) {
            _ = try BudgetScheduler(detectors: [ScheduledDetector(objectClass: .face, regionDetector: detector,
                                                                  parameters: DetectionParameters(),
                                                                  coarseParameters: DetectionParameters())],
                                    configuration: configuration)
        }
    }

    @Test("union area counts overlaps once")
    func unionArea() {
        #expect(BudgetGeometry.unionArea([DetectionBox(x: 0, y: 0, width: 10, height: 10),
                                          DetectionBox(x: 5, y: 5, width: 10, height: 10),
                                          DetectionBox(x: 2, y: 2, width: 2, height: 2)]) == 175)
        #expect(BudgetGeometry.unionArea([]) == 0)
    }
}
