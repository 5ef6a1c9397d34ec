// The large-object pass: one coarse pass over the whole frame at the sizes no tile's scan can hold
// whole, kept valid like a tile's scan, and the whole frame unverified while it is not valid.

import Testing
@testable import Analysis

/// Records every pass with its parameters; a pass costs one unit per 100 pixels and has no scale
/// when the smallest window asked for does not fit in the region (as a cascade would).
final class ParameterRecordingDetector: RegionDetector {
    let frame: SchedulerTestFrame
    private(set) var passes: [(box: DetectionBox, parameters: DetectionParameters)] = []

    init(frame: SchedulerTestFrame) { self.frame = frame }

    func passCost(width: Int, height: Int, parameters: DetectionParameters) -> DetectorPassCost {
        let fits = width >= max(parameters.minSize.width, 24) && height >= max(parameters.minSize.height, 24)
        return fits ? DetectorPassCost(workUnits: width * height / 100, scales: 1) : DetectorPassCost(workUnits: 0, scales: 0)
    }

    func detect(_ image: GrayPlane, parameters: DetectionParameters) throws -> [DetectionBox] {
        let offset = image.base - UnsafePointer(frame.pixels)
        passes.append((DetectionBox(x: offset % frame.stride, y: offset / frame.stride, width: image.width, height: image.height), parameters))
        return []
    }

    /// The frames' whole-frame passes, by index of the pass.
    var wholeFramePasses: [Int] {
        passes.indices.filter { passes[$0].box == DetectionBox(x: 0, y: 0, width: frame.width, height: frame.height) }
    }
}

@Suite("Budget scheduler: large-object pass")
struct BudgetSchedulerLargeObjectTests {
    let frame = SchedulerTestFrame()
    let whole = DetectionBox(x: 0, y: 0, width: 640, height: 480)

    /// The exact grid with the pass on and 60 pixels of overlap: tiles hold objects up to 120
    /// pixels whole, so the pass starts at windows of 120 / 1.2 = 100.
    func makeScheduler(trustExaminedMotion: Bool = false) throws -> (BudgetScheduler, ParameterRecordingDetector) {
        let detector = ParameterRecordingDetector(frame: frame)
        var configuration = exactSchedulerConfiguration()
        configuration.largeObjectPass = true
        configuration.tileOverlap = 60
        configuration.examinedMotionKeepsTilesVerified = trustExaminedMotion
        let scheduler = try BudgetScheduler(
            detectors: [ScheduledDetector(objectClass: .face, regionDetector: detector, parameters: DetectionParameters(),
                                          coarseParameters: DetectionParameters(scaleFactor: 1.2, minSize: DetectionSize(width: 48, height: 48)))],
            configuration: configuration)
        return (scheduler, detector)
    }

    @Test("the pass's smallest window keeps the coarse shape and reaches the size the tiles cannot hold")
    func parameters() {
        let body = ScheduledDetector(objectClass: .person, regionDetector: ParameterRecordingDetector(frame: frame),
                                     parameters: DetectionParameters(),
                                     coarseParameters: DetectionParameters(scaleFactor: 1.2, minSize: DetectionSize(width: 28, height: 56)))
        #expect(body.largeObjectParameters(longerSide: 133).minSize == DetectionSize(width: 67, height: 133))
        #expect(body.largeObjectParameters(longerSide: 40).minSize == DetectionSize(width: 28, height: 56))
        let unsized = ScheduledDetector(objectClass: .face, regionDetector: ParameterRecordingDetector(frame: frame),
                                        parameters: DetectionParameters(), coarseParameters: DetectionParameters(scaleFactor: 1.3))
        let large = unsized.largeObjectParameters(longerSide: 100)
        #expect(large.minSize == DetectionSize(width: 100, height: 100))
        #expect(large.scaleFactor == 1.3)
    }

    @Test("the first frame runs the pass over the whole frame before any tile, at windows from 100 pixels")
    func firstFrame() throws {
        let (scheduler, detector) = try makeScheduler()
        let result = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        #expect(detector.passes.count == 13)
        #expect(detector.passes[0].box == whole)
        #expect(detector.passes[0].parameters.minSize == DetectionSize(width: 100, height: 100))
        #expect(detector.passes[1].parameters.minSize == DetectionSize(width: 48, height: 48))
        // Tiles stop at twice the overlap: the larger sizes are the pass's.
        #expect(detector.passes[1...].allSatisfy { $0.parameters.maxSize == DetectionSize(width: 120, height: 120) })
        #expect(detector.passes[0].parameters.maxSize == .zero)
        #expect(result.unverified == [])
        #expect(scheduler.metrics.largeObjectPasses == 1)
        #expect(scheduler.metrics.largeObjectPassMissing == 0)
    }

    @Test("without the pass, tiles scan every size their scan area holds")
    func tilesUncappedWithoutThePass() throws {
        let detector = ParameterRecordingDetector(frame: frame)
        var configuration = exactSchedulerConfiguration()
        configuration.tileOverlap = 60
        let scheduler = try BudgetScheduler(
            detectors: [ScheduledDetector(objectClass: .face, regionDetector: detector, parameters: DetectionParameters(),
                                          coarseParameters: DetectionParameters(scaleFactor: 1.2, minSize: DetectionSize(width: 48, height: 48)))],
            configuration: configuration)
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        #expect(detector.passes.count == 12)
        #expect(detector.passes.allSatisfy { $0.parameters.maxSize == .zero })
    }

    @Test("the pass is renewed in the last frame of its lifetime, so it never expires")
    func refresh() throws {
        let (scheduler, detector) = try makeScheduler()
        var wholeFrameFrames: [Int] = []
        for frameNumber in 0..<20 {
            let before = detector.passes.count
            let result = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
            if detector.passes[before...].contains(where: { $0.box == whole }) { wholeFrameFrames.append(frameNumber) }
            #expect(result.unverified == [], "frame \(frameNumber)")
        }
        #expect(wholeFrameFrames == [0, 7, 14])
    }

    @Test("motion voids the pass; a frame without budget for it is wholly unverified and counted, the next renews it")
    func motionAndBudget() throws {
        let (scheduler, detector) = try makeScheduler()
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        let region = BudgetSchedulerTests.regionA
        let passesBefore = detector.passes.count
        // Enough for the region only (120 units): the pass (3072) does not fit.
        let starved = scheduler.schedule(frame.plane, motionRegions: [region], budget: .workUnits(120))
        #expect(detector.passes.count == passesBefore + 1)
        #expect(starved.unverified.last == whole)
        #expect(starved.unverifiedFraction == 1)
        #expect(scheduler.metrics.largeObjectPassMissing == 1)
        let renewed = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        #expect(renewed.unverified == [])
        #expect(scheduler.metrics.largeObjectPasses == 2)
    }

    @Test("with trust in examined motion, motion every detector examined keeps the pass valid")
    func examinedMotionKeepsItValid() throws {
        let (scheduler, detector) = try makeScheduler(trustExaminedMotion: true)
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        let passesBefore = detector.passes.count
        let result = scheduler.schedule(frame.plane, motionRegions: [BudgetSchedulerTests.regionA], budget: .workUnits(120))
        #expect(detector.passes.count == passesBefore + 1)
        #expect(result.unverified == [])
    }

    @Test("a frame too small for the pass's smallest window needs no pass and stays verified")
    func frameSmallerThanTheWindow() throws {
        let detector = ParameterRecordingDetector(frame: frame)
        var configuration = exactSchedulerConfiguration()
        configuration.largeObjectPass = true
        configuration.tileOverlap = 300
        let scheduler = try BudgetScheduler(
            detectors: [ScheduledDetector(objectClass: .face, regionDetector: detector, parameters: DetectionParameters(),
                                          coarseParameters: DetectionParameters(scaleFactor: 1.2))],
            configuration: configuration)
        // 600 / 1.2 = 500 pixels: no window that large fits in 640x480 (and no tile's scan, grown by
        // 300 pixels, is the whole frame).
        let result = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        #expect(detector.wholeFramePasses == [])
        #expect(result.unverified == [])
        #expect(scheduler.metrics.largeObjectPasses == 1)
    }
}
