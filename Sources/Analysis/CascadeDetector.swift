// Multi-scale detection with a CascadeClassifier, following OpenCV 4's CascadeClassifier
// ("new" implementation) step for step so that the raw hits are the same: the same scale list,
// the image (not the features) resized per scale with bit-exact bilinear interpolation, the same
// window grid and stride, variance normalisation and its low-contrast rejection, float feature
// arithmetic with double stage sums, the "skip the next window after a stage-0 rejection" rule,
// and groupRectangles with eps 0.2.
//
// Speed comes from evaluating eight horizontally adjacent windows at once with SIMD for as long
// as at least a few of them survive, then finishing the survivors one by one. For scales below
// 2, where OpenCV visits every other column, the integral images are split into even and odd
// columns so that the eight windows' samples are still contiguous in memory. Feature corners are
// compiled into offsets once per frame size (OpenCV does the same per scale buffer).

import Frames

/// A width and height in pixels.
public struct DetectionSize: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public static let zero = DetectionSize(width: 0, height: 0)
    public var description: String { "\(width)x\(height)" }
}

/// The knobs of `detectMultiScale`.
public struct DetectionParameters: Sendable, Equatable {
    /// Ratio between successive scales; must be greater than 1.
    public var scaleFactor: Double
    /// Raw hits a group needs more than this many of to be reported (0 reports raw hits).
    public var minNeighbors: Int
    /// Smallest window considered (zero: no limit).
    public var minSize: DetectionSize
    /// Largest window considered (zero: the image size, with its edge padding).
    public var maxSize: DetectionSize
    /// Pixels by which windows may hang over every edge of the image, over its edge rows and
    /// columns repeated (not part of OpenCV's detectMultiScale; zero, the default, is exactly it).
    /// The padding is added per scale, after the image is resized, on OpenCV's own window grid:
    /// every window inside the image is the one detectMultiScale evaluates, on the same pixels,
    /// and the windows over the edge come on top. `detect` reports every box detectMultiScale
    /// reports, unchanged (its windows are grouped apart), and adds the groups it has no similar
    /// box for: a face cut off by the frame's edge is found without losing or moving any
    /// detection OpenCV makes. (Padding the image itself first, as this project once did, moves
    /// the grid at every scale: OpenCV's marginal detections, false or real, then come and go.)
    /// Boxes may reach this far past the image's edges.
    public var edgePadding: Int
    /// When set, only the windows whose centres lie in this box (in the image's pixels), grown by
    /// `centreMarginFraction` of the window and one step, are evaluated (not part of OpenCV's
    /// detectMultiScale). An object centred in the box keeps every raw hit that would group with
    /// it (they lie within 20% of its size), so it is found as in a scan of the whole image,
    /// while windows centred further out are not evaluated. The budget scheduler's tiles use it:
    /// a tile's scan area is grown by its overlap so that objects centred in the tile fit whole,
    /// but only windows centred in the tile need to run there; the small windows, which are most
    /// of the cost, then skip most of the overlap.
    public var windowCentres: DetectionBox?

    public init(scaleFactor: Double = 1.1, minNeighbors: Int = 3, minSize: DetectionSize = .zero,
                maxSize: DetectionSize = .zero, edgePadding: Int = 0, windowCentres: DetectionBox? = nil) {
        self.scaleFactor = scaleFactor
        self.minNeighbors = minNeighbors
        self.minSize = minSize
        self.maxSize = maxSize
        self.edgePadding = edgePadding
        self.windowCentres = windowCentres
    }

    /// How far beyond `windowCentres` a window's centre may lie, as a fraction of the window's
    /// size (plus one step): OpenCV's grouping takes raw hits within 20% of a box's size as one
    /// object, so 30% keeps every hit of an object centred on the box's edge.
    public static let centreMarginFraction: Float = 0.3
}

/// The repeated edge pixels around one scale's resized image for `edge` pixels of the image:
/// `edge / scale` rounded up to whole window steps, so that the window grid inside the image
/// stays OpenCV's. The scan and its cost estimate both take it from here.
func scalePadding(edge: Int, scale: Float, step: Int) -> Int {
    edge == 0 ? 0 : (Int((Float(edge) / scale).rounded(.up)) + step - 1) / step * step
}

/// The window positions on one axis of one scale (in the padded resized image, multiples of
/// `step`, below `end`) whose centres lie in `lower..<upper` (image pixels) grown by
/// `DetectionParameters.centreMarginFraction` of the window and one step.
func centredWindowPositions(lower: Int, upper: Int, window: Int, scale: Float, step: Int, pad: Int,
                            end: Int) -> Range<Int> {
    let margin = (DetectionParameters.centreMarginFraction * Float(window) + Float(step)) * scale
    // The centre of the window at position p is at ((p - pad) + window / 2) * scale.
    let first = ((Float(lower) - margin) / scale - Float(window) / 2 + Float(pad)).rounded(.up)
    let last = ((Float(upper) + margin) / scale - Float(window) / 2 + Float(pad)).rounded(.down)
    guard first.isFinite, last.isFinite else { return 0..<end }
    let start = max(0, (Int(max(first, -1e9)) + step - 1) / step * step)
    let stop = min(end, Int(min(last, 1e9)) + 1)
    return start < stop ? start..<stop : start..<start
}

/// An 8-bit greyscale image in caller-owned memory.
public struct GrayPlane {
    public var base: UnsafePointer<UInt8>
    public var width: Int
    public var height: Int
    /// Bytes from one row to the next.
    public var stride: Int

    public init(base: UnsafePointer<UInt8>, width: Int, height: Int, stride: Int) {
        self.base = base
        precondition(width >= 0 && height >= 0 && stride >= width, "a plane's stride must cover its width")
        self.width = width
        self.height = height
        self.stride = stride
    }
}

// MARK: - Compiled cascade

/// A Haar stump with its corners as offsets into the integral buffers.
struct HaarStumpRecord {
    var a0: Int32, b0: Int32, c0: Int32, d0: Int32
    var a1: Int32, b1: Int32, c1: Int32, d1: Int32
    var a2: Int32, b2: Int32, c2: Int32, d2: Int32
    var weight0: Float, weight1: Float, weight2: Float
    var threshold: Float
    var left: Float
    var right: Float
    var hasThird: Bool
}

/// An LBP stump: the 4x4 grid of corners, the two leaf values and the 256-bit category subset.
struct LBPStumpRecord {
    var offsets: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32,
                  Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32)
    var left: Float
    var right: Float
    var subset: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)
    /// The leaves widened once, as the stage sums add them in double precision.
    var leftDouble: Double
    var rightDouble: Double
}

/// Offsets of a feature's corners for one integral layout.
private struct IntegralLayout: Equatable {
    /// Elements from one integral row to the next.
    var rowStride: Int
    /// Whether columns are split into an even half and an odd half (`oddOffset` apart).
    var splitColumns: Bool
    var oddOffset: Int
    var tiltedOffset: Int
    var squaresOffset: Int

    func offset(x: Int, y: Int) -> Int32 {
        if splitColumns {
            return Int32((x & 1) * oddOffset + y * rowStride + (x >> 1))
        }
        return Int32(y * rowStride + x)
    }
}

/// A cascade compiled for one integral layout: flat records in stage order.
private final class CompiledCascade {
    let layout: IntegralLayout
    let stageCount: Int
    let stageFirst: UnsafeMutablePointer<Int>
    let stageCounts: UnsafeMutablePointer<Int>
    let stageThresholds: UnsafeMutablePointer<Float>
    let haarStumps: UnsafeMutableBufferPointer<HaarStumpRecord>
    let lbpStumps: UnsafeMutableBufferPointer<LBPStumpRecord>
    /// For trees (non-stump cascades): one record per node, leaf values stay in the classifier.
    let haarNodes: UnsafeMutableBufferPointer<HaarStumpRecord>
    let lbpNodes: UnsafeMutableBufferPointer<LBPStumpRecord>
    /// LBP category subsets, 8 words per node, in node order (the same words as in the records).
    let lbpSubsets: UnsafeMutablePointer<UInt32>
    /// The same subsets as one byte per category (1: left), 256 per node: one load per lookup.
    let lbpGoesLeftTable: UnsafeMutablePointer<UInt8>
    /// The variance window (the detection window less a one-pixel border).
    let normSum: (Int32, Int32, Int32, Int32)
    let normSquares: (Int32, Int32, Int32, Int32)
    let normArea: Double

    init(_ cascade: CascadeClassifier, layout: IntegralLayout) {
        self.layout = layout
        stageCount = cascade.stages.count
        stageFirst = .allocate(capacity: stageCount)
        stageCounts = .allocate(capacity: stageCount)
        stageThresholds = .allocate(capacity: stageCount)
        for (index, stage) in cascade.stages.enumerated() {
            stageFirst[index] = stage.firstTree
            stageCounts[index] = stage.treeCount
            stageThresholds[index] = stage.threshold
        }

        func rectOffsets(_ rect: CascadeClassifier.HaarRect?, tilted: Bool) -> (Int32, Int32, Int32, Int32) {
            guard let rect else { return (0, 0, 0, 0) }
            if tilted {
                let base = Int32(layout.tiltedOffset)
                return (base + layout.offset(x: rect.x, y: rect.y),
                        base + layout.offset(x: rect.x - rect.height, y: rect.y + rect.height),
                        base + layout.offset(x: rect.x + rect.width, y: rect.y + rect.width),
                        base + layout.offset(x: rect.x + rect.width - rect.height, y: rect.y + rect.width + rect.height))
            }
            return (layout.offset(x: rect.x, y: rect.y), layout.offset(x: rect.x + rect.width, y: rect.y),
                    layout.offset(x: rect.x, y: rect.y + rect.height),
                    layout.offset(x: rect.x + rect.width, y: rect.y + rect.height))
        }
        func haarRecord(_ feature: CascadeClassifier.HaarFeature, threshold: Float, left: Float, right: Float) -> HaarStumpRecord {
            let r0 = rectOffsets(feature.rects[0], tilted: feature.tilted)
            let r1 = rectOffsets(feature.rects.count > 1 ? feature.rects[1] : nil, tilted: feature.tilted)
            let r2 = rectOffsets(feature.rects.count > 2 ? feature.rects[2] : nil, tilted: feature.tilted)
            let weight2: Float = feature.rects.count > 2 ? feature.rects[2].weight : 0
            return HaarStumpRecord(
                a0: r0.0, b0: r0.1, c0: r0.2, d0: r0.3, a1: r1.0, b1: r1.1, c1: r1.2, d1: r1.3,
                a2: r2.0, b2: r2.1, c2: r2.2, d2: r2.3,
                weight0: feature.rects[0].weight, weight1: feature.rects.count > 1 ? feature.rects[1].weight : 0,
                weight2: weight2, threshold: threshold, left: left, right: right, hasThird: weight2 != 0)
        }
        func lbpRecord(_ feature: CascadeClassifier.LBPFeature, subsetStart: Int, left: Float, right: Float) -> LBPStumpRecord {
            var grid = [Int32](repeating: 0, count: 16)
            for row in 0..<4 {
                for column in 0..<4 {
                    grid[row * 4 + column] = layout.offset(x: feature.x + column * feature.width,
                                                           y: feature.y + row * feature.height)
                }
            }
            var words = [UInt32](repeating: 0, count: 8)
            for word in 0..<min(8, cascade.categoryWords) {
                words[word] = UInt32(bitPattern: cascade.subsets[subsetStart + word])
            }
            return LBPStumpRecord(
                offsets: (grid[0], grid[1], grid[2], grid[3], grid[4], grid[5], grid[6], grid[7],
                          grid[8], grid[9], grid[10], grid[11], grid[12], grid[13], grid[14], grid[15]),
                left: left, right: right,
                subset: (words[0], words[1], words[2], words[3], words[4], words[5], words[6], words[7]),
                leftDouble: Double(left), rightDouble: Double(right))
        }

        let stumps = cascade.isStumpCascade
        let nodeCount = cascade.nodes.count
        lbpSubsets = .allocate(capacity: max(8 * nodeCount, 1))
        lbpSubsets.initialize(repeating: 0, count: max(8 * nodeCount, 1))
        let tableCount = cascade.featureType == .lbp ? max(256 * nodeCount, 1) : 1
        lbpGoesLeftTable = .allocate(capacity: tableCount)
        lbpGoesLeftTable.initialize(repeating: 0, count: tableCount)
        if cascade.featureType == .lbp {
            for node in 0..<nodeCount {
                for word in 0..<min(8, cascade.categoryWords) {
                    lbpSubsets[8 * node + word] = UInt32(bitPattern: cascade.subsets[node * cascade.categoryWords + word])
                }
                for category in 0..<256 {
                    lbpGoesLeftTable[256 * node + category] = UInt8((lbpSubsets[8 * node + category >> 5] >> UInt32(category & 31)) & 1)
                }
            }
        }
        haarStumps = .allocate(capacity: cascade.featureType == .haar && stumps ? nodeCount : 0)
        lbpStumps = .allocate(capacity: cascade.featureType == .lbp && stumps ? nodeCount : 0)
        haarNodes = .allocate(capacity: cascade.featureType == .haar && !stumps ? nodeCount : 0)
        lbpNodes = .allocate(capacity: cascade.featureType == .lbp && !stumps ? nodeCount : 0)
        for (index, node) in cascade.nodes.enumerated() {
            // For stumps the node's two leaves are the tree's leaves 0 and 1 (at 2 * index).
            let left = stumps ? cascade.leaves[2 * index] : 0
            let right = stumps ? cascade.leaves[2 * index + 1] : 0
            switch cascade.featureType {
            case .haar:
                let record = haarRecord(cascade.haarFeatures[node.featureIndex], threshold: node.threshold, left: left, right: right)
                if stumps { haarStumps[index] = record } else { haarNodes[index] = record }
            case .lbp:
                let record = lbpRecord(cascade.lbpFeatures[node.featureIndex], subsetStart: index * cascade.categoryWords,
                                       left: left, right: right)
                if stumps { lbpStumps[index] = record } else { lbpNodes[index] = record }
            }
        }
        let width = cascade.windowWidth, height = cascade.windowHeight
        normSum = (layout.offset(x: 1, y: 1), layout.offset(x: width - 1, y: 1),
                   layout.offset(x: 1, y: height - 1), layout.offset(x: width - 1, y: height - 1))
        let squares = Int32(layout.squaresOffset)
        normSquares = (normSum.0 + squares, normSum.1 + squares, normSum.2 + squares, normSum.3 + squares)
        normArea = Double((width - 2) * (height - 2))
    }

    deinit {
        stageFirst.deallocate()
        stageCounts.deallocate()
        stageThresholds.deallocate()
        haarStumps.deallocate()
        lbpStumps.deallocate()
        haarNodes.deallocate()
        lbpNodes.deallocate()
        lbpSubsets.deallocate()
        lbpGoesLeftTable.deallocate()
    }
}

// MARK: - SIMD kernels

@inline(__always)
private func load8(_ base: UnsafePointer<Int32>, _ offset: Int32) -> SIMD8<Int32> {
    UnsafeRawPointer(base + Int(offset)).loadUnaligned(as: SIMD8<Int32>.self)
}

@inline(__always)
private func rectSum8(_ base: UnsafePointer<Int32>, _ a: Int32, _ b: Int32, _ c: Int32, _ d: Int32) -> SIMD8<Int32> {
    load8(base, a) &- load8(base, b) &- load8(base, c) &+ load8(base, d)
}

@inline(__always)
private func rectSum(_ base: UnsafePointer<Int32>, _ a: Int32, _ b: Int32, _ c: Int32, _ d: Int32) -> Int32 {
    base[Int(a)] &- base[Int(b)] &- base[Int(c)] &+ base[Int(d)]
}

@inline(__always)
private func toDouble(_ value: SIMD8<Float>) -> SIMD8<Double> {
    SIMD8<Double>(Double(value[0]), Double(value[1]), Double(value[2]), Double(value[3]),
                  Double(value[4]), Double(value[5]), Double(value[6]), Double(value[7]))
}

/// The value of one Haar feature for eight windows, before variance normalisation.
@inline(__always)
private func haarValue8(_ base: UnsafePointer<Int32>, _ stump: UnsafePointer<HaarStumpRecord>) -> SIMD8<Float> {
    let s = stump.pointee
    var value = s.weight0 * SIMD8<Float>(rectSum8(base, s.a0, s.b0, s.c0, s.d0))
        + s.weight1 * SIMD8<Float>(rectSum8(base, s.a1, s.b1, s.c1, s.d1))
    if s.hasThird { value += s.weight2 * SIMD8<Float>(rectSum8(base, s.a2, s.b2, s.c2, s.d2)) }
    return value
}

@inline(__always)
private func haarValue(_ base: UnsafePointer<Int32>, _ stump: UnsafePointer<HaarStumpRecord>) -> Float {
    let s = stump.pointee
    var value = s.weight0 * Float(rectSum(base, s.a0, s.b0, s.c0, s.d0))
        + s.weight1 * Float(rectSum(base, s.a1, s.b1, s.c1, s.d1))
    if s.hasThird { value += s.weight2 * Float(rectSum(base, s.a2, s.b2, s.c2, s.d2)) }
    return value
}

/// The stage sum of a stump stage for eight windows.
@inline(__always)
private func haarStage8(_ base: UnsafePointer<Int32>, _ stumps: UnsafePointer<HaarStumpRecord>, _ count: Int,
                        _ normFactor: SIMD8<Float>) -> SIMD8<Double> {
    var sum = SIMD8<Double>()
    for index in 0..<count {
        let stump = stumps + index
        let value = haarValue8(base, stump) * normFactor
        let chosen = SIMD8<Float>(repeating: stump.pointee.right)
            .replacing(with: stump.pointee.left, where: value .< stump.pointee.threshold)
        sum += toDouble(chosen)
    }
    return sum
}

/// `a >= b` as 1 in the given bit (values are small, so the difference cannot overflow).
@inline(__always)
private func bitIfAtLeast(_ a: SIMD8<Int32>, _ b: SIMD8<Int32>, _ bit: Int32) -> SIMD8<Int32> {
    // ~(a - b) is negative exactly when a >= b; the arithmetic shift spreads its sign.
    (~(a &- b) &>> 31) & bit
}

@inline(__always)
private func lbpCode8(_ base: UnsafePointer<Int32>, _ stump: UnsafePointer<LBPStumpRecord>) -> SIMD8<Int32> {
    let o = stump.pointee.offsets
    let p0 = load8(base, o.0), p1 = load8(base, o.1), p2 = load8(base, o.2), p3 = load8(base, o.3)
    let p4 = load8(base, o.4), p5 = load8(base, o.5), p6 = load8(base, o.6), p7 = load8(base, o.7)
    let p8 = load8(base, o.8), p9 = load8(base, o.9), p10 = load8(base, o.10), p11 = load8(base, o.11)
    let p12 = load8(base, o.12), p13 = load8(base, o.13), p14 = load8(base, o.14), p15 = load8(base, o.15)
    let center = p5 &- p6 &- p9 &+ p10
    var code = bitIfAtLeast(p0 &- p1 &- p4 &+ p5, center, 128)
    code |= bitIfAtLeast(p1 &- p2 &- p5 &+ p6, center, 64)
    code |= bitIfAtLeast(p2 &- p3 &- p6 &+ p7, center, 32)
    code |= bitIfAtLeast(p6 &- p7 &- p10 &+ p11, center, 16)
    code |= bitIfAtLeast(p10 &- p11 &- p14 &+ p15, center, 8)
    code |= bitIfAtLeast(p9 &- p10 &- p13 &+ p14, center, 4)
    code |= bitIfAtLeast(p8 &- p9 &- p12 &+ p13, center, 2)
    code |= bitIfAtLeast(p4 &- p5 &- p8 &+ p9, center, 1)
    return code
}

@inline(__always)
private func lbpCode(_ base: UnsafePointer<Int32>, _ stump: UnsafePointer<LBPStumpRecord>) -> Int {
    let o = stump.pointee.offsets
    @inline(__always) func at(_ offset: Int32) -> Int32 { base[Int(offset)] }
    let p0 = at(o.0), p1 = at(o.1), p2 = at(o.2), p3 = at(o.3), p4 = at(o.4), p5 = at(o.5), p6 = at(o.6), p7 = at(o.7)
    let p8 = at(o.8), p9 = at(o.9), p10 = at(o.10), p11 = at(o.11), p12 = at(o.12), p13 = at(o.13), p14 = at(o.14), p15 = at(o.15)
    let center = p5 &- p6 &- p9 &+ p10
    var code = 0
    if p0 &- p1 &- p4 &+ p5 >= center { code |= 128 }
    if p1 &- p2 &- p5 &+ p6 >= center { code |= 64 }
    if p2 &- p3 &- p6 &+ p7 >= center { code |= 32 }
    if p6 &- p7 &- p10 &+ p11 >= center { code |= 16 }
    if p10 &- p11 &- p14 &+ p15 >= center { code |= 8 }
    if p9 &- p10 &- p13 &+ p14 >= center { code |= 4 }
    if p8 &- p9 &- p12 &+ p13 >= center { code |= 2 }
    if p4 &- p5 &- p8 &+ p9 >= center { code |= 1 }
    return code
}

@inline(__always)
private func lbpGoesLeft(_ stump: UnsafePointer<LBPStumpRecord>, _ code: Int) -> Bool {
    let word: UInt32
    let s = stump.pointee.subset
    switch code >> 5 {
    case 0: word = s.0
    case 1: word = s.1
    case 2: word = s.2
    case 3: word = s.3
    case 4: word = s.4
    case 5: word = s.5
    case 6: word = s.6
    default: word = s.7
    }
    return (word >> UInt32(code & 31)) & 1 != 0
}

@inline(__always)
private func lbpStage8(_ base: UnsafePointer<Int32>, _ stumps: UnsafePointer<LBPStumpRecord>,
                       _ goesLeft: UnsafePointer<UInt8>, _ count: Int) -> SIMD8<Double> {
    // The subset lookup has no SIMD form on baseline x86 (no gather, no per-lane shifts), so the
    // codes are computed eight at a time and looked up lane by lane into scalar sums.
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, s5 = 0.0, s6 = 0.0, s7 = 0.0
    for index in 0..<count {
        let stump = stumps + index
        let code = lbpCode8(base, stump)
        let table = goesLeft + 256 &* index
        let left = stump.pointee.leftDouble, right = stump.pointee.rightDouble
        @inline(__always) func leaf(_ value: Int32) -> Double {
            table[Int(value) & 255] != 0 ? left : right
        }
        s0 += leaf(code[0]); s1 += leaf(code[1]); s2 += leaf(code[2]); s3 += leaf(code[3])
        s4 += leaf(code[4]); s5 += leaf(code[5]); s6 += leaf(code[6]); s7 += leaf(code[7])
    }
    return SIMD8(s0, s1, s2, s3, s4, s5, s6, s7)
}

// MARK: - Detector

/// Runs one cascade over images, reusing its buffers from image to image: the buffers only grow
/// (to the largest image seen, or what `reserve` asked for), the compiled cascade is rebuilt only
/// when they do, and `detect(_:parameters:into:)` writes into the caller's array, so steady-state
/// detection over crops of varying size allocates nothing.
///
/// Not thread-safe: use one detector per thread.
public final class CascadeDetector {
    public let classifier: CascadeClassifier

    /// The largest image the buffers hold; the integral layouts (and so the compiled cascades'
    /// offsets) follow from it, not from the image at hand.
    private var capacityWidth = 0
    private var capacityHeight = 0
    private var resized: UnsafeMutablePointer<UInt8>?
    private var dense: UnsafeMutablePointer<Int32>?
    private var split: UnsafeMutablePointer<Int32>?
    private var tiltedScratch: UnsafeMutablePointer<Int32>?
    private var denseLayout = IntegralLayout(rowStride: 0, splitColumns: false, oddOffset: 0, tiltedOffset: 0, squaresOffset: 0)
    private var splitLayout = IntegralLayout(rowStride: 0, splitColumns: true, oddOffset: 0, tiltedOffset: 0, squaresOffset: 0)
    private var denseProgram: CompiledCascade?
    private var splitProgram: CompiledCascade?
    private let resizer = BilinearResizer()
    struct ScaleGeometry {
        var scale: Float
        /// The resized image.
        var width: Int, height: Int
        /// Window stride in both directions (2 below scale 2, else 1).
        var step: Int
        /// Repeated edge pixels around the resized image on every side (a multiple of `step`, so
        /// that the window grid inside the image is OpenCV's; 0 without `edgePadding`).
        var pad: Int
        /// Window positions in the padded image: x in 0..<workingWidth, y in 0..<rowEnd.
        var workingWidth: Int, workingHeight: Int
        var rowEnd: Int
        /// With padding, the windows OpenCV's own scan visits, in the unpadded image's positions:
        /// x in 0..<openCVColumns, y in 0..<openCVRowEnd (both 0 at a scale it does not scan).
        var openCVColumns = 0, openCVRowEnd = 0
        /// With `windowCentres`: the first window column and row (multiples of `step`).
        var columnStart = 0, rowStart = 0
    }

    struct PlanKey: Equatable {
        var width: Int, height: Int
        var parameters: DetectionParameters
    }

    /// The scale plan of the last image size and parameters, kept (with its capacity) for the next.
    private var geometry: [ScaleGeometry] = []
    private var planKey: PlanKey?
    private var hits: [(scale: Int, y: Int, x: Int)] = []
    /// With edge padding: per candidate, whether OpenCV's own scan visits its window.
    private var candidateIsOpenCVs: [Bool] = []
    private var openCVCandidates: [DetectionBox] = []
    private var paddedBoxes: [DetectionBox] = []
    /// Scratch for the scale list, the raw hits as boxes, and the grouping.
    private var allScales: [Float] = []
    private(set) var chosenScales: [Float] = []
    private var candidates: [DetectionBox] = []
    private var grouping = RectangleGrouping()

    private func makePlan(imageWidth: Int, imageHeight: Int, parameters: DetectionParameters) {
        let windowWidth = classifier.windowWidth, windowHeight = classifier.windowHeight
        let edge = Self.edgePadding(parameters, width: imageWidth, height: imageHeight)
        collectScales(imageWidth: imageWidth + 2 * edge, imageHeight: imageHeight + 2 * edge, parameters: parameters)
        geometry.removeAll(keepingCapacity: true)
        for scale in chosenScales {
            // The resized image is OpenCV's (the unpadded image's size over the scale); the
            // padding around it covers `edge` image pixels, rounded up to whole window steps.
            let width = Int((Float(imageWidth) / scale).rounded(.toNearestOrEven))
            let height = Int((Float(imageHeight) / scale).rounded(.toNearestOrEven))
            let step = scale >= 2 ? 1 : 2
            let pad = scalePadding(edge: edge, scale: scale, step: step)
            let workingHeight = max(height + 2 * pad + 1 - windowHeight, 0)
            geometry.append(ScaleGeometry(scale: scale, width: width, height: height, step: step, pad: pad,
                                          workingWidth: max(width + 2 * pad + 1 - windowWidth, 0), workingHeight: workingHeight,
                                          rowEnd: workingHeight))
        }
        defer { if let centres = parameters.windowCentres { restrictToCentres(centres) } }
        if edge == 0 {
            Self.truncateRows(&geometry) { $0.workingWidth } rows: { $0.workingHeight } set: { $0.rowEnd = $1 }
            return
        }
        // With padding every window row is scanned, and each scale notes which of its windows
        // OpenCV's own scan (the unpadded plan) visits, so that `detect` can report its boxes as
        // it would.
        collectScales(imageWidth: imageWidth, imageHeight: imageHeight, parameters: parameters)
        var scanned = 0
        for index in geometry.indices where chosenScales.contains(geometry[index].scale) {
            let g = geometry[index]
            geometry[index].openCVColumns = max(g.width + 1 - windowWidth, 0)
            geometry[index].openCVRowEnd = max(g.height + 1 - windowHeight, 0)
            scanned += 1
        }
        guard scanned > 0 else { return }
        var openCVPlan = geometry.filter { $0.openCVColumns > 0 || $0.openCVRowEnd > 0 }
        Self.truncateRows(&openCVPlan) { $0.openCVColumns } rows: { $0.openCVRowEnd } set: { $0.openCVRowEnd = $1 }
        for g in openCVPlan {
            if let index = geometry.firstIndex(where: { $0.scale == g.scale }) { geometry[index].openCVRowEnd = g.openCVRowEnd }
        }
    }

    /// Keeps, at every scale, only the windows centred in `centres` (see `windowCentres`).
    private func restrictToCentres(_ centres: DetectionBox) {
        let windowWidth = classifier.windowWidth, windowHeight = classifier.windowHeight
        for index in geometry.indices {
            let g = geometry[index]
            let columns = centredWindowPositions(lower: centres.x, upper: centres.x + centres.width, window: windowWidth,
                                                 scale: g.scale, step: g.step, pad: g.pad, end: g.workingWidth)
            let rows = centredWindowPositions(lower: centres.y, upper: centres.y + centres.height, window: windowHeight,
                                              scale: g.scale, step: g.step, pad: g.pad, end: g.rowEnd)
            geometry[index].columnStart = columns.lowerBound
            geometry[index].workingWidth = columns.upperBound
            geometry[index].rowStart = rows.lowerBound
            geometry[index].rowEnd = rows.upperBound
        }
    }

    /// OpenCV splits rows into stripes (one per 32 columns of the first scale) whose union can
    /// stop short of the last row. On one thread it runs all stripes as one range, so hits come
    /// out scale by scale, row by row, as here.
    private static func truncateRows(_ plan: inout [ScaleGeometry], columns: (ScaleGeometry) -> Int,
                                     rows: (ScaleGeometry) -> Int, set: (inout ScaleGeometry, Int) -> Void) {
        guard let first = plan.first else { return }
        let stripeCount = max((columns(first) + 31) / 32, 1)
        for index in plan.indices {
            let g = plan[index]
            let stripeSize = max((rows(g) / g.step + stripeCount - 1) / stripeCount, 1) * g.step
            set(&plan[index], min(stripeCount * stripeSize, rows(g)))
        }
    }

    /// Below this many surviving windows out of eight, finishing one by one is cheaper than SIMD.
    public var simdSurvivorThreshold = 3

    /// `classifier.isStumpCascade` and `hasTiltedFeatures` are computed by walking every tree or
    /// feature: asked once per scanned row they cost about a fifth of the detector's time on the
    /// fullbody cascade (2,000 trees), so they are taken once here.
    private let isStumpCascade: Bool
    private let hasTiltedFeatures: Bool

    public init(classifier: CascadeClassifier) {
        self.classifier = classifier
        isStumpCascade = classifier.isStumpCascade
        hasTiltedFeatures = classifier.hasTiltedFeatures
    }

    deinit {
        resized?.deallocate()
        dense?.deallocate()
        split?.deallocate()
        tiltedScratch?.deallocate()
    }

    /// Sizes the buffers for images up to `width x height`, so that the first passes of a stream
    /// (over crops of growing size) do not reallocate them and recompile the cascade. Optional:
    /// detection grows the buffers as needed.
    public func reserve(width: Int, height: Int) {
        prepare(width: width, height: height)
    }

    /// Detects objects as `CascadeClassifier::detectMultiScale` does: raw hits, grouped, then
    /// clipped to the image (windows near the right and bottom edges can reach past it).
    public func detect(_ image: GrayPlane, parameters: DetectionParameters = DetectionParameters()) -> [DetectionBox] {
        var boxes: [DetectionBox] = []
        detect(image, parameters: parameters, into: &boxes)
        return boxes
    }

    /// As `detect(_:parameters:)`, into `boxes` (emptied first, capacity kept): with an array
    /// the caller keeps, steady-state detection allocates nothing.
    public func detect(_ image: GrayPlane, parameters: DetectionParameters, into boxes: inout [DetectionBox]) {
        collectCandidates(image, parameters: parameters)
        let edge = Self.edgePadding(parameters, width: image.width, height: image.height)
        if edge == 0 {
            grouping.group(candidates, groupThreshold: parameters.minNeighbors, eps: 0.2, into: &boxes)
            clipBoxes(&boxes, width: image.width, height: image.height)
            return
        }
        // OpenCV's own windows grouped alone give exactly its boxes; every window grouped
        // together adds what lies over the edges. A group of the second kind is reported only
        // when no box of the first is similar to it (OpenCV's own grouping test), so that edge
        // windows joining a group do not move a box OpenCV reports.
        openCVCandidates.removeAll(keepingCapacity: true)
        for (index, box) in candidates.enumerated() where candidateIsOpenCVs[index] { openCVCandidates.append(box) }
        grouping.group(openCVCandidates, groupThreshold: parameters.minNeighbors, eps: 0.2, into: &boxes)
        clipBoxes(&boxes, width: image.width, height: image.height)
        grouping.group(candidates, groupThreshold: parameters.minNeighbors, eps: 0.2, into: &paddedBoxes)
        // Clipped to the padded image, in the image's pixels.
        for index in paddedBoxes.indices { paddedBoxes[index].x += edge; paddedBoxes[index].y += edge }
        clipBoxes(&paddedBoxes, width: image.width + 2 * edge, height: image.height + 2 * edge)
        let openCVCount = boxes.count
        for var box in paddedBoxes {
            box.x -= edge
            box.y -= edge
            if !boxes[..<openCVCount].contains(where: { similarBoxes($0, box, eps: 0.2) }) { boxes.append(box) }
        }
    }

    /// The parameters' edge padding for a `width x height` image: none when negative, and at most
    /// half the image's longer side (a window hanging further out would see more repeated edge
    /// than image; the cap also bounds the buffers).
    static func edgePadding(_ parameters: DetectionParameters, width: Int, height: Int) -> Int {
        min(max(parameters.edgePadding, 0), max(width, height, 0) / 2)
    }

    /// The scales OpenCV's detectMultiScale would scan for this image size.
    public func scales(imageWidth: Int, imageHeight: Int, parameters: DetectionParameters) -> [Float] {
        collectScales(imageWidth: imageWidth, imageHeight: imageHeight, parameters: parameters)
        return chosenScales
    }

    /// Fills `chosenScales` (and `allScales`) as `scales` returns them, keeping their capacity.
    func collectScales(imageWidth: Int, imageHeight: Int, parameters: DetectionParameters) {
        allScales.removeAll(keepingCapacity: true)
        chosenScales.removeAll(keepingCapacity: true)
        let windowWidth = classifier.windowWidth, windowHeight = classifier.windowHeight
        guard imageWidth >= windowWidth, imageHeight >= windowHeight,
              parameters.scaleFactor > 1, parameters.scaleFactor.isFinite else { return }
        var factor = 1.0
        while allScales.count < 4096 {
            // Compared as reals first so a huge factor cannot overflow the integer conversion.
            let realWidth = (Double(windowWidth) * factor).rounded(.toNearestOrEven)
            let realHeight = (Double(windowHeight) * factor).rounded(.toNearestOrEven)
            if realWidth > Double(imageWidth) || realHeight > Double(imageHeight) { break }
            allScales.append(Float(factor))
            factor *= parameters.scaleFactor
        }
        var maxSize = parameters.maxSize
        if maxSize.width == 0 || maxSize.height == 0 { maxSize = DetectionSize(width: imageWidth, height: imageHeight) }
        for scale in allScales {
            let width = Int((Float(windowWidth) * scale).rounded(.toNearestOrEven))
            let height = Int((Float(windowHeight) * scale).rounded(.toNearestOrEven))
            if width > maxSize.width || height > maxSize.height { break }
            if width < parameters.minSize.width || height < parameters.minSize.height { continue }
            chosenScales.append(scale)
        }
        // As OpenCV: when no scale qualifies (typically minSize == maxSize between two scales),
        // take the one whose window is closest to minSize.
        if chosenScales.isEmpty, !allScales.isEmpty {
            var best = 0, bestDistance = Int.max
            for (index, scale) in allScales.enumerated() {
                let dx = parameters.minSize.width - Int((Float(windowWidth) * scale).rounded(.toNearestOrEven))
                let dy = parameters.minSize.height - Int((Float(windowHeight) * scale).rounded(.toNearestOrEven))
                if dx * dx + dy * dy < bestDistance { bestDistance = dx * dx + dy * dy; best = index }
            }
            chosenScales.append(allScales[best])
        }
    }

    /// Grows the buffers to hold `width x height` (never shrinks them). The layouts depend only
    /// on the capacity, so the compiled cascades stay valid for every smaller image.
    private func prepare(width: Int, height: Int) {
        if width <= capacityWidth && height <= capacityHeight { return }
        let width = max(width, capacityWidth), height = max(height, capacityHeight)
        capacityWidth = width
        capacityHeight = height
        resized?.deallocate()
        dense?.deallocate()
        split?.deallocate()
        tiltedScratch?.deallocate()
        let tilted = hasTiltedFeatures
        let regions = tilted ? 3 : 2
        let padding = 64
        let rows = height + 1
        // Dense layout: one stride for every scale (the widest), regions one after another.
        let stride = (width + 1 + 7) & ~7
        let denseRegion = stride * rows + padding
        denseLayout = IntegralLayout(rowStride: stride, splitColumns: false, oddOffset: 0,
                                     tiltedOffset: denseRegion, squaresOffset: (tilted ? 2 : 1) * denseRegion)
        // Split layout: even columns then odd columns, each half as wide.
        let halfStride = (stride / 2 + 7) & ~7
        let half = halfStride * rows + padding
        let splitRegion = 2 * half + padding
        splitLayout = IntegralLayout(rowStride: halfStride, splitColumns: true, oddOffset: half,
                                     tiltedOffset: splitRegion, squaresOffset: (tilted ? 2 : 1) * splitRegion)
        resized = .allocate(capacity: width * height + padding)
        dense = .allocate(capacity: regions * denseRegion + padding)
        dense!.initialize(repeating: 0, count: regions * denseRegion + padding)
        split = .allocate(capacity: regions * splitRegion + padding)
        split!.initialize(repeating: 0, count: regions * splitRegion + padding)
        tiltedScratch = tilted ? .allocate(capacity: integralTiltedScratchCount(width: width)) : nil
        denseProgram = CompiledCascade(classifier, layout: denseLayout)
        splitProgram = CompiledCascade(classifier, layout: splitLayout)
    }

    /// Raw hits before grouping, in the order OpenCV's single-threaded run reports them.
    public func detectCandidates(_ image: GrayPlane, parameters: DetectionParameters = DetectionParameters()) -> [DetectionBox] {
        collectCandidates(image, parameters: parameters)
        return candidates
    }

    /// Fills `candidates` with the raw hits, keeping its capacity.
    private func collectCandidates(_ image: GrayPlane, parameters: DetectionParameters) {
        candidates.removeAll(keepingCapacity: true)
        // The scale plan depends only on the image size and the parameters: reuse it while they
        // stay the same (a tile), rebuild it in place when they change (a moving region).
        let key = PlanKey(width: image.width, height: image.height, parameters: parameters)
        if planKey != key {
            makePlan(imageWidth: image.width, imageHeight: image.height, parameters: parameters)
            planKey = key
        }
        guard !geometry.isEmpty else { return }
        let edge = Self.edgePadding(parameters, width: image.width, height: image.height)
        // A scale's padding (`scalePadding`) is at most `edge` rounded up to a step (2).
        let margin = edge == 0 ? 0 : edge + 2
        prepare(width: image.width + 2 * margin, height: image.height + 2 * margin)
        let windowWidth = classifier.windowWidth, windowHeight = classifier.windowHeight
        hits.removeAll(keepingCapacity: true)
        candidateIsOpenCVs.removeAll(keepingCapacity: true)
        for scaleIndex in geometry.indices {
            let g = geometry[scaleIndex]
            let plane: UnsafePointer<UInt8>
            let planeStride: Int
            let planeWidth = g.width + 2 * g.pad, planeHeight = g.height + 2 * g.pad
            let windowCount = (max(g.workingWidth - g.columnStart, 0) + g.step - 1) / g.step
            // No window at this scale (`windowCentres` far from it, or with padding a window
            // larger than the image and its padding): nothing to resize or sum.
            guard windowCount > 0, g.rowStart < g.rowEnd, g.width > 0, g.height > 0 else { continue }
            if g.pad == 0 && g.width == image.width && g.height == image.height {
                plane = image.base
                planeStride = image.stride
            } else {
                let inner = resized! + g.pad * planeWidth + g.pad
                if g.width == image.width && g.height == image.height {
                    for row in 0..<g.height { (inner + row * planeWidth).update(from: image.base + row * image.stride, count: g.width) }
                } else {
                    resizer.configure(sourceWidth: image.width, sourceHeight: image.height, width: g.width, height: g.height)
                    resizer.resize(source: image.base, sourceStride: image.stride, destination: inner, destinationStride: planeWidth)
                }
                if g.pad > 0 { repeatEdges(resized!, width: planeWidth, height: planeHeight, pad: g.pad) }
                plane = UnsafePointer(resized!)
                planeStride = planeWidth
            }
            let dense = self.dense!
            let tilted = hasTiltedFeatures
            let wantsSquares = classifier.featureType == .haar
            computeIntegralImages(
                source: plane, sourceStride: planeStride, width: planeWidth, height: planeHeight,
                into: IntegralPlanes(sum: dense, squaredSum: wantsSquares ? dense + denseLayout.squaresOffset : nil,
                                     tilted: tilted ? dense + denseLayout.tiltedOffset : nil, stride: denseLayout.rowStride),
                scratch: tiltedScratch)
            let program: CompiledCascade
            let buffer: UnsafeMutablePointer<Int32>
            if g.step == 2 {
                splitColumns(width: planeWidth + 1, height: planeHeight + 1, squares: wantsSquares, tilted: tilted)
                program = splitProgram!
                buffer = split!
            } else {
                program = denseProgram!
                buffer = dense
            }
            let rowEnd = g.rowEnd, columnStart = g.columnStart
            var y = g.rowStart
            while y < rowEnd {
                // Window `columnStart / step` of the row is column `columnStart` (in the split
                // layout, even columns are every other one).
                let rowBase = UnsafePointer(buffer + y * program.layout.rowStride + columnStart / g.step)
                scanRow(rowBase, windowCount: windowCount, program: program) { window in
                    hits.append((scaleIndex, y, columnStart + window * g.step))
                }
                y += g.step
            }
        }
        for hit in hits {
            let g = geometry[hit.scale]
            let scale = g.scale, pad = g.pad
            if edge > 0 {
                let x = hit.x - pad, y = hit.y - pad
                candidateIsOpenCVs.append(x >= 0 && y >= 0 && x < g.openCVColumns && y < g.openCVRowEnd)
            }
            candidates.append(DetectionBox(
                x: Int((Float(hit.x - pad) * scale).rounded(.toNearestOrEven)),
                y: Int((Float(hit.y - pad) * scale).rounded(.toNearestOrEven)),
                width: Int((Float(windowWidth) * scale).rounded(.toNearestOrEven)),
                height: Int((Float(windowHeight) * scale).rounded(.toNearestOrEven))))
        }
    }

    /// Fills the `pad` pixels around the inner `width - 2 pad` x `height - 2 pad` image with its
    /// edge rows and columns, corners with its corner pixels (OpenCV's BORDER_REPLICATE).
    private func repeatEdges(_ plane: UnsafeMutablePointer<UInt8>, width: Int, height: Int, pad: Int) {
        let innerWidth = width - 2 * pad
        for row in pad..<(height - pad) {
            let line = plane + row * width
            line.update(repeating: line[pad], count: pad)
            (line + pad + innerWidth).update(repeating: line[pad + innerWidth - 1], count: pad)
        }
        for row in 0..<pad {
            (plane + row * width).update(from: plane + pad * width, count: width)
            (plane + (height - 1 - row) * width).update(from: plane + (height - 1 - pad) * width, count: width)
        }
    }

    /// Copies the dense integral planes into the split (even/odd column) layout.
    private func splitColumns(width: Int, height: Int, squares: Bool, tilted: Bool) {
        let source = dense!, target = split!
        let evenCount = (width + 1) / 2, oddCount = width / 2
        for region in 0..<(1 + (squares ? 1 : 0) + (tilted ? 1 : 0)) {
            let from: Int, to: Int
            switch region {
            case 0: (from, to) = (0, 0)
            case 1 where squares: (from, to) = (denseLayout.squaresOffset, splitLayout.squaresOffset)
            default: (from, to) = (denseLayout.tiltedOffset, splitLayout.tiltedOffset)
            }
            for row in 0..<height {
                let input = source + from + row * denseLayout.rowStride
                let even = target + to + row * splitLayout.rowStride
                let odd = even + splitLayout.oddOffset
                for column in 0..<evenCount { even[column] = input[2 * column] }
                for column in 0..<oddCount { odd[column] = input[2 * column + 1] }
            }
        }
    }

    /// Evaluates the windows of one row; calls `hit` with the index of each accepted window.
    @inline(__always)
    private func scanRow(_ rowBase: UnsafePointer<Int32>, windowCount: Int, program: CompiledCascade,
                         hit: (Int) -> Void) {
        if isStumpCascade {
            switch classifier.featureType {
            case .haar: scanRowHaarStumps(rowBase, windowCount: windowCount, program: program, hit: hit)
            case .lbp: scanRowLBPStumps(rowBase, windowCount: windowCount, program: program, hit: hit)
            }
        } else {
            scanRowTrees(rowBase, windowCount: windowCount, program: program, hit: hit)
        }
    }

    private func scanRowHaarStumps(_ rowBase: UnsafePointer<Int32>, windowCount: Int, program: CompiledCascade,
                                   hit: (Int) -> Void) {
        let stumps = UnsafePointer(program.haarStumps.baseAddress!)
        let stageCount = program.stageCount
        let area = program.normArea
        let n = program.normSum, q = program.normSquares
        let firstStageCount = program.stageCounts[0]
        let firstThreshold = Double(program.stageThresholds[0])
        var skipNext = false
        var start = 0
        while start < windowCount {
            let lanes = min(8, windowCount - start)
            let base = rowBase + start
            // Variance normalisation over the window less its border, as HaarEvaluator::setWindow.
            let sums = rectSum8(base, n.0, n.1, n.2, n.3)
            let squares = rectSum8(base, q.0, q.1, q.2, q.3)
            let sumsDouble = SIMD8<Double>(SIMD8<Int64>(truncatingIfNeeded: sums))
            let squaresDouble = SIMD8<Double>(SIMD8<Int64>(truncatingIfNeeded: SIMD8<UInt32>(truncatingIfNeeded: squares)))
            let normVariance = area * squaresDouble - sumsDouble * sumsDouble
            let inverse = 1.0 / normVariance.squareRoot()
            let normFactor = SIMD8<Float>(Float(inverse[0]), Float(inverse[1]), Float(inverse[2]), Float(inverse[3]),
                                          Float(inverse[4]), Float(inverse[5]), Float(inverse[6]), Float(inverse[7]))
            let valid = (normVariance .> 0) .& (area * toDouble(normFactor) .< 0.1)

            let stageSum = haarStage8(base, stumps, firstStageCount, normFactor)
            let passed = stageSum .>= firstThreshold
            var alive: UInt32 = 0
            for lane in 0..<lanes {
                if skipNext { skipNext = false; continue }
                if !valid[lane] { continue }
                if !passed[lane] { skipNext = true; continue }
                alive |= 1 << UInt32(lane)
            }
            var stage = 1
            var stumpStart = firstStageCount
            while alive != 0 && stage < stageCount && alive.nonzeroBitCount >= simdSurvivorThreshold {
                let count = program.stageCounts[stage]
                let sum = haarStage8(base, stumps + stumpStart, count, normFactor)
                let stagePassed = sum .>= Double(program.stageThresholds[stage])
                for lane in 0..<8 where alive & (1 << UInt32(lane)) != 0 && !stagePassed[lane] {
                    alive &= ~(1 << UInt32(lane))
                }
                stumpStart += count
                stage += 1
            }
            while alive != 0 {
                let lane = alive.trailingZeroBitCount
                alive &= alive - 1
                let window = base + lane
                let factor = normFactor[lane]
                var accepted = true
                var laneStump = stumpStart
                for laneStage in stage..<stageCount {
                    let count = program.stageCounts[laneStage]
                    var sum = 0.0
                    for index in laneStump..<(laneStump + count) {
                        let stump = stumps + index
                        let value = haarValue(window, stump) * factor
                        sum += Double(value < stump.pointee.threshold ? stump.pointee.left : stump.pointee.right)
                    }
                    if sum < Double(program.stageThresholds[laneStage]) { accepted = false; break }
                    laneStump += count
                }
                if accepted { hit(start + lane) }
            }
            start += 8
        }
    }

    private func scanRowLBPStumps(_ rowBase: UnsafePointer<Int32>, windowCount: Int, program: CompiledCascade,
                                  hit: (Int) -> Void) {
        let stumps = UnsafePointer(program.lbpStumps.baseAddress!)
        let subsets = UnsafePointer(program.lbpGoesLeftTable)
        let stageCount = program.stageCount
        let firstStageCount = program.stageCounts[0]
        let firstThreshold = Double(program.stageThresholds[0])
        var skipNext = false
        var start = 0
        while start < windowCount {
            let lanes = min(8, windowCount - start)
            let base = rowBase + start
            let stageSum = lbpStage8(base, stumps, subsets, firstStageCount)
            let passed = stageSum .>= firstThreshold
            var alive: UInt32 = 0
            for lane in 0..<lanes {
                if skipNext { skipNext = false; continue }
                if !passed[lane] { skipNext = true; continue }
                alive |= 1 << UInt32(lane)
            }
            var stage = 1
            var stumpStart = firstStageCount
            while alive != 0 && stage < stageCount && alive.nonzeroBitCount >= simdSurvivorThreshold {
                let count = program.stageCounts[stage]
                let sum = lbpStage8(base, stumps + stumpStart, subsets + 256 * stumpStart, count)
                let stagePassed = sum .>= Double(program.stageThresholds[stage])
                for lane in 0..<8 where alive & (1 << UInt32(lane)) != 0 && !stagePassed[lane] {
                    alive &= ~(1 << UInt32(lane))
                }
                stumpStart += count
                stage += 1
            }
            while alive != 0 {
                let lane = alive.trailingZeroBitCount
                alive &= alive - 1
                let window = base + lane
                var accepted = true
                var laneStump = stumpStart
                for laneStage in stage..<stageCount {
                    let count = program.stageCounts[laneStage]
                    var sum = 0.0
                    for index in laneStump..<(laneStump + count) {
                        let stump = stumps + index
                        sum += subsets[256 &* index &+ lbpCode(window, stump)] != 0 ? stump.pointee.leftDouble : stump.pointee.rightDouble
                    }
                    if sum < Double(program.stageThresholds[laneStage]) { accepted = false; break }
                    laneStump += count
                }
                if accepted { hit(start + lane) }
            }
            start += 8
        }
    }

    /// The general path for cascades of deeper trees: one window at a time, as OpenCV's
    /// predictOrdered / predictCategorical.
    private func scanRowTrees(_ rowBase: UnsafePointer<Int32>, windowCount: Int, program: CompiledCascade,
                              hit: (Int) -> Void) {
        let cascade = classifier
        let isHaar = cascade.featureType == .haar
        let n = program.normSum, q = program.normSquares
        var index = 0
        while index < windowCount {
            let window = rowBase + index
            var factor: Float = 1
            if isHaar {
                let sum = rectSum(window, n.0, n.1, n.2, n.3)
                let squares = UInt32(bitPattern: rectSum(window, q.0, q.1, q.2, q.3))
                let normVariance = program.normArea * Double(squares) - Double(sum) * Double(sum)
                guard normVariance > 0 else { index += 1; continue }
                factor = Float(1.0 / normVariance.squareRoot())
                guard program.normArea * Double(factor) < 0.1 else { index += 1; continue }
            }
            var result = 1
            cascade.leaves.withUnsafeBufferPointer { leaves in
                for stage in 0..<program.stageCount {
                    var sum = 0.0
                    let first = program.stageFirst[stage]
                    for tree in first..<(first + program.stageCounts[stage]) {
                        let root = cascade.treeFirstNodes[tree]
                        var node = 0
                        repeat {
                            let nodeIndex = root + node
                            let goesLeft: Bool
                            if isHaar {
                                let record = UnsafePointer(program.haarNodes.baseAddress! + nodeIndex)
                                goesLeft = haarValue(window, record) * factor < record.pointee.threshold
                            } else {
                                let record = UnsafePointer(program.lbpNodes.baseAddress! + nodeIndex)
                                goesLeft = lbpGoesLeft(record, lbpCode(window, record))
                            }
                            node = goesLeft ? cascade.nodes[nodeIndex].left : cascade.nodes[nodeIndex].right
                        } while node > 0
                        sum += Double(leaves[cascade.treeFirstLeaves[tree] - node])
                    }
                    if sum < Double(program.stageThresholds[stage]) { result = -stage; return }
                }
            }
            if result > 0 { hit(index) }
            index += result == 0 ? 2 : 1
        }
    }
}
