// A padded plane: the camera's frame with its edges repeated around it, so that windows can hang
// over the edge. Tiles, regions, detections and unverified regions stay in the camera's pixels;
// scans reach into the padding at the frame's edges and nowhere else.

import Testing
@testable import Analysis

@Suite("Budget scheduler: padded frames")
struct BudgetSchedulerPaddingTests {
    /// The 640x480 test plane read as a 580x420 camera frame with 30 pixels of padding.
    let frame = SchedulerTestFrame()
    let padding = 30

    func makeScheduler(_ detector: ScriptedRegionDetector) throws -> BudgetScheduler {
        var configuration = exactSchedulerConfiguration()
        configuration.tileOverlap = 16
        return try BudgetScheduler(
            detectors: [ScheduledDetector(objectClass: .face, regionDetector: detector, parameters: DetectionParameters(),
                                          coarseParameters: DetectionParameters(scaleFactor: 1.2))],
            configuration: configuration)
    }

    @Test("tiles are laid on the camera's frame, and edge tiles' scans reach into the padding")
    func tilesAndScans() throws {
        let detector = ScriptedRegionDetector(frame: frame)
        let scheduler = try makeScheduler(detector)
        let result = scheduler.schedule(frame.plane, padding: padding, motionRegions: [], budget: .unlimited)
        #expect(scheduler.tiles.first == DetectionBox(x: 0, y: 0, width: 145, height: 140))
        #expect(scheduler.tiles.last == DetectionBox(x: 435, y: 280, width: 145, height: 140))
        // In the plane's pixels (the detector sees crops of the padded plane): tile 0 grown by
        // 16 on every side starts 16 pixels into the padding; the last tile ends 16 past the
        // camera's frame.
        #expect(detector.passes.first == DetectionBox(x: 14, y: 14, width: 177, height: 172))
        #expect(detector.passes.last == DetectionBox(x: 449, y: 294, width: 177, height: 172))
        // Boxes come back in the camera's pixels, and may start outside it.
        #expect(result.detections.first?.box == DetectionBox(x: -15, y: -14, width: 3, height: 4))
        #expect(result.unverified == [])
    }

    @Test("a region at the camera's edge grows into the padding; what is unverified stays inside the camera's frame")
    func regionsAndUnverified() throws {
        let detector = ScriptedRegionDetector(frame: frame)
        var configuration = exactSchedulerConfiguration()
        configuration.minimumRegionMargin = 20
        let scheduler = try BudgetScheduler(
            detectors: [ScheduledDetector(objectClass: .face, regionDetector: detector, parameters: DetectionParameters(),
                                          coarseParameters: DetectionParameters(scaleFactor: 1.2))],
            configuration: configuration)
        let edgeRegion = DetectionBox(x: 0, y: 100, width: 40, height: 40)
        _ = scheduler.schedule(frame.plane, padding: padding, motionRegions: [edgeRegion], budget: .unlimited)
        // Grown by 20 on every side: 20 pixels into the padding on the left (plane x = 10).
        #expect(detector.passes.first == DetectionBox(x: 10, y: 110, width: 80, height: 80))
        let starved = scheduler.schedule(frame.plane, padding: padding, motionRegions: [edgeRegion], budget: .workUnits(0))
        #expect(starved.unverified.first == DetectionBox(x: 0, y: 80, width: 60, height: 80))
        #expect(starved.unverified.allSatisfy { $0.x >= 0 && $0.y >= 0 && $0.x + $0.width <= 580 && $0.y + $0.height <= 420 })
    }

    @Test("a padding that leaves no camera frame fails the frame closed")
    func impossiblePadding() throws {
        let detector = ScriptedRegionDetector(frame: frame)
        let scheduler = try makeScheduler(detector)
        let result = scheduler.schedule(frame.plane, padding: 240, motionRegions: [], budget: .unlimited)
        #expect(result.unverifiedFraction == 1)
        #expect(result.failure != nil)
        #expect(detector.passes.isEmpty)
    }
}
