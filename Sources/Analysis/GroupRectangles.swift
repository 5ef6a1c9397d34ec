// Grouping of raw detector hits as OpenCV's `groupRectangles` does: cluster similar rectangles,
// average each cluster, drop clusters with too few members, and drop small clusters that sit
// inside a stronger one.

/// An axis-aligned box in image pixels.
public struct DetectionBox: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var description: String { "[\(x), \(y), \(width), \(height)]" }

    public var area: Int { width * height }

    /// Intersection over union with another box (0 when either is empty).
    public func intersectionOverUnion(_ other: DetectionBox) -> Double {
        let left = max(x, other.x), top = max(y, other.y)
        let right = min(x + width, other.x + other.width), bottom = min(y + height, other.y + other.height)
        guard right > left, bottom > top else { return 0 }
        let intersection = Double((right - left) * (bottom - top))
        let union = Double(area + other.area) - intersection
        return union > 0 ? intersection / union : 0
    }
}

/// Whether two boxes are "similar" in OpenCV's sense: every edge within `eps` times the mean
/// of the smaller width and smaller height.
@inline(__always)
func similarBoxes(_ first: DetectionBox, _ second: DetectionBox, eps: Double) -> Bool {
    let delta = eps * Double(min(first.width, second.width) + min(first.height, second.height)) * 0.5
    return Double(abs(first.x - second.x)) <= delta
        && Double(abs(first.y - second.y)) <= delta
        && Double(abs(first.x + first.width - second.x - second.width)) <= delta
        && Double(abs(first.y + first.height - second.y - second.height)) <= delta
}

/// Labels the equivalence classes of `boxes` under `similarBoxes` (transitive closure), numbering
/// classes in order of their first member, as `cv::partition` does. Returns the labels and the
/// class count.
func partitionBoxes(_ boxes: [DetectionBox], eps: Double) -> (labels: [Int], classCount: Int) {
    var grouping = RectangleGrouping()
    let classCount = grouping.partition(boxes, eps: eps)
    return (grouping.labels, classCount)
}

/// OpenCV's `saturate_cast<int>(float)`: round half to even, clamp to Int32.
@inline(__always)
func saturatingRound(_ value: Float) -> Int {
    let rounded = value.rounded(.toNearestOrEven)
    if rounded >= 2_147_483_648 { return Int(Int32.max) }
    if rounded <= -2_147_483_648 { return Int(Int32.min) }
    return Int(rounded)
}

/// Groups raw hits as `cv::groupRectangles(rectList, groupThreshold, eps)`.
///
/// With `groupThreshold <= 0` the hits are returned unchanged. Otherwise similar hits are
/// clustered, each cluster is averaged (with OpenCV's float rounding), clusters with
/// `groupThreshold` members or fewer are dropped, and a cluster lying inside another (within
/// `eps` of its size) is dropped when the other has more than `max(3, n)` members, or when it
/// has fewer than 3 members itself.
public func groupRectangles(_ boxes: [DetectionBox], groupThreshold: Int, eps: Double = 0.2) -> [DetectionBox] {
    var grouping = RectangleGrouping()
    var result: [DetectionBox] = []
    grouping.group(boxes, groupThreshold: groupThreshold, eps: eps, into: &result)
    return result
}

/// `groupRectangles` with its working arrays kept from call to call, so that a detector grouping
/// every frame's hits allocates nothing once they have grown.
struct RectangleGrouping {
    private var parent: [Int] = []
    private var rank: [Int] = []
    private var classOfRoot: [Int] = []
    /// After `partition`: the class of each box.
    private(set) var labels: [Int] = []
    private var sums: [(x: Int, y: Int, width: Int, height: Int)] = []
    private var weights: [Int] = []
    private var averaged: [DetectionBox] = []

    private mutating func find(_ node: Int) -> Int {
        var root = node
        while parent[root] != root { root = parent[root] }
        var current = node
        while parent[current] != root {
            let next = parent[current]
            parent[current] = root
            current = next
        }
        return root
    }

    private static func fill<Element>(_ array: inout [Element], _ value: Element, _ count: Int) {
        array.removeAll(keepingCapacity: true)
        array.append(contentsOf: repeatElement(value, count: count))
    }

    /// Fills `labels` as `partitionBoxes` returns them; returns the class count.
    mutating func partition(_ boxes: [DetectionBox], eps: Double) -> Int {
        let count = boxes.count
        parent.removeAll(keepingCapacity: true)
        parent.append(contentsOf: 0..<count)
        Self.fill(&rank, 0, count)
        for first in 0..<count {
            for second in (first + 1)..<max(first + 1, count) where similarBoxes(boxes[first], boxes[second], eps: eps) {
                let a = find(first), b = find(second)
                if a == b { continue }
                if rank[a] < rank[b] { parent[a] = b }
                else if rank[a] > rank[b] { parent[b] = a }
                else { parent[b] = a; rank[a] += 1 }
            }
        }
        Self.fill(&classOfRoot, -1, count)
        Self.fill(&labels, 0, count)
        var classCount = 0
        for index in 0..<count {
            let root = find(index)
            if classOfRoot[root] < 0 {
                classOfRoot[root] = classCount
                classCount += 1
            }
            labels[index] = classOfRoot[root]
        }
        return classCount
    }

    /// As `groupRectangles`, into `result` (emptied first, capacity kept).
    mutating func group(_ boxes: [DetectionBox], groupThreshold: Int, eps: Double, into result: inout [DetectionBox]) {
        result.removeAll(keepingCapacity: true)
        guard groupThreshold > 0, !boxes.isEmpty else {
            result.append(contentsOf: boxes)
            return
        }
        let classCount = partition(boxes, eps: eps)
        Self.fill(&sums, (0, 0, 0, 0), classCount)
        Self.fill(&weights, 0, classCount)
        for index in labels.indices {
            let label = labels[index]
            sums[label].x += boxes[index].x
            sums[label].y += boxes[index].y
            sums[label].width += boxes[index].width
            sums[label].height += boxes[index].height
            weights[label] += 1
        }
        averaged.removeAll(keepingCapacity: true)
        for label in 0..<classCount {
            let scale: Float = 1 / Float(weights[label])
            let sum = sums[label]
            averaged.append(DetectionBox(
                x: saturatingRound(Float(sum.x) * scale), y: saturatingRound(Float(sum.y) * scale),
                width: saturatingRound(Float(sum.width) * scale), height: saturatingRound(Float(sum.height) * scale)))
        }
        for first in 0..<classCount {
            let box = averaged[first]
            let members = weights[first]
            if members <= groupThreshold { continue }
            var swallowed = false
            for second in 0..<classCount where second != first {
                let otherMembers = weights[second]
                if otherMembers <= groupThreshold { continue }
                let other = averaged[second]
                let dx = Int((Double(other.width) * eps).rounded(.toNearestOrEven))
                let dy = Int((Double(other.height) * eps).rounded(.toNearestOrEven))
                if box.x >= other.x - dx && box.y >= other.y - dy
                    && box.x + box.width <= other.x + other.width + dx
                    && box.y + box.height <= other.y + other.height + dy
                    && (otherMembers > max(3, members) || members < 3) {
                    swallowed = true
                    break
                }
            }
            if !swallowed { result.append(box) }
        }
    }
}

/// Intersects each box with the image `width x height` and drops those left empty, as OpenCV's
/// `clipObjects` does after `detectMultiScale`.
public func clipBoxes(_ boxes: [DetectionBox], width: Int, height: Int) -> [DetectionBox] {
    var clipped = boxes
    clipBoxes(&clipped, width: width, height: height)
    return clipped
}

/// `clipBoxes` in place, keeping the order.
func clipBoxes(_ boxes: inout [DetectionBox], width: Int, height: Int) {
    var kept = 0
    for index in boxes.indices {
        let box = boxes[index]
        let left = max(box.x, 0), top = max(box.y, 0)
        let right = min(box.x + box.width, width), bottom = min(box.y + box.height, height)
        guard right > left, bottom > top else { continue }
        boxes[kept] = DetectionBox(x: left, y: top, width: right - left, height: bottom - top)
        kept += 1
    }
    boxes.removeLast(boxes.count - kept)
}
