// Connected components of a binary mask (8-connected), by two raster passes and union-find:
// the step that turns motion analysis's foreground pixels into regions with a bounding box and
// a pixel count. Buffers are sized once for the largest mask, so labelling allocates nothing.

/// One connected component: its bounding box and how many pixels it has.
public struct MaskComponent: Equatable, Sendable {
    public var box: DetectionBox
    public var area: Int

    public init(box: DetectionBox, area: Int) {
        self.box = box
        self.area = area
    }
}

/// Labels the 8-connected components of masks up to a fixed size. One per user; not Sendable.
///
/// Components are numbered 1, 2, ... in raster order of their first (top-most, then left-most)
/// pixel, so results do not depend on how the union-find happened to merge labels.
public final class ConnectedComponents {
    public let maximumWidth: Int
    public let maximumHeight: Int
    /// Label of each pixel of the last mask (0 is background), `width` elements per row.
    public private(set) var labels: [Int32]
    /// The components of the last mask, index `label - 1`.
    public private(set) var components: [MaskComponent]
    /// The last mask's width, which is also the row stride of `labels`.
    public private(set) var width = 0
    public private(set) var height = 0

    private let labelCapacity: Int
    // Union-find parents of provisional labels; later the final label of each provisional one.
    private let parent: UnsafeMutablePointer<Int32>
    // Per final label: bounding box edges and pixel count, gathered in the second pass.
    private let minimumX: UnsafeMutablePointer<Int32>, maximumX: UnsafeMutablePointer<Int32>
    private let minimumY: UnsafeMutablePointer<Int32>, maximumY: UnsafeMutablePointer<Int32>
    private let areas: UnsafeMutablePointer<Int32>

    public init(maximumWidth: Int, maximumHeight: Int) {
        precondition(maximumWidth > 0 && maximumHeight > 0)
        self.maximumWidth = maximumWidth
        self.maximumHeight = maximumHeight
        labels = [Int32](repeating: 0, count: maximumWidth * maximumHeight)
        // A new provisional label needs a background pixel to its left, so a row holds at most
        // ceil(width / 2) of them.
        let labelCapacity = (maximumWidth + 1) / 2 * maximumHeight + 1
        self.labelCapacity = labelCapacity
        func buffer() -> UnsafeMutablePointer<Int32> {
            let pointer = UnsafeMutablePointer<Int32>.allocate(capacity: labelCapacity)
            pointer.initialize(repeating: 0, count: labelCapacity)
            return pointer
        }
        parent = buffer()
        minimumX = buffer()
        maximumX = buffer()
        minimumY = buffer()
        maximumY = buffer()
        areas = buffer()
        components = []
        components.reserveCapacity(labelCapacity)
    }

    deinit {
        for pointer in [parent, minimumX, maximumX, minimumY, maximumY, areas] { pointer.deallocate() }
    }

    /// Labels `mask` (non-zero is foreground) and fills `labels` and `components`.
    /// - Returns: the number of components.
    @discardableResult
    public func label(mask: UnsafeRawPointer, width: Int, height: Int, stride: Int) -> Int {
        precondition(width > 0 && height > 0 && width <= maximumWidth && height <= maximumHeight)
        self.width = width
        self.height = height
        let input = mask.assumingMemoryBound(to: UInt8.self)
        let count = labels.withUnsafeMutableBufferPointer { firstPass(input, width, height, stride, $0.baseAddress!) }
        let final = resolve(count)
        labels.withUnsafeMutableBufferPointer { secondPass(width, height, final, $0.baseAddress!) }
        return final
    }

    /// Provisional labels and their unions. With 8-connectivity the already-visited neighbours
    /// are west, north-west, north and north-east; north touches all the others, so when it is
    /// set it alone decides, and otherwise at most one union (west or north-west with
    /// north-east) is needed.
    private func firstPass(
        _ input: UnsafePointer<UInt8>, _ width: Int, _ height: Int, _ stride: Int,
        _ labels: UnsafeMutablePointer<Int32>
    ) -> Int {
        var next: Int32 = 1
        for row in 0..<height {
            let line = input + row * stride
            let current = labels + row * width
            let previous = current - width
            let hasPrevious = row > 0
            for column in 0..<width {
                guard line[column] != 0 else {
                    current[column] = 0
                    continue
                }
                let north: Int32 = hasPrevious ? previous[column] : 0
                if north != 0 {
                    current[column] = north
                    continue
                }
                var leftSide: Int32 = column > 0 ? current[column - 1] : 0
                if leftSide == 0, hasPrevious, column > 0 { leftSide = previous[column - 1] }
                let northEast: Int32 = hasPrevious && column + 1 < width ? previous[column + 1] : 0
                if leftSide != 0 && northEast != 0 {
                    current[column] = union(leftSide, northEast)
                } else if leftSide != 0 {
                    current[column] = leftSide
                } else if northEast != 0 {
                    current[column] = northEast
                } else {
                    parent[Int(next)] = next
                    current[column] = next
                    next &+= 1
                }
            }
        }
        return Int(next) - 1
    }

    /// Joins two provisional labels; the smaller root wins, so every parent is smaller than its
    /// child and a component's root is the label of its first pixel in raster order.
    @inline(__always)
    private func union(_ first: Int32, _ second: Int32) -> Int32 {
        var rootA = first
        while parent[Int(rootA)] != rootA { rootA = parent[Int(rootA)] }
        var rootB = second
        while parent[Int(rootB)] != rootB { rootB = parent[Int(rootB)] }
        let root = min(rootA, rootB)
        parent[Int(rootA)] = root
        parent[Int(rootB)] = root
        // Shorten the paths just walked so later finds stay short.
        parent[Int(first)] = root
        parent[Int(second)] = root
        return root
    }

    /// Turns `parent` into the final label of each provisional label (1 ... components).
    /// Parents are smaller than children, so one increasing sweep flattens every path.
    private func resolve(_ count: Int) -> Int {
        var final: Int32 = 0
        guard count > 0 else { return 0 }
        for label in 1...count {
            let up = Int(parent[label])
            if up == label {
                final &+= 1
                parent[label] = final
            } else {
                // parent[up] already holds up's final label.
                parent[label] = parent[up]
            }
        }
        return Int(final)
    }

    /// Final labels into the label image, and each component's box and area.
    private func secondPass(_ width: Int, _ height: Int, _ count: Int, _ labels: UnsafeMutablePointer<Int32>) {
        components.removeAll(keepingCapacity: true)
        guard count > 0 else { return }
        let final = parent
        for index in 1...count {
            minimumX[index] = Int32.max
            maximumX[index] = -1
            minimumY[index] = Int32.max
            maximumY[index] = -1
            areas[index] = 0
        }
        for row in 0..<height {
            let line = labels + row * width
            let y = Int32(row)
            for column in 0..<width where line[column] != 0 {
                let label = Int(final[Int(line[column])])
                line[column] = Int32(label)
                let x = Int32(column)
                minimumX[label] = min(minimumX[label], x)
                maximumX[label] = max(maximumX[label], x)
                // Rows arrive in order: the first pixel seen sets the top.
                if minimumY[label] == Int32.max { minimumY[label] = y }
                maximumY[label] = y
                areas[label] &+= 1
            }
        }
        for index in 1...count {
            let box = DetectionBox(
                x: Int(minimumX[index]), y: Int(minimumY[index]),
                width: Int(maximumX[index] - minimumX[index]) + 1,
                height: Int(maximumY[index] - minimumY[index]) + 1)
            components.append(MaskComponent(box: box, area: Int(areas[index])))
        }
    }
}
