// `examinedMotionKeepsTilesVerified`: motion whose regions were all examined leaves a tile's scan
// standing (until it expires); motion not examined, or a frame that failed part-way, voids it as
// before. Same scripted detector and exact grid as BudgetSchedulerTests.

import Testing
@testable import Analysis

@Suite("Budget scheduler, examined motion keeps tiles verified")
struct BudgetSchedulerExaminedMotionTests {
    let frame = SchedulerTestFrame()
    let detector: ScriptedRegionDetector
    let scheduler: BudgetScheduler
    /// In tile (1, 1) only: 25 units.
    static let region = DetectionBox(x: 170, y: 170, width: 50, height: 50)

    init() throws {
        detector = ScriptedRegionDetector(frame: frame)
        var configuration = exactSchedulerConfiguration()
        configuration.examinedMotionKeepsTilesVerified = true
        scheduler = try BudgetScheduler(
            detectors: [ScheduledDetector(objectClass: .face, regionDetector: detector, parameters: DetectionParameters(),
                                          coarseParameters: DetectionParameters(scaleFactor: 1.2))],
            configuration: configuration)
    }

    @Test("examined motion does not send its tile back for a scan; the tile still expires")
    func examinedMotionKeepsScan() {
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        // The region alone fits: with the option off its tile would be unverified (see
        // BudgetSchedulerTests.motionInvalidatesOldScans); here nothing is.
        let moved = scheduler.schedule(frame.plane, motionRegions: [Self.region], budget: .workUnits(25))
        #expect(moved.unverified == [])
        #expect(detector.passes.last == Self.region)
        // With no limit, the walker's tile is not among the scans: only the two oldest refreshes.
        let passesBefore = detector.passes.count
        let next = scheduler.schedule(frame.plane, motionRegions: [Self.region], budget: .unlimited)
        #expect(next.unverified == [])
        #expect(Array(detector.passes[passesBefore...]) == [Self.region, schedulerTile(0, 0), schedulerTile(1, 0)])
        // Frames 1 and 2 refreshed tiles 0 and 1; the walker's tile (index 5) was last scanned in
        // frame 0 and expires at frame 8 whatever the motion did.
        for _ in 3...8 { _ = scheduler.schedule(frame.plane, motionRegions: [Self.region], budget: .workUnits(25)) }
        #expect(!scheduler.isVerified(5))
        #expect(scheduler.isVerified(0))
    }

    @Test("motion that was not examined voids the scan until the tile is scanned again")
    func unexaminedMotionVoidsScan() {
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        let skipped = scheduler.schedule(frame.plane, motionRegions: [Self.region], budget: .workUnits(0))
        #expect(skipped.unverified == [Self.region, schedulerTile(1, 1)])
        // Examined now, but the earlier unexamined motion still stands against the old scan.
        let examined = scheduler.schedule(frame.plane, motionRegions: [Self.region], budget: .workUnits(25))
        #expect(examined.unverified == [schedulerTile(1, 1)])
        let rescanned = scheduler.schedule(frame.plane, motionRegions: [], budget: .workUnits(256))
        #expect(detector.passes.last == schedulerTile(1, 1))
        #expect(rescanned.unverified == [])
    }

    @Test("a frame that fails closed during the region passes voids the scans of the tiles its motion touched")
    func failureVoidsScan() {
        _ = scheduler.schedule(frame.plane, motionRegions: [], budget: .unlimited)
        detector.failingPass = detector.passes.count
        let failed = scheduler.schedule(frame.plane, motionRegions: [Self.region], budget: .unlimited)
        #expect(failed.failure != nil)
        detector.failingPass = nil
        #expect(!scheduler.isVerified(5))
        #expect(scheduler.isVerified(0))
    }
}
