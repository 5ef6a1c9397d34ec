// Counting from tracks: crossings of counting lines per direction and class, occupancy of zones
// and dwell time in aggregate, summed per interval.
//
// Privacy (DESIGN.md, invariant 1): the only per-object state is what a live track needs to
// count (which side of a line it was on, when it entered a zone), keyed by the tracker's
// ephemeral ID, and it is dropped the frame the track ends. What an interval reports is sums and
// extremes per class; no path, no per-person dwell, no identifier leaves this file.

/// A point in full-frame pixels (y grows downwards, as in the image).
public struct Point: Sendable, Equatable, Hashable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// Which way a track crossed a counting line.
///
/// `positive` is the line's direction (`from` to `to`) turned 90 degrees counterclockwise as
/// seen on screen: left to right across a line drawn top to bottom, upwards across a line drawn
/// left to right. For someone walking from `from` to `to` on the image, it is crossing from
/// their right-hand side to their left-hand side.
public enum CrossingDirection: String, Sendable, CaseIterable, Hashable {
    case positive
    case negative
}

/// A directed segment; tracks whose reference point crosses it are counted per direction.
public struct CountingLine: Sendable, Equatable {
    public var name: String
    public var from: Point
    public var to: Point

    public init(name: String, from: Point, to: Point) {
        self.name = name
        self.from = from
        self.to = to
    }

    /// Signed distance in pixels: positive on the side a positive crossing starts from.
    func signedDistance(_ point: Point) -> Double {
        let directionX = to.x - from.x, directionY = to.y - from.y
        let length = (directionX * directionX + directionY * directionY).squareRoot()
        guard length > 0 else { return 0 }
        return (directionX * (point.y - from.y) - directionY * (point.x - from.x)) / length
    }

    /// Whether the straight path `start` to `end`, whose ends lie on opposite sides of the
    /// line, passes through the segment rather than beside one of its ends.
    func pathCrossesSegment(from start: Point, to end: Point) -> Bool {
        let startDistance = signedDistance(start), endDistance = signedDistance(end)
        guard (startDistance > 0) != (endDistance > 0), startDistance != endDistance else { return false }
        let fraction = startDistance / (startDistance - endDistance)
        let crossingX = start.x + fraction * (end.x - start.x)
        let crossingY = start.y + fraction * (end.y - start.y)
        let directionX = to.x - from.x, directionY = to.y - from.y
        let lengthSquared = directionX * directionX + directionY * directionY
        guard lengthSquared > 0 else { return false }
        let along = ((crossingX - from.x) * directionX + (crossingY - from.y) * directionY) / lengthSquared
        return along >= 0 && along <= 1
    }
}

/// A polygon (any simple polygon, concave included); tracks whose reference point is inside
/// are its occupants.
public struct CountingZone: Sendable, Equatable {
    public var name: String
    public var polygon: [Point]

    public init(name: String, polygon: [Point]) {
        self.name = name
        self.polygon = polygon
    }

    /// Even-odd rule: a ray to the right crosses the boundary an odd number of times from
    /// inside. It needs no convexity, which zones drawn around a shop corner or a bench lack.
    public func contains(_ point: Point) -> Bool {
        guard polygon.count >= 3 else { return false }
        var inside = false
        var previous = polygon[polygon.count - 1]
        for current in polygon {
            // The half-open test (one end strictly above, the other not) counts a vertex on the
            // ray once, not twice.
            if (current.y > point.y) != (previous.y > point.y) {
                let crossingX = current.x + (point.y - current.y) * (previous.x - current.x) / (previous.y - current.y)
                if point.x < crossingX { inside.toggle() }
            }
            previous = current
        }
        return inside
    }
}

/// The point of a box that counts: bottom centre, where the feet are, because a line painted
/// on the ground is crossed by the feet, whatever the height of the head.
@inline(__always)
public func referencePoint(of box: DetectionBox) -> Point {
    Point(x: Double(box.x) + Double(box.width) / 2, y: Double(box.y) + Double(box.height))
}

public struct CountingConfiguration: Sendable, Equatable {
    /// A reference point must be this far (pixels) past a line before its side changes, so a
    /// box jittering on the line counts once, not at every wobble.
    public var lineHysteresis: Double
    /// With a value, `observe` closes the interval by itself when this much time has passed.
    public var intervalSeconds: Double?

    public init(lineHysteresis: Double = 4, intervalSeconds: Double? = nil) {
        self.lineHysteresis = max(0, lineHysteresis)
        self.intervalSeconds = intervalSeconds
    }
}

/// Occupancy of one zone for one class over an interval, sampled once per observed frame.
public struct OccupancyStatistics: Sendable, Equatable {
    public var maximum: Int
    /// Mean over the frames observed in the interval (0 when none were).
    public var mean: Double

    public init(maximum: Int, mean: Double) {
        self.maximum = maximum
        self.mean = mean
    }
}

/// Completed stays in one zone for one class over an interval. A stay counts in the interval
/// in which it ends (the track leaves the zone or ends), with its whole duration: from the
/// first frame it was seen inside to the last.
public struct DwellStatistics: Sendable, Equatable {
    public var count: Int
    public var totalSeconds: Double
    public var maximumSeconds: Double

    public init(count: Int, totalSeconds: Double, maximumSeconds: Double) {
        self.count = count
        self.totalSeconds = totalSeconds
        self.maximumSeconds = maximumSeconds
    }

    public var meanSeconds: Double { count > 0 ? totalSeconds / Double(count) : 0 }
}

public struct LineCounts: Sendable, Equatable {
    public var name: String
    /// Crossings per class in each direction; every class is present, zeros included.
    public var positive: [ObjectClass: Int]
    public var negative: [ObjectClass: Int]

    public func crossings(_ objectClass: ObjectClass, _ direction: CrossingDirection) -> Int {
        (direction == .positive ? positive : negative)[objectClass] ?? 0
    }
}

public struct ZoneCounts: Sendable, Equatable {
    public var name: String
    /// Every class is present, zeros included.
    public var occupancy: [ObjectClass: OccupancyStatistics]
    public var dwell: [ObjectClass: DwellStatistics]
}

/// What one interval adds up to.
public struct IntervalCounts: Sendable, Equatable {
    public var start: ContinuousClock.Instant
    public var end: ContinuousClock.Instant
    /// Frames observed during the interval.
    public var frames: Int
    /// In the order the lines were configured.
    public var lines: [LineCounts]
    /// In the order the zones were configured.
    public var zones: [ZoneCounts]

    public func line(named name: String) -> LineCounts? { lines.first { $0.name == name } }
    public func zone(named name: String) -> ZoneCounts? { zones.first { $0.name == name } }
}

/// Turns each frame's tracks into line crossings and zone occupancy, and sums them per
/// interval. Counts confirmed tracks only: tentative ones are mostly noise that would inflate
/// every figure. Not thread-safe: the stage that owns the tracker owns this too.
public final class CountAggregator {
    public let lines: [CountingLine]
    public let zones: [CountingZone]
    public let configuration: CountingConfiguration

    /// Per live track and line: the side it was last clearly on, where, and which way it last
    /// counted.
    struct LineState {
        var side: Int8 = 0
        var sidePoint = Point(x: 0, y: 0)
        var lastCounted: Int8 = 0
    }

    /// Per live track and zone.
    struct ZoneState {
        var inside = false
        var entered: ContinuousClock.Instant
        var lastInside: ContinuousClock.Instant
    }

    struct TrackState {
        var generation: UInt64
        var objectClass: ObjectClass
        /// Index of this track's first entry in `lineStates` and `zoneStates`: each track owns a
        /// block of `lines.count` and `zones.count` entries, recycled through `freeSlots`.
        var slot: Int
    }

    private static let classCount = ObjectClass.allCases.count

    // @exclusivity(unchecked): as in Tracker, one owner and no overlapping inout accesses,
    // so the runtime's access checks on every array access guard nothing.
    @exclusivity(unchecked) private var trackStates: [UInt64: TrackState] = [:]
    @exclusivity(unchecked) private var lineStates: [LineState] = []
    @exclusivity(unchecked) private var zoneStates: [ZoneState] = []
    @exclusivity(unchecked) private var freeSlots: [Int] = []
    @exclusivity(unchecked) private var slotCount = 0
    @exclusivity(unchecked) private var endedTracks: [UInt64] = []
    @exclusivity(unchecked) private var generation: UInt64 = 0

    // Interval sums in flat arrays indexed by (line, direction, class) and (zone, class), so a
    // frame only adds to numbers already allocated.
    @exclusivity(unchecked) private var crossingCounts: [Int]
    @exclusivity(unchecked) private var occupancyNow: [Int]
    @exclusivity(unchecked) private var occupancyMaximum: [Int]
    @exclusivity(unchecked) private var occupancySum: [Int]
    @exclusivity(unchecked) private var dwellCount: [Int]
    @exclusivity(unchecked) private var dwellTotal: [Double]
    @exclusivity(unchecked) private var dwellMaximum: [Double]
    @exclusivity(unchecked) private var intervalFrames = 0
    @exclusivity(unchecked) private var intervalStart: ContinuousClock.Instant?

    public init(lines: [CountingLine], zones: [CountingZone], configuration: CountingConfiguration = CountingConfiguration()) {
        self.lines = lines
        self.zones = zones
        self.configuration = configuration
        crossingCounts = Array(repeating: 0, count: lines.count * 2 * Self.classCount)
        let zoneCells = zones.count * Self.classCount
        occupancyNow = Array(repeating: 0, count: zoneCells)
        occupancyMaximum = Array(repeating: 0, count: zoneCells)
        occupancySum = Array(repeating: 0, count: zoneCells)
        dwellCount = Array(repeating: 0, count: zoneCells)
        dwellTotal = Array(repeating: 0, count: zoneCells)
        dwellMaximum = Array(repeating: 0, count: zoneCells)
        trackStates.reserveCapacity(64)
    }

    /// Counts one frame's tracks, as the tracker published them, captured at `time`.
    ///
    /// Returns the closed interval when `intervalSeconds` is set and has elapsed; the closed
    /// interval ends at `time` and this frame counts in the next one.
    @discardableResult
    public func observe(_ tracks: [Track], at time: ContinuousClock.Instant) -> IntervalCounts? {
        var closed: IntervalCounts?
        if let start = intervalStart {
            if let seconds = configuration.intervalSeconds, seconds > 0, Self.seconds(time - start) >= seconds {
                closed = closeInterval(at: time)
            }
        } else {
            intervalStart = time
        }
        generation &+= 1
        for index in occupancyNow.indices { occupancyNow[index] = 0 }

        for track in tracks where track.isConfirmed {
            var state: TrackState
            if let existing = trackStates[track.id] {
                state = existing
            } else {
                state = TrackState(generation: generation, objectClass: track.objectClass, slot: allocateSlot(at: time))
            }
            state.generation = generation
            state.objectClass = track.objectClass
            trackStates[track.id] = state
            // A coasting track's box is a guess: it keeps its sides and zones from the last
            // frame it was seen, so a prediction cannot cross a line or leave a zone.
            if track.missedFrames == 0 {
                let point = referencePoint(of: track.box)
                updateLines(slot: state.slot, point: point, objectClass: track.objectClass)
                updateZones(slot: state.slot, point: point, objectClass: track.objectClass, time: time)
            }
            for zoneIndex in zones.indices where zoneStates[state.slot * zones.count + zoneIndex].inside {
                occupancyNow[zoneIndex * Self.classCount + track.objectClass.index] += 1
            }
        }

        // Tracks missing from this frame have ended: finish their stays and forget them.
        endedTracks.removeAll(keepingCapacity: true)
        for (identifier, state) in trackStates where state.generation != generation {
            endedTracks.append(identifier)
        }
        for identifier in endedTracks {
            guard let state = trackStates.removeValue(forKey: identifier) else { continue }
            for zoneIndex in zones.indices {
                let zoneState = zoneStates[state.slot * zones.count + zoneIndex]
                if zoneState.inside {
                    recordDwell(zoneIndex: zoneIndex, objectClass: state.objectClass, from: zoneState.entered, to: zoneState.lastInside)
                }
            }
            freeSlots.append(state.slot)
        }

        intervalFrames += 1
        for index in occupancyNow.indices {
            occupancyMaximum[index] = max(occupancyMaximum[index], occupancyNow[index])
            occupancySum[index] += occupancyNow[index]
        }
        return closed
    }

    /// Closes the interval at `time`: returns its sums and starts a new, empty one. Stays
    /// still in progress carry over to the interval in which they end.
    public func closeInterval(at time: ContinuousClock.Instant) -> IntervalCounts {
        let start = intervalStart ?? time
        let classes = ObjectClass.allCases
        var lineCounts: [LineCounts] = []
        lineCounts.reserveCapacity(lines.count)
        for (lineIndex, line) in lines.enumerated() {
            var positive: [ObjectClass: Int] = [:], negative: [ObjectClass: Int] = [:]
            for objectClass in classes {
                positive[objectClass] = crossingCounts[crossingIndex(line: lineIndex, direction: 1, objectClass: objectClass)]
                negative[objectClass] = crossingCounts[crossingIndex(line: lineIndex, direction: -1, objectClass: objectClass)]
            }
            lineCounts.append(LineCounts(name: line.name, positive: positive, negative: negative))
        }
        var zoneCounts: [ZoneCounts] = []
        zoneCounts.reserveCapacity(zones.count)
        for (zoneIndex, zone) in zones.enumerated() {
            var occupancy: [ObjectClass: OccupancyStatistics] = [:]
            var dwell: [ObjectClass: DwellStatistics] = [:]
            for objectClass in classes {
                let cell = zoneIndex * Self.classCount + objectClass.index
                occupancy[objectClass] = OccupancyStatistics(
                    maximum: occupancyMaximum[cell],
                    mean: intervalFrames > 0 ? Double(occupancySum[cell]) / Double(intervalFrames) : 0)
                dwell[objectClass] = DwellStatistics(
                    count: dwellCount[cell], totalSeconds: dwellTotal[cell], maximumSeconds: dwellMaximum[cell])
            }
            zoneCounts.append(ZoneCounts(name: zone.name, occupancy: occupancy, dwell: dwell))
        }
        let result = IntervalCounts(start: start, end: time, frames: intervalFrames, lines: lineCounts, zones: zoneCounts)

        for index in crossingCounts.indices { crossingCounts[index] = 0 }
        for index in occupancyMaximum.indices {
            occupancyMaximum[index] = 0
            occupancySum[index] = 0
            dwellCount[index] = 0
            dwellTotal[index] = 0
            dwellMaximum[index] = 0
        }
        intervalFrames = 0
        intervalStart = time
        return result
    }

    /// Live tracks the aggregator holds state for; 0 once every track has ended, which is what
    /// "nothing per object outlives its track" means in a test.
    public var liveTrackCount: Int { trackStates.count }

    private func updateLines(slot: Int, point: Point, objectClass: ObjectClass) {
        let margin = configuration.lineHysteresis
        for (lineIndex, line) in lines.enumerated() {
            let stateIndex = slot * lines.count + lineIndex
            var state = lineStates[stateIndex]
            let distance = line.signedDistance(point)
            let side: Int8 = distance > margin ? 1 : (distance < -margin ? -1 : 0)
            if side != 0 {
                if state.side != 0 && side != state.side {
                    // Positive distance is the side a positive crossing starts from.
                    let direction: Int8 = state.side > 0 ? 1 : -1
                    if line.pathCrossesSegment(from: state.sidePoint, to: point) && state.lastCounted != direction {
                        crossingCounts[crossingIndex(line: lineIndex, direction: direction, objectClass: objectClass)] += 1
                        state.lastCounted = direction
                    }
                }
                state.side = side
                state.sidePoint = point
            }
            lineStates[stateIndex] = state
        }
    }

    private func updateZones(slot: Int, point: Point, objectClass: ObjectClass, time: ContinuousClock.Instant) {
        for (zoneIndex, zone) in zones.enumerated() {
            let stateIndex = slot * zones.count + zoneIndex
            var state = zoneStates[stateIndex]
            let inside = zone.contains(point)
            if inside {
                if !state.inside { state.entered = time }
                state.lastInside = time
            } else if state.inside {
                recordDwell(zoneIndex: zoneIndex, objectClass: objectClass, from: state.entered, to: state.lastInside)
            }
            state.inside = inside
            zoneStates[stateIndex] = state
        }
    }

    private func recordDwell(zoneIndex: Int, objectClass: ObjectClass, from entered: ContinuousClock.Instant, to left: ContinuousClock.Instant) {
        let cell = zoneIndex * Self.classCount + objectClass.index
        let seconds = max(0, Self.seconds(left - entered))
        dwellCount[cell] += 1
        dwellTotal[cell] += seconds
        dwellMaximum[cell] = max(dwellMaximum[cell], seconds)
    }

    /// A fresh block of line and zone state for a new track, reusing an ended track's block.
    private func allocateSlot(at time: ContinuousClock.Instant) -> Int {
        let slot: Int
        if let reused = freeSlots.popLast() {
            slot = reused
        } else {
            slot = slotCount
            slotCount += 1
            lineStates.append(contentsOf: repeatElement(LineState(), count: lines.count))
            zoneStates.append(contentsOf: repeatElement(ZoneState(entered: time, lastInside: time), count: zones.count))
        }
        for index in 0..<lines.count { lineStates[slot * lines.count + index] = LineState() }
        for index in 0..<zones.count { zoneStates[slot * zones.count + index] = ZoneState(entered: time, lastInside: time) }
        return slot
    }

    @inline(__always)
    private func crossingIndex(line: Int, direction: Int8, objectClass: ObjectClass) -> Int {
        (line * 2 + (direction > 0 ? 0 : 1)) * Self.classCount + objectClass.index
    }

    static func seconds(_ duration: Duration) -> Double {
        let components = duration.components
        return Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
