// Reuse without allocation must not change a single result: one BilinearResizer reconfigured
// across size pairs against the plain reference resize, one detector over crops that grow and shrink against fresh detectors (the
// integral layouts follow the largest size seen, and stale columns from a bigger crop stay in the
// buffers), grouping and clipping into kept arrays, and the scheduler's `into:` form against
// its returning form.

import Frames
import Testing
@testable import Analysis

@Suite("Detector buffer reuse")
struct DetectorReuseTests {
    /// A deterministic, textured plane of `width x height` with `stride` bytes per row.
    static func plane(width: Int, height: Int, stride: Int, seed: Int) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: stride * max(height, 1))
        var state = UInt32(truncatingIfNeeded: seed &* 2_654_435_761 &+ 1)
        for row in 0..<height {
            for column in 0..<width {
                state = state &* 1_664_525 &+ 1_013_904_223
                pixels[row * stride + column] = UInt8(truncatingIfNeeded: (column &* 3 &+ row &* 5) &+ Int(state >> 28))
            }
        }
        return pixels
    }

    @Test("a resizer reconfigured across size pairs is bit-exact with the reference resize",
          arguments: [(37, 23, 11, 7), (640, 480, 582, 436), (1, 1, 5, 3), (9, 1, 4, 1), (13, 17, 29, 31), (200, 150, 200, 150), (5, 200, 3, 71)])
    func pyramidResizer(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int) {
        let shared = BilinearResizer()
        // A bigger pair first, so that the shared tables are larger than needed and hold stale
        // values past the current size.
        let warm = Self.plane(width: 700, height: 500, stride: 700, seed: 1)
        var scratch = [UInt8](repeating: 0, count: 650 * 480)
        warm.withUnsafeBufferPointer { source in
            scratch.withUnsafeMutableBufferPointer { destination in
                shared.configure(sourceWidth: 700, sourceHeight: 500, width: 650, height: 480)
                shared.resize(source: source.baseAddress!, sourceStride: 700, destination: destination.baseAddress!, destinationStride: 650)
            }
        }
        let sourceStride = sourceWidth + 5
        let source = Self.plane(width: sourceWidth, height: sourceHeight, stride: sourceStride, seed: sourceWidth &* 31 &+ height)
        var ours = [UInt8](repeating: 0, count: width * height)
        var expected = ours
        source.withUnsafeBufferPointer { input in
            ours.withUnsafeMutableBufferPointer { output in
                shared.configure(sourceWidth: sourceWidth, sourceHeight: sourceHeight, width: width, height: height)
                shared.resize(source: input.baseAddress!, sourceStride: sourceStride, destination: output.baseAddress!, destinationStride: width)
            }
            expected.withUnsafeMutableBufferPointer { output in
                resizeBilinearExactReference(source: input.baseAddress!, sourceWidth: sourceWidth, sourceHeight: sourceHeight,
                                             sourceStride: sourceStride, destination: output.baseAddress!, width: width,
                                             height: height, destinationStride: width)
            }
        }
        #expect(ours == expected)
    }

    /// Crops of the still, in an order that grows the buffers, then shrinks, then grows again.
    static let crops: [DetectionBox] = [
        DetectionBox(x: 100, y: 60, width: 97, height: 211), DetectionBox(x: 0, y: 0, width: 320, height: 240),
        DetectionBox(x: 250, y: 200, width: 141, height: 93), DetectionBox(x: 33, y: 17, width: 333, height: 181),
        DetectionBox(x: 300, y: 100, width: 203, height: 255),
    ]

    @Test("one detector over crops of changing size finds what a fresh detector finds on each",
          // Haar stumps with tilted features (split columns below scale 2), and LBP; each finds raw
          // hits in these crops (checked with cv2 at scale factor 1.1).
          arguments: ["haarcascade_fullbody.xml", "lbpcascade_frontalface.xml"])
    func reuseOverCrops(cascade: String) throws {
        let image = try schedulerStill("frame_001.pgm")
        let classifier = try CascadeClassifier.load(path: cascadePath(cascade))
        let shared = CascadeDetector(classifier: classifier)
        var kept: [DetectionBox] = []
        let parameters = DetectionParameters(scaleFactor: 1.1, minNeighbors: 0)
        var total = 0
        try image.pixels.withUnsafeBufferPointer { pixels in
            for crop in Self.crops {
                let plane = GrayPlane(base: pixels.baseAddress! + crop.y * image.width + crop.x,
                                      width: crop.width, height: crop.height, stride: image.width)
                let fresh = CascadeDetector(classifier: classifier).detectCandidates(plane, parameters: parameters)
                #expect(shared.detectCandidates(plane, parameters: parameters) == fresh, "crop \(crop)")
                var grouped = parameters
                grouped.minNeighbors = 2
                let expected = CascadeDetector(classifier: classifier).detect(plane, parameters: grouped)
                try (shared as any RegionDetector).detect(plane, parameters: grouped, into: &kept)
                #expect(kept == expected, "crop \(crop)")
                total += fresh.count
            }
        }
        // The crops hold people: a detector that found nothing anywhere would prove nothing.
        #expect(total > 0)
    }

    @Test("grouping into a kept array equals groupRectangles, call after call")
    func groupingReuse() {
        var grouping = RectangleGrouping()
        var kept: [DetectionBox] = []
        var state: UInt32 = 7
        func next(_ bound: Int) -> Int {
            state = state &* 1_664_525 &+ 1_013_904_223
            return Int(state >> 8) % bound
        }
        var nonEmpty = 0
        for round in 0..<40 {
            var boxes: [DetectionBox] = []
            for _ in 0..<(round % 7 == 0 ? 0 : 5 + next(60)) {
                let size = 20 + next(40)
                // Clustered around a few centres, so groups form.
                boxes.append(DetectionBox(x: 100 * next(3) + next(8), y: 80 * next(2) + next(8), width: size, height: size + next(5)))
            }
            for threshold in [0, 1, 3] {
                grouping.group(boxes, groupThreshold: threshold, eps: 0.2, into: &kept)
                let expected = groupRectangles(boxes, groupThreshold: threshold, eps: 0.2)
                #expect(kept == expected)
                if !expected.isEmpty { nonEmpty += 1 }
            }
        }
        #expect(nonEmpty > 20)
        var clipped = [DetectionBox(x: -5, y: 3, width: 10, height: 10), DetectionBox(x: 50, y: 50, width: 5, height: 5),
                       DetectionBox(x: 8, y: 8, width: 10, height: 10)]
        clipBoxes(&clipped, width: 12, height: 40)
        #expect(clipped == [DetectionBox(x: 0, y: 3, width: 5, height: 10), DetectionBox(x: 8, y: 8, width: 4, height: 10)])
    }

    @Test("scheduling into a kept result equals the returning form, frame after frame")
    func schedulerInto() throws {
        let image = try schedulerStill("frame_001.pgm")
        func makeScheduler() throws -> BudgetScheduler {
            var configuration = BudgetSchedulerConfiguration()
            configuration.tileColumns = 3
            configuration.tileRows = 2
            return try BudgetScheduler(detectors: [
                ScheduledDetector(objectClass: .face, detector: try schedulerCascade("haarcascade_frontalface_default.xml"),
                                  parameters: DetectionParameters(scaleFactor: 1.2, minNeighbors: 1)),
                ScheduledDetector(objectClass: .person, detector: try schedulerCascade("haarcascade_fullbody.xml"),
                                  parameters: DetectionParameters(scaleFactor: 1.2, minNeighbors: 1)),
            ], configuration: configuration)
        }
        let returning = try makeScheduler(), keeping = try makeScheduler()
        var kept = ScheduleResult()
        // A 320x240 view; moving regions that change size from frame to frame, as motion's do.
        let regions: [[DetectionBox]] = [
            [DetectionBox(x: 40, y: 30, width: 50, height: 90)],
            [DetectionBox(x: 44, y: 31, width: 61, height: 97), DetectionBox(x: 200, y: 120, width: 30, height: 40)],
            [],
            [DetectionBox(x: 150, y: 20, width: 90, height: 150)],
        ]
        var detections = 0
        image.pixels.withUnsafeBufferPointer { pixels in
            let frame = GrayPlane(base: pixels.baseAddress! + 100 * image.width + 150, width: 320, height: 240, stride: image.width)
            for (index, moving) in regions.enumerated() {
                // Work units: the same budget for both, deterministic on any machine.
                let budget = FrameBudget.workUnits(index == 3 ? 4_000 : 60_000)
                let expected = returning.schedule(frame, motionRegions: moving, budget: budget)
                keeping.schedule(frame, motionRegions: moving, budget: budget, into: &kept)
                #expect(kept.detections == expected.detections, "frame \(index)")
                #expect(kept.unverified == expected.unverified, "frame \(index)")
                #expect(kept.unverifiedFraction == expected.unverifiedFraction && kept.workUsed == expected.workUsed
                        && kept.scalesSkipped == expected.scalesSkipped && kept.failure == expected.failure
                        && kept.regionWorkUsed == expected.regionWorkUsed)
                detections += expected.detections.count
            }
        }
        #expect(detections > 0)
        #expect(kept.unverifiedFraction > 0)
        #expect(keeping.metrics.workUnitsUsed == returning.metrics.workUnitsUsed
                && keeping.metrics.regionWorkUnitsUsed == returning.metrics.regionWorkUnitsUsed
                && keeping.metrics.unverifiedFractionTotal == returning.metrics.unverifiedFractionTotal)
        #expect(keeping.metrics.regionWorkUnitsUsed > 0 && keeping.metrics.regionWorkUnitsUsed < keeping.metrics.workUnitsUsed)
    }
}
