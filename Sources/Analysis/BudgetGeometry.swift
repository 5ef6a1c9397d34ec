// Rectangle arithmetic for the budget scheduler: growing and clamping regions, merging the ones
// that overlap, splitting a frame into tiles, and the exact area of a union of boxes (for the
// fraction of the frame left unverified).

/// A namespace, so that these helpers cannot collide with other files' free functions.
enum BudgetGeometry {
    /// Whether two boxes share at least one pixel (touching edges do not count).
    static func boxesOverlap(_ first: DetectionBox, _ second: DetectionBox) -> Bool {
        first.x < second.x + second.width && second.x < first.x + first.width
            && first.y < second.y + second.height && second.y < first.y + first.height
    }

    /// `box` cut to `0..<width` x `0..<height`; nil when nothing of it is inside.
    static func clampBox(_ box: DetectionBox, width: Int, height: Int) -> DetectionBox? {
        let left = max(box.x, 0), top = max(box.y, 0)
        let right = min(saturatingSum(box.x, box.width), width)
        let bottom = min(saturatingSum(box.y, box.height), height)
        guard right > left, bottom > top else { return nil }
        return DetectionBox(x: left, y: top, width: right - left, height: bottom - top)
    }

    /// The smallest box holding both.
    static func boundingBox(_ first: DetectionBox, _ second: DetectionBox) -> DetectionBox {
        let left = min(first.x, second.x), top = min(first.y, second.y)
        let right = max(first.x + first.width, second.x + second.width)
        let bottom = max(first.y + first.height, second.y + second.height)
        return DetectionBox(x: left, y: top, width: right - left, height: bottom - top)
    }

    /// `box` grown by `horizontal` pixels left and right and `vertical` pixels above and below.
    static func grownBox(_ box: DetectionBox, horizontal: Int, vertical: Int) -> DetectionBox {
        DetectionBox(x: saturatingSum(box.x, -horizontal), y: saturatingSum(box.y, -vertical),
                     width: saturatingSum(box.width, saturatingSum(horizontal, horizontal)),
                     height: saturatingSum(box.height, saturatingSum(vertical, vertical)))
    }

    /// `first + second`, held at the Int limits: motion regions come from another stage, and a
    /// wild value there must cost masking, not a trap (DESIGN.md, invariant 6).
    static func saturatingSum(_ first: Int, _ second: Int) -> Int {
        let (sum, overflow) = first.addingReportingOverflow(second)
        guard overflow else { return sum }
        return second > 0 ? Int.max : Int.min
    }

    /// Replaces boxes that overlap by their bounding box until none overlap, so that one object
    /// split into several motion blobs is examined whole, and no pixel is examined twice.
    static func mergeOverlappingBoxes(_ boxes: [DetectionBox]) -> [DetectionBox] {
        var merged = boxes
        mergeOverlappingBoxes(&merged)
        return merged
    }

    /// `mergeOverlappingBoxes` in place (no allocation).
    static func mergeOverlappingBoxes(_ merged: inout [DetectionBox]) {
        var changed = true
        while changed {
            changed = false
            var index = 0
            while index < merged.count {
                var other = index + 1
                while other < merged.count {
                    if boxesOverlap(merged[index], merged[other]) {
                        merged[index] = boundingBox(merged[index], merged[other])
                        merged.remove(at: other)
                        changed = true
                    } else {
                        other += 1
                    }
                }
                index += 1
            }
        }
    }

    /// Sorts in place without the temporary buffer the standard library's sort may allocate; for
    /// the few dozen regions and tiles of a frame. With a strict total order (every caller's) the
    /// result is the one `sorted(by:)` gives.
    static func insertionSort<Element>(_ elements: inout [Element], by areInIncreasingOrder: (Element, Element) -> Bool) {
        guard elements.count > 1 else { return }
        for index in 1..<elements.count {
            let element = elements[index]
            var position = index
            while position > 0 && areInIncreasingOrder(element, elements[position - 1]) {
                elements[position] = elements[position - 1]
                position -= 1
            }
            elements[position] = element
        }
    }

    /// Largest area first; equal areas top to bottom, then left to right, so the order never
    /// depends on the order the motion stage reported them in.
    static func largestFirst(_ first: DetectionBox, _ second: DetectionBox) -> Bool {
        if first.area != second.area { return first.area > second.area }
        if first.y != second.y { return first.y < second.y }
        if first.x != second.x { return first.x < second.x }
        return first.width < second.width
    }

    /// A `columns` x `rows` grid over the frame, row by row; edges fall on integer divisions so the
    /// tiles cover every pixel exactly once.
    static func tileGrid(width: Int, height: Int, columns: Int, rows: Int) -> [DetectionBox] {
        var tiles: [DetectionBox] = []
        for row in 0..<rows {
            let top = row * height / rows, bottom = (row + 1) * height / rows
            for column in 0..<columns {
                let left = column * width / columns, right = (column + 1) * width / columns
                if right > left && bottom > top {
                    tiles.append(DetectionBox(x: left, y: top, width: right - left, height: bottom - top))
                }
            }
        }
        return tiles
    }

    /// The exact area covered by the union of `boxes`, by cutting the plane at every box edge and
    /// adding the cells some box covers. Quadratic in the edges, which is fine for the few dozen
    /// boxes a frame has.
    static func unionArea(_ boxes: [DetectionBox]) -> Int {
        var union = UnionArea()
        return union.area(of: boxes)
    }

    /// `unionArea` with its edge lists kept from call to call.
    struct UnionArea {
        private var xs: [Int] = []
        private var ys: [Int] = []

        mutating func area(of boxes: [DetectionBox]) -> Int {
            xs.removeAll(keepingCapacity: true)
            ys.removeAll(keepingCapacity: true)
            for box in boxes where box.width > 0 && box.height > 0 {
                xs.append(box.x); xs.append(box.x + box.width)
                ys.append(box.y); ys.append(box.y + box.height)
            }
            guard !xs.isEmpty else { return 0 }
            Self.sortUnique(&xs)
            Self.sortUnique(&ys)
            var area = 0
            for row in 0..<(ys.count - 1) {
                let top = ys[row], bottom = ys[row + 1]
                for column in 0..<(xs.count - 1) {
                    let left = xs[column], right = xs[column + 1]
                    let covered = boxes.contains { box in
                        box.width > 0 && box.height > 0
                            && box.x <= left && right <= box.x + box.width && box.y <= top && bottom <= box.y + box.height
                    }
                    if covered { area += (right - left) * (bottom - top) }
                }
            }
            return area
        }

        private static func sortUnique(_ values: inout [Int]) {
            insertionSort(&values, by: <)
            var kept = 1
            for index in 1..<values.count where values[index] != values[kept - 1] {
                values[kept] = values[index]
                kept += 1
            }
            values.removeLast(values.count - kept)
        }
    }
}
