// A verified scan vouches for what it found: its detections come back in every frame in which the
// scan is still valid, so a still face found by a tile scan stays masked between scans. (Before,
// it was reported only in the scan's frame; with the tracker's persistence after it, a still face
// in a still scene was left unmasked in 2 frames of every 8.)

import Testing
@testable import Analysis

@Suite("Budget scheduler: findings of valid scans")
struct BudgetSchedulerFindingsTests {
    let frame = SchedulerTestFrame()

    @Test("a tile scan's findings are reported in every frame it stays valid, and not after it expires")
    func findingsLastAsLongAsTheScan() throws {
        let detector = ScriptedRegionDetector(frame: frame)
        let scheduler = try BudgetScheduler(
            detectors: [ScheduledDetector(objectClass: .face, regionDetector: detector, parameters: DetectionParameters(),
                                          coarseParameters: DetectionParameters(scaleFactor: 1.2))],
            configuration: exactSchedulerConfiguration())
        let first = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        #expect(first.detections.map(\.source) == (0..<12).map { DetectionSource.tile($0) })
        for frameNumber in 1..<8 {
            // No budget: nothing is scanned again, and every scan is still valid.
            let result = scheduler.schedule(frame.plane, motionRegions: [], budget: .workUnits(0))
            #expect(result.unverified == [], "frame \(frameNumber)")
            #expect(result.detections == first.detections, "frame \(frameNumber)")
        }
        let expired = scheduler.schedule(frame.plane, motionRegions: [], budget: .workUnits(0))
        #expect(expired.unverifiedFraction == 1)
        #expect(expired.detections == [])
    }

    @Test("the tiles a scan is voided in stop reporting its findings; the others keep theirs")
    func motionVoidsFindings() throws {
        let detector = ScriptedRegionDetector(frame: frame)
        let scheduler = try BudgetScheduler(
            detectors: [ScheduledDetector(objectClass: .face, regionDetector: detector, parameters: DetectionParameters(),
                                          coarseParameters: DetectionParameters(scaleFactor: 1.2))],
            configuration: exactSchedulerConfiguration())
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        // Region C (tile 11) is examined, but without trust in examined motion its tile is void.
        let result = scheduler.schedule(frame.plane, motionRegions: [BudgetSchedulerTests.regionC], budget: .workUnits(9))
        #expect(result.unverified == [schedulerTile(3, 2)])
        #expect(result.detections.map(\.source) == [.movingRegion(BudgetSchedulerTests.regionC)] + (0..<11).map { DetectionSource.tile($0) })
    }

    @Test("on a real face, the face a tile scan found is still reported in the frames after it")
    func realFaceStaysReported() throws {
        let image = try readGrayStill(path: "\(repositoryRoot)/Fixtures/faces_pnm/astronaut.pgm")
        let scheduler = try BudgetScheduler(detectors: [
            ScheduledDetector(objectClass: .face, detector: try schedulerCascade("haarcascade_frontalface_default.xml"),
                              parameters: DetectionParameters(scaleFactor: 1.2, minNeighbors: 3)),
        ])
        func schedule(_ budget: FrameBudget) -> ScheduleResult {
            image.pixels.withUnsafeBufferPointer { pixels in
                scheduler.schedule(GrayPlane(base: pixels.baseAddress!, width: image.width, height: image.height, stride: image.width),
                                   motionRegions: [], budget: budget)
            }
        }
        let first = schedule(.unlimited)
        let faces = first.detections.filter { $0.objectClass == .face }
        try #require(!faces.isEmpty, "the coarse scans should find the astronaut's face")
        for frameNumber in 1..<4 {
            let result = schedule(.workUnits(0))
            #expect(result.unverified == [], "frame \(frameNumber)")
            // The same boxes (tiles' findings come back before the large-object pass's).
            let boxes = result.detections.filter { $0.objectClass == .face }.map(\.box)
            #expect(boxes.count == faces.count && Set(boxes) == Set(faces.map(\.box)), "frame \(frameNumber)")
        }
    }
}
