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
    let count = boxes.count
    var parent = [Int](0..<count)
    var rank = [Int](repeating: 0, count: count)
    func find(_ node: Int) -> Int {
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
    for first in 0..<count {
        for second in (first + 1)..<max(first + 1, count) where similarBoxes(boxes[first], boxes[second], eps: eps) {
            let a = find(first), b = find(second)
            if a == b { continue }
            if rank[a] < rank[b] { parent[a] = b }
            else if rank[a] > rank[b] { parent[b] = a }
            else { parent[b] = a; rank[a] += 1 }
        }
    }
    var classOfRoot = [Int](repeating: -1, count: count)
    var labels = [Int](repeating: 0, count: count)
    var classCount = 0
    for index in 0..<count {
        let root = find(index)
        if classOfRoot[root] < 0 {
            classOfRoot[root] = classCount
            classCount += 1
        }
        labels[index] = classOfRoot[root]
    }
    return (labels, classCount)
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
    guard groupThreshold > 0, !boxes.isEmpty else { return boxes }
    let (labels, classCount) = partitionBoxes(boxes, eps: eps)
    var sums = [(x: Int, y: Int, width: Int, height: Int)](repeating: (0, 0, 0, 0), count: classCount)
    var weights = [Int](repeating: 0, count: classCount)
    for (index, label) in labels.enumerated() {
        sums[label].x += boxes[index].x
        sums[label].y += boxes[index].y
        sums[label].width += boxes[index].width
        sums[label].height += boxes[index].height
        weights[label] += 1
    }
    var averaged: [DetectionBox] = []
    averaged.reserveCapacity(classCount)
    for label in 0..<classCount {
        let scale: Float = 1 / Float(weights[label])
        let sum = sums[label]
        averaged.append(DetectionBox(
            x: saturatingRound(Float(sum.x) * scale), y: saturatingRound(Float(sum.y) * scale),
            width: saturatingRound(Float(sum.width) * scale), height: saturatingRound(Float(sum.height) * scale)))
    }
    var result: [DetectionBox] = []
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
    return result
}

/// Intersects each box with the image `width x height` and drops those left empty, as OpenCV's
/// `clipObjects` does after `detectMultiScale`.
public func clipBoxes(_ boxes: [DetectionBox], width: Int, height: Int) -> [DetectionBox] {
    boxes.compactMap { box in
        let left = max(box.x, 0), top = max(box.y, 0)
        let right = min(box.x + box.width, width), bottom = min(box.y + box.height, height)
        guard right > left, bottom > top else { return nil }
        return DetectionBox(x: left, y: top, width: right - left, height: bottom - top)
    }
}
