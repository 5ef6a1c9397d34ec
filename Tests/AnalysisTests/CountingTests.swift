// Counting on scripted tracks: line crossings per direction (with the tracker in the loop for the
// basic cases), jitter on a line, crossings beside a segment, zone occupancy and dwell aggregates,
// point-in-polygon on concave zones, and interval reset.

import Testing
import Analysis

private let start = ContinuousClock.now

/// Capture time of `frame` at 10 frames per second.
private func time(_ frame: Int) -> ContinuousClock.Instant {
    start + .milliseconds(100 * frame)
}

/// A confirmed, observed track whose reference point (bottom centre) is at (`x`, `y`).
private func track(_ id: UInt64, at x: Int, _ y: Int, _ objectClass: ObjectClass = .person, missedFrames: Int = 0, confirmed: Bool = true) -> Track {
    let box = DetectionBox(x: x - 20, y: y - 80, width: 40, height: 80)
    return Track(id: id, objectClass: objectClass, box: box, predictedBox: box, velocity: .zero,
                 age: 10, missedFrames: missedFrames, isConfirmed: confirmed)
}

/// A vertical line at x = 320 drawn top to bottom: moving right across it is positive.
private let door = CountingLine(name: "door", from: Point(x: 320, y: 0), to: Point(x: 320, y: 480))

private func closeTo(_ first: Double, _ second: Double) -> Bool { abs(first - second) < 1e-9 }

@Suite("Counting")
struct CountingTests {
    /// Runs detections of one person whose box centre follows `centersX` through a tracker and
    /// an aggregator with the door line, and returns the interval's door counts.
    func countDoor(centersX: [Int], hysteresis: Double = 4) -> LineCounts? {
        let tracker = Tracker()
        let aggregator = CountAggregator(lines: [door], zones: [], configuration: CountingConfiguration(lineHysteresis: hysteresis))
        for (frame, centerX) in centersX.enumerated() {
            let box = DetectionBox(x: centerX - 20, y: 160, width: 40, height: 80)
            let tracks = tracker.update([Observation(box: box, objectClass: .person)], frameSequence: UInt64(frame))
            aggregator.observe(tracks, at: time(frame))
        }
        #expect(tracker.counters.tracksStarted == 1)
        return aggregator.closeInterval(at: time(centersX.count)).line(named: "door")
    }

    @Test("a box moving right across a vertical line counts exactly one positive crossing")
    func rightwardCrossing() {
        let counts = countDoor(centersX: Array(stride(from: 200, through: 440, by: 5)))
        #expect(counts?.crossings(.person, .positive) == 1)
        #expect(counts?.crossings(.person, .negative) == 0)
        #expect(counts?.crossings(.motion, .positive) == 0)
    }

    @Test("moving back across the line counts one negative crossing")
    func crossingBack() {
        let there = Array(stride(from: 200, through: 440, by: 5))
        let back = Array(stride(from: 440, through: 200, by: -5))
        let counts = countDoor(centersX: there + back)
        #expect(counts?.crossings(.person, .positive) == 1)
        #expect(counts?.crossings(.person, .negative) == 1)
        let onlyBack = countDoor(centersX: back)
        #expect(onlyBack?.crossings(.person, .positive) == 0)
        #expect(onlyBack?.crossings(.person, .negative) == 1)
    }

    @Test("jitter on the line does not multiply counts")
    func jitterCountsOnce() {
        let approach = Array(stride(from: 260, through: 318, by: 2))
        let jitter = (0..<40).map { 320 + ($0 % 2 == 0 ? 3 : -3) }
        let leave = Array(stride(from: 322, through: 400, by: 2))
        let counts = countDoor(centersX: approach + jitter + leave)
        #expect(counts?.crossings(.person, .positive) == 1)
        #expect(counts?.crossings(.person, .negative) == 0)
        // The same path without the dead band counts every wobble: what the hysteresis is for.
        let naive = countDoor(centersX: approach + jitter + leave, hysteresis: 0)
        #expect((naive?.crossings(.person, .positive) ?? 0) > 1)
    }

    @Test("a track counts once per direction unless it crosses back, even going round the end of the line")
    func oncePerDirection() {
        let line = CountingLine(name: "gate", from: Point(x: 320, y: 100), to: Point(x: 320, y: 300))
        let aggregator = CountAggregator(lines: [line], zones: [])
        var frame = 0
        func walk(_ points: [(Int, Int)]) {
            for (x, y) in points {
                aggregator.observe([track(1, at: x, y)], at: time(frame))
                frame += 1
            }
        }
        walk([(300, 200), (340, 200)])              // through the gate: +1
        walk([(340, 400), (300, 400), (300, 200)])  // round its lower end, back to the start side
        walk([(340, 200)])                          // through again, same direction: not counted
        var counts = aggregator.closeInterval(at: time(frame)).line(named: "gate")
        #expect(counts?.crossings(.person, .positive) == 1)
        #expect(counts?.crossings(.person, .negative) == 0)
        walk([(300, 200), (340, 200)])              // back through (-1), then forward again (+1)
        counts = aggregator.closeInterval(at: time(frame)).line(named: "gate")
        #expect(counts?.crossings(.person, .positive) == 1)
        #expect(counts?.crossings(.person, .negative) == 1)
    }

    @Test("passing beside the end of a segment is not a crossing")
    func besideTheSegment() {
        let line = CountingLine(name: "short", from: Point(x: 320, y: 100), to: Point(x: 320, y: 200))
        let aggregator = CountAggregator(lines: [line], zones: [])
        for (frame, x) in stride(from: 200, through: 440, by: 10).enumerated() {
            aggregator.observe([track(1, at: x, 400)], at: time(frame))
        }
        let counts = aggregator.closeInterval(at: time(30)).line(named: "short")
        #expect(counts?.crossings(.person, .positive) == 0)
        #expect(counts?.crossings(.person, .negative) == 0)
    }

    @Test("direction convention: upwards across a line drawn left to right is positive")
    func horizontalLineDirection() {
        let line = CountingLine(name: "kerb", from: Point(x: 0, y: 300), to: Point(x: 640, y: 300))
        let aggregator = CountAggregator(lines: [line], zones: [])
        for (frame, y) in stride(from: 400, through: 200, by: -10).enumerated() {
            aggregator.observe([track(1, at: 320, y, .motion)], at: time(frame))
        }
        let counts = aggregator.closeInterval(at: time(30)).line(named: "kerb")
        #expect(counts?.crossings(.motion, .positive) == 1)
        #expect(counts?.crossings(.motion, .negative) == 0)
    }

    @Test("tentative tracks and coasting predictions are not counted")
    func onlyObservedConfirmedTracks() {
        let aggregator = CountAggregator(lines: [door], zones: [])
        for (frame, x) in stride(from: 280, through: 360, by: 10).enumerated() {
            aggregator.observe([track(1, at: x, 300, confirmed: false), track(2, at: x, 100, missedFrames: frame == 0 ? 0 : 1)], at: time(frame))
        }
        let counts = aggregator.closeInterval(at: time(10)).line(named: "door")
        #expect(counts?.crossings(.person, .positive) == 0)
    }

    @Test("zone occupancy and dwell aggregates on a scripted scenario")
    func zoneScenario() {
        let zone = CountingZone(name: "bench", polygon: [Point(x: 100, y: 100), Point(x: 300, y: 100), Point(x: 300, y: 300), Point(x: 100, y: 300)])
        let aggregator = CountAggregator(lines: [], zones: [zone])
        let inside = (200, 200), outside = (500, 200)
        for frame in 0..<50 {
            var tracks: [Track] = []
            // Person 1 is inside for frames 10...29 and stays tracked outside afterwards.
            let first = (10..<30).contains(frame) ? inside : outside
            tracks.append(track(1, at: first.0, first.1))
            // Person 2 is inside from frame 15 until its track ends after frame 39.
            if frame < 40 {
                let second = frame >= 15 ? inside : outside
                tracks.append(track(2, at: second.0, second.1))
            }
            // A face sits inside throughout; its stay is still in progress at the close.
            tracks.append(track(3, at: 150, 150, .face))
            aggregator.observe(tracks, at: time(frame))
        }
        let interval = aggregator.closeInterval(at: time(50))
        #expect(interval.frames == 50)
        let counts = interval.zone(named: "bench")
        // Occupancy: 1 for frames 10..<15, 2 for 15..<30, 1 for 30..<40: 45 over 50 frames.
        #expect(counts?.occupancy[.person]?.maximum == 2)
        #expect(closeTo(counts?.occupancy[.person]?.mean ?? -1, 0.9))
        #expect(counts?.occupancy[.face]?.maximum == 1)
        #expect(closeTo(counts?.occupancy[.face]?.mean ?? -1, 1))
        let dwell = counts?.dwell[.person]
        // Person 1: frames 10...29, 1.9 s; person 2: frames 15...39, 2.4 s.
        #expect(dwell?.count == 2)
        #expect(closeTo(dwell?.totalSeconds ?? -1, 4.3))
        #expect(closeTo(dwell?.meanSeconds ?? -1, 2.15))
        #expect(closeTo(dwell?.maximumSeconds ?? -1, 2.4))
        #expect(counts?.dwell[.face]?.count == 0)
        #expect(aggregator.liveTrackCount == 2)

        // Next interval: the face leaves at frame 55 and counts its whole stay there.
        for frame in 50..<60 {
            let face = frame < 55 ? track(3, at: 150, 150, .face) : track(3, at: 500, 150, .face)
            aggregator.observe([face], at: time(frame))
        }
        aggregator.observe([], at: time(60))
        #expect(aggregator.liveTrackCount == 0)
        let next = aggregator.closeInterval(at: time(61)).zone(named: "bench")
        #expect(next?.dwell[.face]?.count == 1)
        #expect(closeTo(next?.dwell[.face]?.totalSeconds ?? -1, 5.4))
        #expect(next?.dwell[.person]?.count == 0)
        #expect(next?.occupancy[.person]?.maximum == 0)
    }

    @Test("point in polygon on concave polygons")
    func concavePolygons() {
        // A U: two arms joined by a base along the top, the notch open at the bottom.
        let letterU = CountingZone(name: "u", polygon: [
            Point(x: 0, y: 0), Point(x: 30, y: 0), Point(x: 30, y: 30), Point(x: 20, y: 30),
            Point(x: 20, y: 10), Point(x: 10, y: 10), Point(x: 10, y: 30), Point(x: 0, y: 30),
        ])
        #expect(letterU.contains(Point(x: 5, y: 20)))
        #expect(letterU.contains(Point(x: 25, y: 20)))
        #expect(letterU.contains(Point(x: 15, y: 5)))
        #expect(!letterU.contains(Point(x: 15, y: 20)))
        #expect(!letterU.contains(Point(x: 40, y: 5)))
        #expect(!letterU.contains(Point(x: -1, y: 20)))
        // A ray from this point runs along the notch's top edge and through its vertices.
        #expect(letterU.contains(Point(x: 5, y: 10)))
        // An arrowhead, with its concave vertex at (10, 10).
        let arrow = CountingZone(name: "arrow", polygon: [Point(x: 0, y: 0), Point(x: 20, y: 10), Point(x: 0, y: 20), Point(x: 10, y: 10)])
        #expect(arrow.contains(Point(x: 15, y: 10)))
        #expect(!arrow.contains(Point(x: 5, y: 10)))
        #expect(arrow.contains(Point(x: 5, y: 4)))
        #expect(!CountingZone(name: "degenerate", polygon: [Point(x: 0, y: 0), Point(x: 10, y: 10)]).contains(Point(x: 5, y: 5)))
    }

    @Test("closing an interval resets every sum; intervals close by themselves when configured")
    func intervalReset() {
        let aggregator = CountAggregator(lines: [door], zones: [], configuration: CountingConfiguration(intervalSeconds: 1))
        var closed: [IntervalCounts] = []
        // Crosses at frame 8 (past the dead band), then stands still; intervals of 1 s at 10 frames per second.
        for frame in 0..<25 {
            if let interval = aggregator.observe([track(1, at: 300 + 10 * min(frame, 12) - 50, 300)], at: time(frame)) {
                closed.append(interval)
            }
        }
        #expect(closed.count == 2)
        #expect(closed.first?.start == time(0))
        #expect(closed.first?.end == time(10))
        #expect(closed.first?.frames == 10)
        #expect(closed.first?.line(named: "door")?.crossings(.person, .positive) == 1)
        #expect(closed.last?.line(named: "door")?.crossings(.person, .positive) == 0)
        let last = aggregator.closeInterval(at: time(25))
        #expect(last.start == time(20))
        #expect(last.frames == 5)
        #expect(last.line(named: "door")?.crossings(.person, .positive) == 0)
        let empty = aggregator.closeInterval(at: time(26))
        #expect(empty.frames == 0)
    }
}
