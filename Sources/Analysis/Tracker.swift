// The tracker: associates per-frame observations (detector boxes and motion regions) across
// frames by overlap with a constant-velocity prediction, so that counting can follow an object
// and redaction can keep masking where a face was a moment ago.
//
// Privacy (DESIGN.md, invariant 1): a track is a box, a class and a velocity, nothing more. No
// pixels, no appearance feature, no descriptor: association uses geometry only. Identifiers are
// a counter local to one Tracker, live in memory only and are never reused for an object that
// was lost, so an object that leaves and comes back is a new, unrelated track.

/// What an observation or a track is believed to be.
public enum ObjectClass: String, Sendable, CaseIterable, Hashable {
    case person
    case face
    case plate
    /// A moving region that no detector has classified.
    case motion

    /// Position in `allCases`, for per-class counters kept in flat arrays.
    @inline(__always)
    var index: Int {
        switch self {
        case .person: 0
        case .face: 1
        case .plate: 2
        case .motion: 3
        }
    }
}

/// One box found in one frame, in full-frame pixels.
public struct Observation: Sendable, Equatable {
    public var box: DetectionBox
    public var objectClass: ObjectClass

    public init(box: DetectionBox, objectClass: ObjectClass) {
        self.box = box
        self.objectClass = objectClass
    }
}

/// Motion of a box centre, in pixels per frame.
public struct Velocity: Sendable, Equatable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }

    public static let zero = Velocity(x: 0, y: 0)
}

/// The tracker's view of one object after a frame.
public struct Track: Sendable, Equatable {
    /// Ephemeral: unique within one Tracker, never persisted, never reused.
    public var id: UInt64
    public var objectClass: ObjectClass
    /// Where the object is in this frame: the observation it matched, or the prediction while
    /// it coasts.
    public var box: DetectionBox
    /// Where the object is expected in the next frame.
    public var predictedBox: DetectionBox
    public var velocity: Velocity
    /// Frames since the track started (1 in its first frame).
    public var age: Int
    /// Consecutive frames without a matching observation (0 when matched in this frame).
    public var missedFrames: Int
    public var isConfirmed: Bool

    public init(
        id: UInt64, objectClass: ObjectClass, box: DetectionBox, predictedBox: DetectionBox,
        velocity: Velocity, age: Int, missedFrames: Int, isConfirmed: Bool
    ) {
        self.id = id
        self.objectClass = objectClass
        self.box = box
        self.predictedBox = predictedBox
        self.velocity = velocity
        self.age = age
        self.missedFrames = missedFrames
        self.isConfirmed = isConfirmed
    }
}

/// A box where a live track is expected some frames ahead, for masking.
public struct PredictedBox: Sendable, Equatable {
    public var trackID: UInt64
    public var objectClass: ObjectClass
    public var box: DetectionBox
    /// How long the track has gone unseen; a redaction stage may grow the mask with it.
    public var missedFrames: Int

    public init(trackID: UInt64, objectClass: ObjectClass, box: DetectionBox, missedFrames: Int) {
        self.trackID = trackID
        self.objectClass = objectClass
        self.box = box
        self.missedFrames = missedFrames
    }
}

public struct TrackerConfiguration: Sendable, Equatable {
    /// Least intersection over union between a predicted box and an observation to match them.
    public var minimumOverlap: Double
    /// Matches (including the first observation) before a track is confirmed.
    public var hitsToConfirm: Int
    /// A confirmed track coasting on its prediction for more frames than this ends.
    public var maximumMissedFrames: Int
    /// A tentative track unseen for more frames than this ends: most one-frame boxes are noise,
    /// and dropping them quickly keeps them from stealing observations.
    public var maximumTentativeMissedFrames: Int
    /// Weight of the newest measured velocity (0...1): lower is smoother, higher reacts faster.
    public var velocitySmoothing: Double

    public init(
        minimumOverlap: Double = 0.2, hitsToConfirm: Int = 3, maximumMissedFrames: Int = 15,
        maximumTentativeMissedFrames: Int = 1, velocitySmoothing: Double = 0.5
    ) {
        self.minimumOverlap = minimumOverlap
        self.hitsToConfirm = max(1, hitsToConfirm)
        self.maximumMissedFrames = max(0, maximumMissedFrames)
        self.maximumTentativeMissedFrames = max(0, maximumTentativeMissedFrames)
        self.velocitySmoothing = min(1, max(0, velocitySmoothing))
    }
}

/// Running totals since the tracker was made; never reset, so a reader can take differences.
public struct TrackerCounters: Sendable, Equatable {
    public var tracksStarted: UInt64 = 0
    public var tracksEnded: UInt64 = 0
    public var tracksConfirmed: UInt64 = 0

    public init() {}
}

/// Associates observations across frames. Not thread-safe: one pipeline stage owns it.
public final class Tracker {
    public let configuration: TrackerConfiguration
    @exclusivity(unchecked) public private(set) var counters = TrackerCounters()
    /// Live tracks after the latest `update`, tentative ones included. The array is reused:
    /// holding it across the next update makes that update copy it.
    @exclusivity(unchecked) public private(set) var tracks: [Track] = []
    /// Boxes of live tracks, for the motion model to keep out of its background while an
    /// object stands still. Reused like `tracks`.
    @exclusivity(unchecked) public private(set) var frozenBoxes: [DetectionBox] = []

    /// Internal state in doubles: velocities are fractional and rounding every frame would
    /// make a slow object drift or stall.
    struct State {
        var id: UInt64
        var objectClass: ObjectClass
        /// Last observed centre and size.
        var centerX: Double, centerY: Double, width: Double, height: Double
        var velocityX: Double, velocityY: Double
        var lastObservedSequence: UInt64
        var firstSequence: UInt64
        var hits: Int
        var isConfirmed: Bool
        /// Whether the velocity has been measured at least once (a new track has none).
        var hasVelocity: Bool
        var matchedThisFrame: Bool

        @inline(__always)
        func predicted(at sequence: UInt64) -> Rectangle {
            let frames = Double(sequence &- lastObservedSequence)
            return Rectangle(
                centerX: centerX + velocityX * frames, centerY: centerY + velocityY * frames,
                width: width, height: height)
        }
    }

    struct Rectangle {
        var left: Double, top: Double, right: Double, bottom: Double

        init(centerX: Double, centerY: Double, width: Double, height: Double) {
            left = centerX - width / 2
            top = centerY - height / 2
            right = centerX + width / 2
            bottom = centerY + height / 2
        }

        init(_ box: DetectionBox) {
            left = Double(box.x)
            top = Double(box.y)
            // Summed as doubles: a corrupt box near Int.max must not trap (invariant 6).
            right = Double(box.x) + Double(box.width)
            bottom = Double(box.y) + Double(box.height)
        }

        @inline(__always)
        func intersectionOverUnion(_ other: Rectangle) -> Double {
            let width = min(right, other.right) - max(left, other.left)
            let height = min(bottom, other.bottom) - max(top, other.top)
            guard width > 0, height > 0 else { return 0 }
            let intersection = width * height
            let union = (right - left) * (bottom - top) + (other.right - other.left) * (other.bottom - other.top) - intersection
            return union > 0 ? intersection / union : 0
        }

        /// Rounds outwards: these boxes feed masking, where a pixel too many is the safe side.
        /// Coordinates are clamped to plus or minus 2^40 first: a prediction from a corrupt
        /// box or a runaway velocity must give a useless box, not a trap converting to Int.
        var box: DetectionBox {
            let x = Self.pixel(left.rounded(.down)), y = Self.pixel(top.rounded(.down))
            return DetectionBox(
                x: x, y: y,
                width: max(0, Self.pixel(right.rounded(.up)) - x), height: max(0, Self.pixel(bottom.rounded(.up)) - y))
        }

        @inline(__always)
        static func pixel(_ value: Double) -> Int {
            let limit = 1_099_511_627_776.0
            guard value == value else { return 0 }
            return Int(min(limit, max(-limit, value)))
        }
    }

    struct Candidate {
        var stateIndex: Int
        var observationIndex: Int
        var overlap: Double
    }

    // @exclusivity(unchecked): the tracker is only ever used from one task and no method
    // passes one of these inout to another, so the runtime's access checks on every array
    // access (a third of the per-frame cost when measured) guard nothing.
    @exclusivity(unchecked) private var states: [State] = []
    @exclusivity(unchecked) private var candidates: [Candidate] = []
    @exclusivity(unchecked) private var observationMatched: [Bool] = []
    @exclusivity(unchecked) private var observationRectangles: [Rectangle] = []
    @exclusivity(unchecked) private var clusterParent: [Int] = []
    @exclusivity(unchecked) private var clusterRows: [Int] = []
    @exclusivity(unchecked) private var clusterColumns: [Int] = []
    @exclusivity(unchecked) private var candidateDone: [Bool] = []
    @exclusivity(unchecked) private var solver = AssignmentSolver()
    @exclusivity(unchecked) private var nextIdentifier: UInt64 = 1
    /// Sequence of the latest update; predictions are made from here.
    @exclusivity(unchecked) private var currentSequence: UInt64 = 0
    @exclusivity(unchecked) private var hasSequence = false

    public init(configuration: TrackerConfiguration = TrackerConfiguration()) {
        self.configuration = configuration
    }

    /// Whether an observation of one class may continue a track of another. A detector box
    /// and a motion region of the same walker are the same object; a face or a plate is only
    /// ever continued by the same detector, because a motion region around a face is the
    /// whole body and would drag the face box off the face.
    @inline(__always)
    static func canAssociate(track: ObjectClass, observation: ObjectClass) -> Bool {
        switch observation {
        case .person, .motion: track == .person || track == .motion
        case .face: track == .face
        case .plate: track == .plate
        }
    }

    /// Advances to frame `frameSequence` with its observations and returns the live tracks.
    ///
    /// Sequence gaps (dropped frames) count as missed frames and are predicted across. A
    /// sequence that does not advance (a source restarted) is treated as the next frame rather
    /// than trusted, so bad input cannot stall or reverse the predictions.
    @discardableResult
    public func update(_ observations: [Observation], frameSequence: UInt64) -> [Track] {
        let sequence: UInt64
        if !hasSequence {
            sequence = frameSequence
            hasSequence = true
        } else if frameSequence > currentSequence {
            sequence = frameSequence
        } else {
            // Tracks measure elapsed frames against the tracker's own count, which keeps going up.
            sequence = currentSequence &+ 1
        }
        currentSequence = sequence

        observationRectangles.removeAll(keepingCapacity: true)
        observationMatched.removeAll(keepingCapacity: true)
        var motionCount = 0
        for observation in observations {
            observationRectangles.append(Rectangle(observation.box))
            // An empty box covers no pixel and can never overlap anything: marking it matched
            // keeps it from starting a fresh track every frame.
            observationMatched.append(observation.box.width <= 0 || observation.box.height <= 0)
            if observation.objectClass == .motion { motionCount += 1 }
        }
        for index in states.indices { states[index].matchedThisFrame = false }

        // Detector boxes first: they are better evidence of where an object is than a motion
        // region, so a motion region only gets a track the detectors left unmatched.
        if motionCount < observations.count { associate(observations, motionPass: false, sequence: sequence) }
        if motionCount > 0 { associate(observations, motionPass: true, sequence: sequence) }

        // Tracks that nothing matched coast; those unseen too long end.
        var ended: UInt64 = 0
        let maximumMissed = UInt64(configuration.maximumMissedFrames)
        let maximumTentativeMissed = UInt64(configuration.maximumTentativeMissedFrames)
        states.removeAll { state in
            let missed = sequence &- state.lastObservedSequence
            let limit = state.isConfirmed ? maximumMissed : maximumTentativeMissed
            if missed > limit {
                ended &+= 1
                return true
            }
            return false
        }
        counters.tracksEnded &+= ended

        startTracks(for: observations, sequence: sequence)
        publish(sequence: sequence)
        return tracks
    }

    /// Boxes of live tracks `framesAhead` frames after the latest update, tentative tracks and
    /// coasting ones included: the redaction stage masks where a face that a detector lost a
    /// moment ago is expected to be.
    public func predictedBoxes(framesAhead: Int = 1) -> [PredictedBox] {
        var result: [PredictedBox] = []
        predictedBoxes(framesAhead: framesAhead, into: &result)
        return result
    }

    /// As `predictedBoxes(framesAhead:)`, into an array the caller keeps from frame to frame,
    /// so that asking every frame allocates nothing once the array has grown.
    public func predictedBoxes(framesAhead: Int = 1, into result: inout [PredictedBox]) {
        let target = currentSequence &+ UInt64(max(0, framesAhead))
        result.removeAll(keepingCapacity: true)
        result.reserveCapacity(states.count)
        for state in states {
            result.append(PredictedBox(
                trackID: state.id, objectClass: state.objectClass,
                box: state.predicted(at: target).box,
                missedFrames: Int(clamping: currentSequence &- state.lastObservedSequence)))
        }
    }

    /// `frozenBoxes` divided by `factor`, for a motion model that works on an image downscaled
    /// by that factor. Rounds outwards, so a still object's pixels stay wholly frozen.
    public func frozenBoxes(downscaledBy factor: Int, into result: inout [DetectionBox]) {
        result.removeAll(keepingCapacity: true)
        let factor = max(1, factor)
        for box in frozenBoxes {
            let left = Self.floorDivide(box.x, factor), top = Self.floorDivide(box.y, factor)
            let right = -Self.floorDivide(-(box.x + box.width), factor)
            let bottom = -Self.floorDivide(-(box.y + box.height), factor)
            result.append(DetectionBox(x: left, y: top, width: right - left, height: bottom - top))
        }
    }

    @inline(__always)
    static func floorDivide(_ value: Int, _ divisor: Int) -> Int {
        let quotient = value / divisor
        return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient
    }

    /// Association that maximises the total overlap (the Hungarian method), run separately on
    /// each cluster of tracks and observations linked by a candidate pair. Greedy best-first
    /// matching loses when two people walk side by side: the first track takes the box its
    /// neighbour needed and the neighbour's box starts a new identity. Most clusters are one
    /// track and one box, matched directly, so the cubic solver only runs where it matters.
    private func associate(_ observations: [Observation], motionPass: Bool, sequence: UInt64) {
        candidates.removeAll(keepingCapacity: true)
        let threshold = configuration.minimumOverlap
        for stateIndex in states.indices where !states[stateIndex].matchedThisFrame {
            let state = states[stateIndex]
            let predicted = state.predicted(at: sequence)
            for observationIndex in observations.indices where !observationMatched[observationIndex] {
                let observationClass = observations[observationIndex].objectClass
                guard (observationClass == .motion) == motionPass,
                      Self.canAssociate(track: state.objectClass, observation: observationClass) else { continue }
                let overlap = predicted.intersectionOverUnion(observationRectangles[observationIndex])
                if overlap >= threshold && overlap > 0 {
                    candidates.append(Candidate(stateIndex: stateIndex, observationIndex: observationIndex, overlap: overlap))
                }
            }
        }
        guard !candidates.isEmpty else { return }

        // Clusters: union-find over states (0..<stateCount) and observations (after them).
        let stateCount = states.count
        clusterParent.removeAll(keepingCapacity: true)
        for node in 0..<(stateCount + observations.count) { clusterParent.append(node) }
        for candidate in candidates {
            let first = clusterRoot(candidate.stateIndex), second = clusterRoot(stateCount + candidate.observationIndex)
            if first != second { clusterParent[second] = first }
        }
        candidateDone.removeAll(keepingCapacity: true)
        for _ in candidates { candidateDone.append(false) }

        for first in candidates.indices where !candidateDone[first] {
            let root = clusterRoot(candidates[first].stateIndex)
            clusterRows.removeAll(keepingCapacity: true)
            clusterColumns.removeAll(keepingCapacity: true)
            var pairCount = 0
            for index in first..<candidates.count where !candidateDone[index] && clusterRoot(candidates[index].stateIndex) == root {
                candidateDone[index] = true
                pairCount += 1
                let candidate = candidates[index]
                if !clusterRows.contains(candidate.stateIndex) { clusterRows.append(candidate.stateIndex) }
                if !clusterColumns.contains(candidate.observationIndex) { clusterColumns.append(candidate.observationIndex) }
            }
            if pairCount == 1 {
                let chosen = candidates[first]
                match(observations, chosen.observationIndex, to: chosen.stateIndex, sequence: sequence)
                continue
            }
            solver.reset(size: max(clusterRows.count, clusterColumns.count))
            for index in first..<candidates.count {
                let candidate = candidates[index]
                guard let row = clusterRows.firstIndex(of: candidate.stateIndex),
                      let column = clusterColumns.firstIndex(of: candidate.observationIndex) else { continue }
                solver.setCost(row: row, column: column, -candidate.overlap)
            }
            solver.solve()
            for row in clusterRows.indices {
                let column = solver.columnOfRow[row]
                // Padding and pairs without a candidate cost 0: assigned, but no match.
                guard column < clusterColumns.count, solver.cost(row: row, column: column) < 0 else { continue }
                match(observations, clusterColumns[column], to: clusterRows[row], sequence: sequence)
            }
        }
    }

    @inline(__always)
    private func match(_ observations: [Observation], _ observationIndex: Int, to stateIndex: Int, sequence: UInt64) {
        observationMatched[observationIndex] = true
        apply(observations[observationIndex], rectangle: observationRectangles[observationIndex], to: stateIndex, sequence: sequence)
    }

    private func clusterRoot(_ node: Int) -> Int {
        var node = node
        while clusterParent[node] != node {
            clusterParent[node] = clusterParent[clusterParent[node]]
            node = clusterParent[node]
        }
        return node
    }

    private func apply(_ observation: Observation, rectangle: Rectangle, to stateIndex: Int, sequence: UInt64) {
        var state = states[stateIndex]
        let elapsed = Double(max(1, sequence &- state.lastObservedSequence))
        let centerX = (rectangle.left + rectangle.right) / 2
        let centerY = (rectangle.top + rectangle.bottom) / 2
        let measuredX = (centerX - state.centerX) / elapsed
        let measuredY = (centerY - state.centerY) / elapsed
        if state.hasVelocity {
            let weight = configuration.velocitySmoothing
            state.velocityX += weight * (measuredX - state.velocityX)
            state.velocityY += weight * (measuredY - state.velocityY)
        } else {
            state.velocityX = measuredX
            state.velocityY = measuredY
            state.hasVelocity = true
        }
        state.centerX = centerX
        state.centerY = centerY
        // A motion region around a detected person is rarely the person's extent (shadows,
        // a swinging bag, half the body still): it moves the track, the detector sizes it.
        if !(observation.objectClass == .motion && state.objectClass != .motion) {
            state.width = rectangle.right - rectangle.left
            state.height = rectangle.bottom - rectangle.top
        }
        if state.objectClass == .motion && observation.objectClass == .person {
            state.objectClass = .person
        }
        state.lastObservedSequence = sequence
        state.hits &+= 1
        state.matchedThisFrame = true
        if !state.isConfirmed && state.hits >= configuration.hitsToConfirm {
            state.isConfirmed = true
            counters.tracksConfirmed &+= 1
        }
        states[stateIndex] = state
    }

    private func startTracks(for observations: [Observation], sequence: UInt64) {
        let threshold = configuration.minimumOverlap
        // Detector boxes first, so a motion region around a person seen for the first time
        // finds that person's new track and is absorbed instead of starting a twin.
        startTracks(for: observations, motionPass: false, threshold: threshold, sequence: sequence)
        startTracks(for: observations, motionPass: true, threshold: threshold, sequence: sequence)
    }

    private func startTracks(for observations: [Observation], motionPass: Bool, threshold: Double, sequence: UInt64) {
        for index in observations.indices where !observationMatched[index] && (observations[index].objectClass == .motion) == motionPass {
            let observation = observations[index]
            let rectangle = observationRectangles[index]
            // A motion region over an object already tracked (the detector's box matched it,
            // the motion region is left over) is the same object, not a new one.
            if observation.objectClass == .motion {
                var covered = false
                for state in states where Self.canAssociate(track: state.objectClass, observation: .motion) {
                    if state.predicted(at: sequence).intersectionOverUnion(rectangle) >= threshold {
                        covered = true
                        break
                    }
                }
                if covered { continue }
            }
            let identifier = nextIdentifier
            nextIdentifier &+= 1
            states.append(State(
                id: identifier, objectClass: observation.objectClass,
                centerX: (rectangle.left + rectangle.right) / 2, centerY: (rectangle.top + rectangle.bottom) / 2,
                width: rectangle.right - rectangle.left, height: rectangle.bottom - rectangle.top,
                velocityX: 0, velocityY: 0, lastObservedSequence: sequence, firstSequence: sequence,
                hits: 1, isConfirmed: configuration.hitsToConfirm <= 1, hasVelocity: false, matchedThisFrame: true))
            counters.tracksStarted &+= 1
            if configuration.hitsToConfirm <= 1 { counters.tracksConfirmed &+= 1 }
        }
    }

    private func publish(sequence: UInt64) {
        tracks.removeAll(keepingCapacity: true)
        frozenBoxes.removeAll(keepingCapacity: true)
        for state in states {
            let current = state.predicted(at: sequence).box
            tracks.append(Track(
                id: state.id, objectClass: state.objectClass, box: current,
                predictedBox: state.predicted(at: sequence &+ 1).box,
                velocity: Velocity(x: state.velocityX, y: state.velocityY),
                age: Int(clamping: sequence &- state.firstSequence &+ 1),
                missedFrames: Int(clamping: sequence &- state.lastObservedSequence),
                isConfirmed: state.isConfirmed))
            frozenBoxes.append(current)
        }
    }
}

/// Minimum-cost assignment on a square matrix (the Hungarian method in its O(n^3) potentials
/// form). Its arrays are kept between calls, so a steady scene solves without allocating.
struct AssignmentSolver {
    private(set) var size = 0
    private var costs: [Double] = []
    /// After `solve`, the column assigned to each row.
    private(set) var columnOfRow: [Int] = []
    // Potentials and bookkeeping, indexed from 1 with 0 as the virtual start, as in the method.
    private var rowPotential: [Double] = []
    private var columnPotential: [Double] = []
    private var rowOfColumn: [Int] = []
    private var previousColumn: [Int] = []
    private var minimumSlack: [Double] = []
    private var columnUsed: [Bool] = []

    /// Sets up an all-zero `size` x `size` problem.
    mutating func reset(size newSize: Int) {
        size = newSize
        costs.removeAll(keepingCapacity: true)
        costs.append(contentsOf: repeatElement(0, count: newSize * newSize))
    }

    mutating func setCost(row: Int, column: Int, _ value: Double) { costs[row * size + column] = value }

    func cost(row: Int, column: Int) -> Double { costs[row * size + column] }

    mutating func solve() {
        let count = size
        Self.fill(&rowPotential, 0.0, count + 1)
        Self.fill(&columnPotential, 0.0, count + 1)
        Self.fill(&rowOfColumn, 0, count + 1)
        Self.fill(&previousColumn, 0, count + 1)
        for row in 1...max(1, count) where count > 0 {
            rowOfColumn[0] = row
            var column = 0
            Self.fill(&minimumSlack, Double.infinity, count + 1)
            Self.fill(&columnUsed, false, count + 1)
            repeat {
                columnUsed[column] = true
                let currentRow = rowOfColumn[column]
                var delta = Double.infinity
                var nextColumn = 0
                for candidate in 1...count where !columnUsed[candidate] {
                    let slack = costs[(currentRow - 1) * count + candidate - 1] - rowPotential[currentRow] - columnPotential[candidate]
                    if slack < minimumSlack[candidate] {
                        minimumSlack[candidate] = slack
                        previousColumn[candidate] = column
                    }
                    if minimumSlack[candidate] < delta {
                        delta = minimumSlack[candidate]
                        nextColumn = candidate
                    }
                }
                // Every column used with no finite slack left cannot happen with finite costs;
                // stop rather than loop if a NaN ever got in.
                guard nextColumn != 0 else { break }
                for candidate in 0...count {
                    if columnUsed[candidate] {
                        rowPotential[rowOfColumn[candidate]] += delta
                        columnPotential[candidate] -= delta
                    } else {
                        minimumSlack[candidate] -= delta
                    }
                }
                column = nextColumn
            } while rowOfColumn[column] != 0
            repeat {
                let previous = previousColumn[column]
                rowOfColumn[column] = rowOfColumn[previous]
                column = previous
            } while column != 0
        }
        Self.fill(&columnOfRow, 0, count)
        for column in 1..<(count + 1) where rowOfColumn[column] > 0 {
            columnOfRow[rowOfColumn[column] - 1] = column - 1
        }
    }

    private static func fill<Element>(_ array: inout [Element], _ value: Element, _ count: Int) {
        array.removeAll(keepingCapacity: true)
        array.append(contentsOf: repeatElement(value, count: count))
    }
}
