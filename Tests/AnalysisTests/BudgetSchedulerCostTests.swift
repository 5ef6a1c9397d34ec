// Time mode learns each detector's cost per work unit from the passes it runs. A pass of a few
// windows costs mostly its fixed set-up, so it must not teach the estimate at full weight: learned
// so, one tiny pass made the next frame's large region look too expensive to start, and a skipped
// pass teaches nothing, so the region stayed unexamined (and masked) frame after frame.

import Foundation
import Testing
@testable import Analysis

/// Sleeps for a set time per pass: 2 ms for a region under 1,000 pixels (a few work units), 1 ms
/// for anything larger. Costs one work unit per 100 pixels, as the scripted detector.
final class SleepingRegionDetector: RegionDetector {
    let frame: SchedulerTestFrame
    private(set) var passes: [DetectionBox] = []

    init(frame: SchedulerTestFrame) { self.frame = frame }

    func passCost(width: Int, height: Int, parameters: DetectionParameters) -> DetectorPassCost {
        width >= 24 && height >= 24 ? DetectorPassCost(workUnits: width * height / 100, scales: 1)
            : DetectorPassCost(workUnits: 0, scales: 0)
    }

    func detect(_ image: GrayPlane, parameters: DetectionParameters) throws -> [DetectionBox] {
        let offset = image.base - UnsafePointer(frame.pixels)
        passes.append(DetectionBox(x: offset % frame.stride, y: offset / frame.stride, width: image.width, height: image.height))
        Thread.sleep(forTimeInterval: image.width * image.height < 1000 ? 0.002 : 0.001)
        return []
    }
}

@Suite("Budget scheduler: learning the cost of a pass")
struct BudgetSchedulerCostTests {
    let frame = SchedulerTestFrame()

    @Test("a pass of a few windows does not make the next frame's large region look too expensive")
    func tinyPassesDoNotInflateTheEstimate() throws {
        let detector = SleepingRegionDetector(frame: frame)
        let scheduler = try BudgetScheduler(
            detectors: [ScheduledDetector(objectClass: .face, regionDetector: detector, parameters: DetectionParameters(),
                                          coarseParameters: DetectionParameters(scaleFactor: 1.2))],
            configuration: exactSchedulerConfiguration())
        // 1,000 work units, about 1 ms; and 5 units, about 2 ms (400,000 ns a unit). Learned at
        // full weight, the tiny pass would put the large one at about 100 ms the next frame.
        let large = DetectionBox(x: 0, y: 0, width: 400, height: 250)
        let tiny = DetectionBox(x: 600, y: 440, width: 24, height: 24)
        for frameNumber in 0..<3 {
            let result = scheduler.schedule(frame.plane, motionRegions: [large, tiny], budget: .time(milliseconds: 50))
            #expect(!result.unverified.contains(large), "frame \(frameNumber): the large region was not examined")
            #expect(!result.unverified.contains(tiny), "frame \(frameNumber)")
        }
        #expect(detector.passes.filter { $0 == large }.count == 3)
    }
}
