// The budget scheduler with real cascades on a real still: region passes find exactly what a
// direct `detect` on the same crop finds, the cascade's work units are what a budget is compared
// against, and (when OBSCURA_SCHEDULER_TIMING is set) a timing run over the stills with time
// budgets that prints the unverified fraction and deadline misses.

import Foundation
import Testing
@testable import Analysis

struct SchedulerFixtureMissing: Error, CustomStringConvertible {
    var description: String
}

/// A still from the sample footage; fails (does not skip) when the fixtures were never made.
func schedulerStill(_ name: String) throws -> GrayImage {
    let path = "\(repositoryRoot)/Fixtures/stills/\(name)"
    guard FileManager.default.fileExists(atPath: path) else {
        throw SchedulerFixtureMissing(description: "fixture \(path) is missing: run tools/bootstrap to make the stills")
    }
    return try readGrayStill(path: path)
}

func schedulerCascade(_ name: String) throws -> CascadeDetector {
    let path = cascadePath(name)
    guard FileManager.default.fileExists(atPath: path) else {
        throw SchedulerFixtureMissing(description: "cascade \(path) is missing: run tools/bootstrap (it installs opencv-data)")
    }
    return CascadeDetector(classifier: try CascadeClassifier.load(path: path))
}

@Suite("Budget scheduler on real images")
struct BudgetSchedulerImageTests {
    let image: GrayImage
    let face: CascadeDetector
    let body: CascadeDetector
    let parameters = DetectionParameters(scaleFactor: 1.1, minNeighbors: 3)

    init() throws {
        image = try schedulerStill("frame_001.pgm")
        face = try schedulerCascade("haarcascade_frontalface_default.xml")
        body = try schedulerCascade("haarcascade_fullbody.xml")
    }

    func makeScheduler() throws -> BudgetScheduler {
        try BudgetScheduler(detectors: [
            ScheduledDetector(objectClass: .face, detector: face, parameters: parameters),
            ScheduledDetector(objectClass: .person, detector: body, parameters: parameters),
        ])
    }

    /// The people a whole-frame full-body pass finds, standing in for the motion stage's regions
    /// so that the regions are taken from the image rather than made up.
    func peopleInFrame() -> [DetectionBox] {
        detectObjects(in: image, detector: CascadeDetector(classifier: body.classifier), parameters: parameters)
    }

    /// The regions as the default configuration grows them (a quarter of the size on each side,
    /// at least 16 pixels), largest first; the people are far enough apart not to merge.
    func grownRegions(_ people: [DetectionBox]) -> [DetectionBox] {
        people.map { box in
            let horizontal = max(16, Int((Double(box.width) * 0.25).rounded(.up)))
            let vertical = max(16, Int((Double(box.height) * 0.25).rounded(.up)))
            return BudgetGeometry.clampBox(BudgetGeometry.grownBox(box, horizontal: horizontal, vertical: vertical),
                                           width: image.width, height: image.height)!
        }.sorted(by: BudgetGeometry.largestFirst)
    }

    @Test("with no limit nothing is unverified, and each region's detections equal a direct detect on that region")
    func unlimitedMatchesDirectDetection() throws {
        let people = peopleInFrame()
        try #require(people.count >= 2, "frame_001 should show at least two people; it shows \(people)")
        let scheduler = try makeScheduler()
        let result = image.pixels.withUnsafeBufferPointer { pixels in
            scheduler.schedule(GrayPlane(base: pixels.baseAddress!, width: image.width, height: image.height, stride: image.width),
                               motionRegions: people, budget: .unlimited)
        }
        #expect(result.unverified == [])
        #expect(result.unverifiedFraction == 0)
        #expect(result.failure == nil)

        var peopleFoundInRegions = 0
        for region in grownRegions(people) {
            for (objectClass, cascade) in [(ObjectClass.face, face), (.person, body)] {
                let direct = image.pixels.withUnsafeBufferPointer { pixels in
                    CascadeDetector(classifier: cascade.classifier).detect(
                        GrayPlane(base: pixels.baseAddress! + region.y * image.width + region.x,
                                  width: region.width, height: region.height, stride: image.width),
                        parameters: parameters)
                }.map { DetectionBox(x: $0.x + region.x, y: $0.y + region.y, width: $0.width, height: $0.height) }
                let scheduled = result.detections.filter { $0.source == .movingRegion(region) && $0.objectClass == objectClass }.map(\.box)
                #expect(scheduled == direct, "\(objectClass) in \(region)")
                if objectClass == .person { peopleFoundInRegions += scheduled.count }
            }
        }
        #expect(peopleFoundInRegions >= 1, "the region passes should find at least one of the people they were centred on")
    }

    @Test("a work-unit budget of exactly the largest region's passes leaves the other region and every tile unverified")
    func exactBudgetWithRealCascades() throws {
        let people = peopleInFrame()
        try #require(people.count >= 2)
        let scheduler = try makeScheduler()
        let grown = grownRegions(people)
        let largest = grown[0]
        let cost = face.passCost(width: largest.width, height: largest.height, parameters: parameters).workUnits
            + body.passCost(width: largest.width, height: largest.height, parameters: parameters).workUnits
        let result = image.pixels.withUnsafeBufferPointer { pixels in
            scheduler.schedule(GrayPlane(base: pixels.baseAddress!, width: image.width, height: image.height, stride: image.width),
                               motionRegions: people, budget: .workUnits(cost))
        }
        #expect(result.workUsed == cost)
        // The large-object pass did not fit either, so the whole frame is unverified as well.
        #expect(result.unverified == Array(grown.dropFirst()) + scheduler.tiles
            + [DetectionBox(x: 0, y: 0, width: image.width, height: image.height)])
        #expect(result.unverifiedFraction == 1)
        #expect(Set(result.detections.map(\.source)) .isSubset(of: [.movingRegion(largest)]))
    }

    @Test("a cascade's pass cost counts the windows of every scale it will scan")
    func cascadePassCost() {
        let cost = face.passCost(width: 640, height: 480, parameters: parameters)
        #expect(cost.scales == face.scales(imageWidth: 640, imageHeight: 480, parameters: parameters).count)
        // The first scale alone: every other row and column of a 640x480 image, 24x24 windows.
        let firstScale = ((640 + 1 - 24 + 1) / 2) * ((480 + 1 - 24 + 1) / 2)
        #expect(cost.workUnits > firstScale)
        #expect(face.passCost(width: 20, height: 20, parameters: parameters) == DetectorPassCost(workUnits: 0, scales: 0))
        let coarse = ScheduledDetector.coarsened(parameters, windowWidth: 24, windowHeight: 24)
        #expect(face.passCost(width: 640, height: 480, parameters: coarse).workUnits < cost.workUnits / 3)
    }

    /// Prints, for time budgets of 10, 20 and 40 ms over 100 frames of the stills with the
    /// frontal-face cascade, the mean unverified fraction and the deadline misses. Run in release:
    /// OBSCURA_SCHEDULER_TIMING=1 swift test -c release -Xswiftc -enable-testing --filter BudgetSchedulerImageTests
    @Test("timing with time budgets", .enabled(if: ProcessInfo.processInfo.environment["OBSCURA_SCHEDULER_TIMING"] != nil))
    func timing() throws {
        var stills: [GrayImage] = []
        for index in 1...10 {
            stills.append(try schedulerStill(String(format: "frame_%03d.pgm", index)))
        }
        // Moving regions: the people in each still, found once up front, as the motion stage
        // would report them.
        let people = stills.map { detectObjects(in: $0, detector: CascadeDetector(classifier: body.classifier), parameters: parameters) }
        let clock = ContinuousClock()
        for withMotion in [true, false] {
            for milliseconds in [10.0, 20.0, 40.0] {
                let scheduler = try BudgetScheduler(detectors: [
                    ScheduledDetector(objectClass: .face, detector: CascadeDetector(classifier: face.classifier), parameters: parameters),
                ])
                var worstOverrun = Duration.zero
                var worstElapsed = Duration.zero
                for frame in 0..<100 {
                    let still = stills[frame % stills.count]
                    let start = clock.now
                    let result = still.pixels.withUnsafeBufferPointer { pixels in
                        scheduler.schedule(GrayPlane(base: pixels.baseAddress!, width: still.width, height: still.height, stride: still.width),
                                           motionRegions: withMotion ? people[frame % stills.count] : [],
                                           budget: .time(milliseconds: milliseconds), startedAt: start)
                    }
                    #expect(result.unverifiedFraction >= 0 && result.unverifiedFraction <= 1)
                    worstElapsed = max(worstElapsed, result.elapsed)
                    worstOverrun = max(worstOverrun, result.elapsed - .nanoseconds(Int64(milliseconds * 1e6)))
                }
                let metrics = scheduler.metrics
                print("budget \(Int(milliseconds)) ms, \(withMotion ? "people as motion" : "no motion"): mean unverified "
                      + String(format: "%.3f", metrics.meanUnverifiedFraction) + ", deadline misses \(metrics.deadlineMisses)/\(metrics.frames)"
                      + ", worst frame \(worstElapsed), worst overrun \(max(worstOverrun, .zero)), scales skipped \(metrics.scalesSkipped)")
            }
        }
    }
}
