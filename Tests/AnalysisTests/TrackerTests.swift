// The tracker on scripted box sequences: confirmation, coasting on prediction through missed
// detections and occlusion, objects that stop, tracks that end and never come back under the same
// identifier, and class-compatible matching between detector boxes and motion regions.

import Testing
import Analysis

/// A box of `width` x `height` whose centre is at (`centerX`, `centerY`).
private func centeredBox(_ centerX: Int, _ centerY: Int, width: Int = 40, height: Int = 80) -> DetectionBox {
    DetectionBox(x: centerX - width / 2, y: centerY - height / 2, width: width, height: height)
}

@Suite("Tracker")
struct TrackerTests {
    @Test("a new track is tentative until it has been seen hitsToConfirm times")
    func confirmation() {
        let tracker = Tracker(configuration: TrackerConfiguration(hitsToConfirm: 3))
        for frame in 0..<2 {
            let tracks = tracker.update([Observation(box: centeredBox(100 + 5 * frame, 200), objectClass: .person)], frameSequence: UInt64(frame))
            #expect(tracks.count == 1)
            #expect(tracks.first?.isConfirmed == false)
        }
        let tracks = tracker.update([Observation(box: centeredBox(110, 200), objectClass: .person)], frameSequence: 2)
        #expect(tracks.first?.isConfirmed == true)
        #expect(tracks.first?.age == 3)
        #expect(tracker.counters.tracksStarted == 1)
        #expect(tracker.counters.tracksConfirmed == 1)
    }

    @Test("a box seen once is dropped quickly and never confirmed")
    func tentativeNoiseEnds() {
        let tracker = Tracker(configuration: TrackerConfiguration(hitsToConfirm: 3, maximumTentativeMissedFrames: 1))
        tracker.update([Observation(box: centeredBox(100, 100), objectClass: .motion)], frameSequence: 0)
        #expect(tracker.update([], frameSequence: 1).count == 1)
        #expect(tracker.update([], frameSequence: 2).isEmpty)
        #expect(tracker.counters == {
            var expected = TrackerCounters()
            expected.tracksStarted = 1
            expected.tracksEnded = 1
            return expected
        }())
    }

    @Test("two objects crossing each other keep their identifiers, one hidden behind the other")
    func crossingObjectsKeepIdentifiers() {
        let tracker = Tracker()
        var hiddenFrames = 0
        var rightwardIdentifier: UInt64?
        var leftwardIdentifier: UInt64?
        for frame in 0..<70 {
            let rightward = centeredBox(120 + 6 * frame, 200)
            let leftward = centeredBox(520 - 6 * frame, 200)
            var observations = [Observation(box: rightward, objectClass: .person)]
            // While they overlap the detector sees only the one in front.
            if rightward.intersectionOverUnion(leftward) > 0.1 {
                hiddenFrames += 1
            } else {
                observations.append(Observation(box: leftward, objectClass: .person))
            }
            let tracks = tracker.update(observations, frameSequence: UInt64(frame))
            if frame == 5 {
                rightwardIdentifier = tracks.first { $0.box == rightward }?.id
                leftwardIdentifier = tracks.first { $0.box == leftward }?.id
            }
        }
        #expect(hiddenFrames >= 5)
        let tracks = tracker.tracks
        #expect(tracks.count == 2)
        #expect(tracker.counters.tracksStarted == 2)
        let goingRight = tracks.first { $0.velocity.x > 0 }
        let goingLeft = tracks.first { $0.velocity.x < 0 }
        #expect(goingRight?.id == rightwardIdentifier)
        #expect(goingLeft?.id == leftwardIdentifier)
        #expect(goingRight?.box == centeredBox(120 + 6 * 69, 200))
        #expect(goingLeft?.box == centeredBox(520 - 6 * 69, 200))
        #expect(rightwardIdentifier != nil && leftwardIdentifier != nil && rightwardIdentifier != leftwardIdentifier)
    }

    @Test("two people side by side keep their identities where greedy best-first matching would not")
    func sideBySideOptimalAssignment() {
        let tracker = Tracker()
        let left = DetectionBox(x: 100, y: 100, width: 40, height: 40)
        let right = DetectionBox(x: 122, y: 100, width: 40, height: 40)
        var identifiers: [UInt64] = []
        for frame in 0..<5 {
            identifiers = tracker.update([Observation(box: left, objectClass: .person), Observation(box: right, objectClass: .person)], frameSequence: UInt64(frame)).map(\.id)
        }
        // Both step a little: the left one 12 pixels left, the right one 12 pixels left too.
        // The left track overlaps the new right box best (0.60 against 0.54), but giving it
        // that box would leave the right track nothing: the total is larger the other way.
        let movedLeft = DetectionBox(x: 88, y: 100, width: 40, height: 40)
        let movedRight = DetectionBox(x: 110, y: 100, width: 40, height: 40)
        #expect(left.intersectionOverUnion(movedRight) > left.intersectionOverUnion(movedLeft))
        let tracks = tracker.update([Observation(box: movedRight, objectClass: .person), Observation(box: movedLeft, objectClass: .person)], frameSequence: 5)
        #expect(tracker.counters.tracksStarted == 2)
        #expect(tracks.count == 2)
        #expect(tracks.first { $0.id == identifiers.first }?.box == movedLeft)
        #expect(tracks.first { $0.id == identifiers.last }?.box == movedRight)
        #expect(tracks.allSatisfy { $0.missedFrames == 0 })
    }

    @Test("an object that stops stays tracked with the same identifier for 100 frames")
    func stoppedObjectStaysTracked() {
        let tracker = Tracker()
        var identifier: UInt64?
        for frame in 0..<20 {
            let tracks = tracker.update([Observation(box: centeredBox(100 + 5 * frame, 200), objectClass: .person)], frameSequence: UInt64(frame))
            identifier = tracks.first?.id
        }
        let stopped = centeredBox(100 + 5 * 19, 200)
        for frame in 20..<120 {
            let tracks = tracker.update([Observation(box: stopped, objectClass: .person)], frameSequence: UInt64(frame))
            #expect(tracks.count == 1)
            #expect(tracks.first?.id == identifier)
            #expect(tracks.first?.missedFrames == 0)
        }
        let track = tracker.tracks.first
        #expect(track?.isConfirmed == true)
        #expect(abs(track?.velocity.x ?? 1) < 0.001)
        #expect(track?.predictedBox == stopped)
        #expect(tracker.frozenBoxes == [stopped])
        #expect(tracker.counters.tracksStarted == 1)
        #expect(tracker.counters.tracksEnded == 0)
    }

    @Test("frozen boxes for a downscaled motion image round outwards")
    func frozenBoxesDownscaled() {
        let tracker = Tracker()
        tracker.update([Observation(box: DetectionBox(x: 5, y: -3, width: 10, height: 7), objectClass: .person)], frameSequence: 0)
        var scaled: [DetectionBox] = []
        tracker.frozenBoxes(downscaledBy: 4, into: &scaled)
        // x 5...15 -> 1...4 (floor 5/4, ceiling 15/4); y -3...4 -> -1...1.
        #expect(scaled == [DetectionBox(x: 1, y: -1, width: 3, height: 2)])
    }

    @Test("a detection missed for a few frames coasts on prediction and re-associates")
    func coastingReassociates() {
        let tracker = Tracker(configuration: TrackerConfiguration(maximumMissedFrames: 10))
        var identifier: UInt64?
        for frame in 0..<15 {
            identifier = tracker.update([Observation(box: centeredBox(100 + 5 * frame, 200), objectClass: .face)], frameSequence: UInt64(frame)).first?.id
        }
        for frame in 15..<20 {
            let tracks = tracker.update([], frameSequence: UInt64(frame))
            #expect(tracks.count == 1)
            #expect(tracks.first?.missedFrames == frame - 14)
            // Coasting moves the box along its velocity, where redaction keeps masking.
            #expect(tracks.first?.box == centeredBox(100 + 5 * frame, 200))
        }
        #expect(tracker.predictedBoxes(framesAhead: 2).map(\.box) == [centeredBox(100 + 5 * 21, 200)])
        #expect(tracker.predictedBoxes(framesAhead: 2).first?.objectClass == .face)
        let tracks = tracker.update([Observation(box: centeredBox(100 + 5 * 20, 200), objectClass: .face)], frameSequence: 20)
        #expect(tracks.map(\.id) == [identifier])
        #expect(tracks.first?.missedFrames == 0)
        #expect(tracker.counters.tracksStarted == 1)
    }

    @Test("dropped frames (a gap in sequence numbers) are predicted across")
    func sequenceGap() {
        let tracker = Tracker()
        for frame in 0..<10 {
            tracker.update([Observation(box: centeredBox(100 + 8 * frame, 200, width: 30, height: 30), objectClass: .face)], frameSequence: UInt64(frame))
        }
        // Eight frames later the object has moved 64 pixels, twice its width: without the
        // prediction across the gap it would not overlap its old box at all.
        let tracks = tracker.update([Observation(box: centeredBox(100 + 8 * 17, 200, width: 30, height: 30), objectClass: .face)], frameSequence: 17)
        #expect(tracks.count == 1)
        #expect(tracks.first?.age == 18)
        #expect(tracker.counters.tracksStarted == 1)
    }

    @Test("a track lost for longer than maximumMissedFrames ends; the object returns with a new identifier")
    func lostTrackGetsNewIdentifier() {
        let tracker = Tracker(configuration: TrackerConfiguration(maximumMissedFrames: 5))
        let box = centeredBox(300, 200)
        var first: UInt64?
        for frame in 0..<10 {
            first = tracker.update([Observation(box: box, objectClass: .person)], frameSequence: UInt64(frame)).first?.id
        }
        for frame in 10..<15 {
            #expect(tracker.update([], frameSequence: UInt64(frame)).count == 1)
        }
        #expect(tracker.update([], frameSequence: 15).isEmpty)
        #expect(tracker.frozenBoxes.isEmpty)
        let returned = tracker.update([Observation(box: box, objectClass: .person)], frameSequence: 16)
        #expect(returned.count == 1)
        #expect(returned.first?.isConfirmed == false)
        let second = returned.first?.id
        #expect(first != nil && second != nil && second != first)
        #expect(tracker.counters.tracksEnded == 1)
        #expect(tracker.counters.tracksStarted == 2)
    }

    @Test("a motion region can start a track that a person detection then confirms and classifies")
    func motionThenPerson() {
        let tracker = Tracker(configuration: TrackerConfiguration(hitsToConfirm: 3))
        tracker.update([Observation(box: centeredBox(100, 200), objectClass: .motion)], frameSequence: 0)
        tracker.update([Observation(box: centeredBox(104, 200), objectClass: .motion)], frameSequence: 1)
        let tracks = tracker.update([Observation(box: centeredBox(108, 200), objectClass: .person)], frameSequence: 2)
        #expect(tracks.count == 1)
        #expect(tracks.first?.objectClass == .person)
        #expect(tracks.first?.isConfirmed == true)
        // Once a person, a motion region keeps it alive but cannot turn it back into motion.
        let later = tracker.update([Observation(box: centeredBox(112, 200), objectClass: .motion)], frameSequence: 3)
        #expect(later.first?.objectClass == .person)
        #expect(later.first?.missedFrames == 0)
    }

    @Test("a motion region over a detected person does not start a second track")
    func motionRegionAbsorbed() {
        let tracker = Tracker()
        for frame in 0..<5 {
            let person = centeredBox(100 + 4 * frame, 200)
            let motion = centeredBox(101 + 4 * frame, 205, width: 46, height: 84)
            tracker.update([Observation(box: motion, objectClass: .motion), Observation(box: person, objectClass: .person)], frameSequence: UInt64(frame))
        }
        #expect(tracker.tracks.count == 1)
        #expect(tracker.tracks.first?.objectClass == .person)
        // The detector sizes the track, not the looser motion region.
        #expect(tracker.tracks.first?.box == centeredBox(116, 200))
        #expect(tracker.counters.tracksStarted == 1)
    }

    @Test("faces and plates are continued only by their own detector")
    func classesDoNotMix() {
        let tracker = Tracker()
        let face = centeredBox(200, 100, width: 30, height: 30)
        tracker.update([Observation(box: face, objectClass: .face)], frameSequence: 0)
        let tracks = tracker.update([Observation(box: face, objectClass: .plate)], frameSequence: 1)
        #expect(tracks.count == 2)
        #expect(Set(tracks.map(\.objectClass)) == [.face, .plate])
        #expect(tracks.first { $0.objectClass == .face }?.missedFrames == 1)
    }

    @Test("identifiers are per tracker, counting from 1: nothing carries over to a new one")
    func identifiersAreEphemeral() {
        for _ in 0..<2 {
            let tracker = Tracker()
            let tracks = tracker.update([Observation(box: centeredBox(50, 50), objectClass: .person),
                                         Observation(box: centeredBox(300, 50), objectClass: .person)], frameSequence: 7)
            #expect(tracks.map(\.id) == [1, 2])
        }
    }

    @Test("a sequence number that goes backwards does not stall or reverse the predictions")
    func sequenceGoesBackwards() {
        let tracker = Tracker()
        for frame in 0..<5 {
            tracker.update([Observation(box: centeredBox(100 + 5 * frame, 200), objectClass: .person)], frameSequence: UInt64(100 + frame))
        }
        let tracks = tracker.update([Observation(box: centeredBox(125, 200), objectClass: .person)], frameSequence: 0)
        #expect(tracks.count == 1)
        #expect(tracks.first?.missedFrames == 0)
        #expect(tracks.first?.age == 6)
    }

    @Test("corrupt boxes (empty, or near the ends of Int) neither trap nor start tracks every frame")
    func corruptBoxes() {
        let tracker = Tracker()
        let aggregator = CountAggregator(
            lines: [CountingLine(name: "line", from: Point(x: 0, y: 0), to: Point(x: 0, y: 100))],
            zones: [CountingZone(name: "zone", polygon: [Point(x: 0, y: 0), Point(x: 10, y: 0), Point(x: 0, y: 10)])])
        let start = ContinuousClock.now
        for frame in 0..<10 {
            let far = frame % 2 == 0 ? Int.max - 10 : Int.min + 10
            let observations = [
                Observation(box: DetectionBox(x: 10, y: 10, width: 0, height: 30), objectClass: .face),
                Observation(box: DetectionBox(x: 10, y: 10, width: -5, height: -5), objectClass: .motion),
                Observation(box: DetectionBox(x: far, y: far, width: Int.max, height: Int.max), objectClass: .person),
            ]
            let tracks = tracker.update(observations, frameSequence: UInt64(frame))
            aggregator.observe(tracks, at: start + .milliseconds(100 * frame))
            _ = tracker.predictedBoxes(framesAhead: 1_000_000)
        }
        // Only the huge boxes make tracks: one per jump, since alternate frames cannot overlap.
        #expect(tracker.tracks.allSatisfy { $0.objectClass == .person })
        _ = aggregator.closeInterval(at: start + .seconds(1))
    }
}
