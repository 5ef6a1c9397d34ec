// A boosted cascade of weak classifiers over Haar or LBP features, loaded from OpenCV's XML
// files (the `opencv_storage/cascade` layout and the older `opencv-haar-classifier` layout), and
// the typed error a file that is not a usable cascade gets.
//
// The model is kept in the flat form OpenCV's CascadeClassifier uses after loading, so that
// detection follows the same arithmetic: stage thresholds lowered by 1e-5, trees as node and leaf
// arrays, single-node trees (stumps) as one record each, LBP category subsets as 8 words.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a cascade file could not be loaded. Every case names the file.
public enum CascadeLoadError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The file is empty.
    case empty(path: String)
    /// The file is not well-formed XML (or is truncated).
    case malformedXML(path: String, line: Int, reason: String)
    /// Well-formed XML, but not an OpenCV cascade.
    case notACascade(path: String, reason: String)
    /// A cascade, but with a missing or bad value.
    case invalidCascade(path: String, line: Int, reason: String)
    /// A cascade of a kind this detector does not run (for example HOG features).
    case unsupported(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "\(path): cannot read cascade file: \(reason)"
        case let .empty(path): "\(path): cascade file is empty"
        case let .malformedXML(path, line, reason): "\(path):\(line): not well-formed XML: \(reason)"
        case let .notACascade(path, reason): "\(path): not an OpenCV cascade: \(reason)"
        case let .invalidCascade(path, line, reason): "\(path):\(line): invalid cascade: \(reason)"
        case let .unsupported(path, reason): "\(path): unsupported cascade: \(reason)"
        }
    }
}

/// The kind of features a cascade evaluates.
public enum CascadeFeatureType: String, Sendable {
    case haar = "HAAR"
    case lbp = "LBP"
}

/// A loaded cascade. Immutable and shareable; a `CascadeDetector` runs it on images.
public struct CascadeClassifier: Sendable {
    /// Where it was loaded from (or the name given), for messages.
    public let source: String
    public let featureType: CascadeFeatureType
    /// The detection window the cascade was trained on, in pixels.
    public let windowWidth: Int
    public let windowHeight: Int
    /// Whether the file used the old `opencv-haar-classifier` layout.
    public let isOldFormat: Bool

    struct Stage: Sendable {
        var firstTree: Int
        var treeCount: Int
        /// The file's threshold minus OpenCV's 1e-5 epsilon.
        var threshold: Float
    }

    struct Node: Sendable {
        var featureIndex: Int
        var threshold: Float
        /// > 0: index of the next node in the same tree; <= 0: minus the leaf index.
        var left: Int
        var right: Int
    }

    struct HaarRect: Sendable {
        var x: Int, y: Int, width: Int, height: Int
        var weight: Float
    }

    struct HaarFeature: Sendable {
        var rects: [HaarRect]
        var tilted: Bool
    }

    struct LBPFeature: Sendable {
        var x: Int, y: Int, width: Int, height: Int
    }

    var stages: [Stage]
    /// Node count of each tree, in order.
    var treeNodeCounts: [Int]
    /// First node and first leaf of each tree.
    var treeFirstNodes: [Int]
    var treeFirstLeaves: [Int]
    var nodes: [Node]
    var leaves: [Float]
    /// For LBP: `categoryWords` words per node, bit c set when category c goes left.
    var subsets: [Int32]
    var categoryCount: Int
    var haarFeatures: [HaarFeature]
    var lbpFeatures: [LBPFeature]

    public var stageCount: Int { stages.count }
    public var treeCount: Int { treeNodeCounts.count }
    public var nodeCount: Int { nodes.count }
    public var featureCount: Int { featureType == .haar ? haarFeatures.count : lbpFeatures.count }
    public var hasTiltedFeatures: Bool { haarFeatures.contains { $0.tilted } }
    /// Whether every tree is a single node (OpenCV's "stump" fast path).
    public var isStumpCascade: Bool { treeNodeCounts.allSatisfy { $0 == 1 } }
    var categoryWords: Int { (categoryCount + 31) / 32 }

    /// OpenCV lowers every stage threshold by this much when loading.
    static let thresholdEpsilon: Float = 1e-5

    /// Loads a cascade file.
    public static func load(path: String) throws(CascadeLoadError) -> CascadeClassifier {
        let bytes = try readWholeFile(path)
        return try CascadeClassifier(xml: bytes, source: path)
    }

    /// Parses a cascade from the bytes of an XML file; `source` names it in errors.
    public init(xml bytes: [UInt8], source: String) throws(CascadeLoadError) {
        guard bytes.contains(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) else {
            throw .empty(path: source)
        }
        let document: XMLElement
        do {
            document = try parseXMLDocument(bytes)
        } catch {
            throw .malformedXML(path: source, line: error.line, reason: error.message)
        }
        guard document.name == "opencv_storage" else {
            throw .notACascade(path: source, reason: "root element is <\(document.name)>, expected <opencv_storage>")
        }
        guard let top = document.children.first else {
            throw .notACascade(path: source, reason: "<opencv_storage> is empty")
        }
        var reader = CascadeReader(source: source)
        if top.child("stageType") != nil || top.child("featureType") != nil {
            self = try reader.readNewLayout(top)
        } else if top.child("size") != nil || top.attribute("type_id") == "opencv-haar-classifier" {
            self = try reader.readOldLayout(top)
        } else {
            throw .notACascade(path: source, reason:
                "<\(top.name)> has neither <stageType> (cascade layout) nor <size> and <stages> (old haar layout)")
        }
    }

    init(source: String, featureType: CascadeFeatureType, windowWidth: Int, windowHeight: Int,
         isOldFormat: Bool, stages: [Stage], treeNodeCounts: [Int], nodes: [Node], leaves: [Float],
         subsets: [Int32], categoryCount: Int, haarFeatures: [HaarFeature], lbpFeatures: [LBPFeature]) {
        self.source = source
        self.featureType = featureType
        self.windowWidth = windowWidth
        self.windowHeight = windowHeight
        self.isOldFormat = isOldFormat
        self.stages = stages
        self.treeNodeCounts = treeNodeCounts
        self.nodes = nodes
        self.leaves = leaves
        self.subsets = subsets
        self.categoryCount = categoryCount
        self.haarFeatures = haarFeatures
        self.lbpFeatures = lbpFeatures
        var firstNodes: [Int] = [], firstLeaves: [Int] = []
        firstNodes.reserveCapacity(treeNodeCounts.count)
        firstLeaves.reserveCapacity(treeNodeCounts.count)
        var node = 0, leaf = 0
        for count in treeNodeCounts {
            firstNodes.append(node)
            firstLeaves.append(leaf)
            node += count
            leaf += count + 1
        }
        treeFirstNodes = firstNodes
        treeFirstLeaves = firstLeaves
    }
}

/// Reads a whole file with POSIX calls (no Foundation).
func readWholeFile(_ path: String) throws(CascadeLoadError) -> [UInt8] {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else {
        throw .unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    defer { close(descriptor) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        if count == 0 { break }
        result.append(contentsOf: chunk[0..<count])
    }
    return result
}

/// Turns the XML tree into a `CascadeClassifier`, checking every value it uses.
private struct CascadeReader {
    let source: String

    func invalid(_ element: XMLElement, _ reason: String) -> CascadeLoadError {
        .invalidCascade(path: source, line: element.line, reason: reason)
    }

    func required(_ parent: XMLElement, _ name: String) throws(CascadeLoadError) -> XMLElement {
        guard let child = parent.child(name) else { throw invalid(parent, "<\(parent.name)> has no <\(name)>") }
        return child
    }

    func integer(_ element: XMLElement) throws(CascadeLoadError) -> Int {
        let tokens = element.tokens
        guard tokens.count == 1, let value = Int(tokens[0]) else {
            throw invalid(element, "<\(element.name)> should hold one integer, found '\(element.text.prefix(40))'")
        }
        return value
    }

    func real(_ element: XMLElement) throws(CascadeLoadError) -> Double {
        let tokens = element.tokens
        guard tokens.count == 1, let value = parseReal(tokens[0]) else {
            throw invalid(element, "<\(element.name)> should hold one number, found '\(element.text.prefix(40))'")
        }
        return value
    }

    func reals(_ element: XMLElement) throws(CascadeLoadError) -> [Double] {
        var values: [Double] = []
        for token in element.tokens {
            guard let value = parseReal(token) else {
                throw invalid(element, "<\(element.name)> holds '\(token.prefix(40))', which is not a number")
            }
            values.append(value)
        }
        return values
    }

    /// OpenCV writes reals such as "-1." and "3.3e-002"; Swift's parser takes both.
    func parseReal(_ token: Substring) -> Double? {
        guard let value = Double(token), value.isFinite else { return nil }
        return value
    }

    func exactInteger(_ value: Double, _ element: XMLElement, _ what: String) throws(CascadeLoadError) -> Int {
        guard value == value.rounded(), abs(value) <= 4_294_967_295 else {
            throw invalid(element, "\(what) should be an integer, found \(value)")
        }
        return Int(value)
    }

    /// Items of a sequence element (`<_>` children).
    func items(_ element: XMLElement) -> [XMLElement] { element.children.filter { $0.name == "_" } }

    /// The `<rects>` of a Haar feature, `x y width height weight` each, in either XML layout.
    func haarRects(_ rectsElement: XMLElement) throws(CascadeLoadError) -> [CascadeClassifier.HaarRect] {
        var rects: [CascadeClassifier.HaarRect] = []
        for rectElement in items(rectsElement) {
            let numbers = try reals(rectElement)
            guard numbers.count == 5 else {
                throw invalid(rectElement, "a Haar rectangle needs x y width height weight, found \(numbers.count) numbers")
            }
            rects.append(.init(
                x: try exactInteger(numbers[0], rectElement, "x"), y: try exactInteger(numbers[1], rectElement, "y"),
                width: try exactInteger(numbers[2], rectElement, "width"),
                height: try exactInteger(numbers[3], rectElement, "height"), weight: Float(numbers[4])))
        }
        return rects
    }

    // MARK: New layout

    mutating func readNewLayout(_ root: XMLElement) throws(CascadeLoadError) -> CascadeClassifier {
        let stageType = try required(root, "stageType")
        guard stageType.tokens.first == "BOOST" else {
            throw .unsupported(path: source, reason: "stageType '\(stageType.text.trimmed)' (only BOOST is supported)")
        }
        let featureTypeElement = try required(root, "featureType")
        guard let featureType = CascadeFeatureType(rawValue: String(featureTypeElement.tokens.first ?? "")) else {
            throw .unsupported(path: source, reason: "featureType '\(featureTypeElement.text.trimmed)' (only HAAR and LBP are supported)")
        }
        let width = try integer(try required(root, "width"))
        let height = try integer(try required(root, "height"))
        guard width > 0, height > 0, width <= 4096, height <= 4096 else {
            throw invalid(root, "window size \(width)x\(height) is not positive")
        }
        let featureParams = try required(root, "featureParams")
        let categoryCount = featureParams.child("maxCatCount").map { try? integer($0) } ?? 0
        guard let categoryCount, categoryCount >= 0, categoryCount <= 1 << 16 else {
            throw invalid(featureParams, "maxCatCount is not a small non-negative integer")
        }
        if featureType == .lbp && categoryCount != 256 {
            throw invalid(featureParams, "an LBP cascade needs maxCatCount 256, found \(categoryCount)")
        }
        let subsetWords = (categoryCount + 31) / 32
        let nodeStep = 3 + (categoryCount > 0 ? subsetWords : 1)

        let stagesElement = try required(root, "stages")
        let stageItems = items(stagesElement)
        guard !stageItems.isEmpty else { throw invalid(stagesElement, "<stages> is empty") }

        var stages: [CascadeClassifier.Stage] = []
        var treeNodeCounts: [Int] = []
        var nodes: [CascadeClassifier.Node] = []
        var leaves: [Float] = []
        var subsets: [Int32] = []
        var nodeElements: [XMLElement] = []
        for stageElement in stageItems {
            let threshold = try real(try required(stageElement, "stageThreshold"))
            let weakElement = try required(stageElement, "weakClassifiers")
            let weakItems = items(weakElement)
            guard !weakItems.isEmpty else { throw invalid(weakElement, "<weakClassifiers> is empty") }
            stages.append(.init(firstTree: treeNodeCounts.count, treeCount: weakItems.count,
                                threshold: Float(threshold) - CascadeClassifier.thresholdEpsilon))
            for weak in weakItems {
                let internalElement = try required(weak, "internalNodes")
                let leafElement = try required(weak, "leafValues")
                let values = try reals(internalElement)
                let leafValues = try reals(leafElement)
                guard !values.isEmpty, values.count % nodeStep == 0 else {
                    throw invalid(internalElement, "<internalNodes> holds \(values.count) numbers, not a multiple of \(nodeStep)")
                }
                let count = values.count / nodeStep
                guard leafValues.count == count + 1 else {
                    throw invalid(leafElement, "a tree of \(count) nodes needs \(count + 1) leaf values, found \(leafValues.count)")
                }
                for node in 0..<count {
                    let base = node * nodeStep
                    let left = try exactInteger(values[base], internalElement, "a node's left index")
                    let right = try exactInteger(values[base + 1], internalElement, "a node's right index")
                    let feature = try exactInteger(values[base + 2], internalElement, "a node's feature index")
                    // A child node must come later in the tree: that keeps evaluation from looping.
                    for child in [left, right] where child > 0 ? (child >= count || child <= node) : -child > count {
                        throw invalid(internalElement, "node \(node)'s child \(child) is not a later node of a tree of \(count) nodes")
                    }
                    var threshold: Float = 0
                    if categoryCount > 0 {
                        for word in 0..<subsetWords {
                            let value = try exactInteger(values[base + 3 + word], internalElement, "a category subset word")
                            subsets.append(Int32(truncatingIfNeeded: value))
                        }
                    } else {
                        threshold = Float(values[base + 3])
                    }
                    nodes.append(.init(featureIndex: feature, threshold: threshold, left: left, right: right))
                    nodeElements.append(internalElement)
                }
                treeNodeCounts.append(count)
                leaves.append(contentsOf: leafValues.map { Float($0) })
            }
        }

        let featuresElement = try required(root, "features")
        let featureItems = items(featuresElement)
        var haarFeatures: [CascadeClassifier.HaarFeature] = []
        var lbpFeatures: [CascadeClassifier.LBPFeature] = []
        for item in featureItems {
            switch featureType {
            case .haar:
                let rectsElement = try required(item, "rects")
                let rects = try haarRects(rectsElement)
                let tilted = try item.child("tilted").map { element throws(CascadeLoadError) in try integer(element) != 0 } ?? false
                haarFeatures.append(try checkedHaarFeature(rects: rects, tilted: tilted, element: rectsElement,
                                                           width: width, height: height))
            case .lbp:
                let rectElement = try required(item, "rect")
                let numbers = try reals(rectElement)
                guard numbers.count == 4 else {
                    throw invalid(rectElement, "an LBP rectangle needs x y width height, found \(numbers.count) numbers")
                }
                let x = try exactInteger(numbers[0], rectElement, "x"), y = try exactInteger(numbers[1], rectElement, "y")
                let w = try exactInteger(numbers[2], rectElement, "width"), h = try exactInteger(numbers[3], rectElement, "height")
                guard x >= 0, y >= 0, w > 0, h > 0, x + 3 * w <= width, y + 3 * h <= height else {
                    throw invalid(rectElement, "LBP cell \(x) \(y) \(w) \(h) does not fit the \(width)x\(height) window")
                }
                lbpFeatures.append(.init(x: x, y: y, width: w, height: h))
            }
        }
        let featureCount = featureType == .haar ? haarFeatures.count : lbpFeatures.count
        guard featureCount > 0 else { throw invalid(featuresElement, "<features> is empty") }
        for (index, node) in nodes.enumerated() where node.featureIndex < 0 || node.featureIndex >= featureCount {
            throw invalid(nodeElements[index], "feature index \(node.featureIndex) is outside the \(featureCount) features")
        }
        return CascadeClassifier(
            source: source, featureType: featureType, windowWidth: width, windowHeight: height, isOldFormat: false,
            stages: stages, treeNodeCounts: treeNodeCounts, nodes: nodes, leaves: leaves, subsets: subsets,
            categoryCount: categoryCount, haarFeatures: haarFeatures, lbpFeatures: lbpFeatures)
    }

    /// Checks that every corner a Haar feature reads lies inside the window's integral image, so
    /// evaluation can never read outside its buffers.
    func checkedHaarFeature(rects: [CascadeClassifier.HaarRect], tilted: Bool, element: XMLElement,
                            width: Int, height: Int) throws(CascadeLoadError) -> CascadeClassifier.HaarFeature {
        guard (1...3).contains(rects.count) else {
            throw invalid(element, "a Haar feature needs 1 to 3 rectangles, found \(rects.count)")
        }
        for rect in rects {
            let corners: [(Int, Int)] = tilted
                ? [(rect.x, rect.y), (rect.x - rect.height, rect.y + rect.height), (rect.x + rect.width, rect.y + rect.width),
                   (rect.x + rect.width - rect.height, rect.y + rect.width + rect.height)]
                : [(rect.x, rect.y), (rect.x + rect.width, rect.y + rect.height)]
            for (x, y) in corners where x < 0 || y < 0 || x > width || y > height {
                throw invalid(element, "\(tilted ? "tilted " : "")rectangle \(rect.x) \(rect.y) \(rect.width) \(rect.height) reaches outside the \(width)x\(height) window")
            }
            guard rect.width >= 0, rect.height >= 0 else {
                throw invalid(element, "rectangle \(rect.x) \(rect.y) \(rect.width) \(rect.height) has a negative size")
            }
        }
        return .init(rects: rects, tilted: tilted)
    }

    // MARK: Old layout

    /// The `opencv-haar-classifier` layout, converted as OpenCV 4's `haar_cvt::convert` does:
    /// every tree node gets its own feature, leaves are numbered in the order they appear, and a
    /// third rectangle with a zero weight is dropped.
    mutating func readOldLayout(_ root: XMLElement) throws(CascadeLoadError) -> CascadeClassifier {
        let sizeElement = try required(root, "size")
        let size = try reals(sizeElement)
        guard size.count == 2 else { throw invalid(sizeElement, "<size> should hold width and height") }
        let width = try exactInteger(size[0], sizeElement, "window width")
        let height = try exactInteger(size[1], sizeElement, "window height")
        guard width > 0, height > 0, width <= 4096, height <= 4096 else {
            throw invalid(sizeElement, "window size \(width)x\(height) is not positive")
        }
        let stagesElement = try required(root, "stages")
        let stageItems = items(stagesElement)
        guard !stageItems.isEmpty else { throw invalid(stagesElement, "<stages> is empty") }

        var stages: [CascadeClassifier.Stage] = []
        var treeNodeCounts: [Int] = []
        var nodes: [CascadeClassifier.Node] = []
        var leaves: [Float] = []
        var features: [CascadeClassifier.HaarFeature] = []
        for stageElement in stageItems {
            let threshold = try real(try required(stageElement, "stage_threshold"))
            let treesElement = try required(stageElement, "trees")
            let trees = items(treesElement)
            guard !trees.isEmpty else { throw invalid(treesElement, "<trees> is empty") }
            stages.append(.init(firstTree: treeNodeCounts.count, treeCount: trees.count,
                                threshold: Float(threshold) - CascadeClassifier.thresholdEpsilon))
            for tree in trees {
                let nodeItems = items(tree)
                guard !nodeItems.isEmpty else { throw invalid(tree, "a tree has no nodes") }
                var treeLeaves: [Float] = []
                for (nodeIndex, nodeElement) in nodeItems.enumerated() {
                    let featureElement = try required(nodeElement, "feature")
                    let rectsElement = try required(featureElement, "rects")
                    var rects = try haarRects(rectsElement)
                    if rects.count == 3 && abs(rects[2].weight) < Float.ulpOfOne { rects.removeLast() }
                    let tilted = try featureElement.child("tilted").map { element throws(CascadeLoadError) in try integer(element) != 0 } ?? false
                    features.append(try checkedHaarFeature(rects: rects, tilted: tilted, element: rectsElement,
                                                           width: width, height: height))
                    let threshold = Float(try real(try required(nodeElement, "threshold")))
                    var children: [Int] = []
                    for (valueName, nodeName) in [("left_val", "left_node"), ("right_val", "right_node")] {
                        if let value = nodeElement.child(valueName) {
                            children.append(-treeLeaves.count)
                            treeLeaves.append(Float(try real(value)))
                        } else if let next = nodeElement.child(nodeName) {
                            let index = try integer(next)
                            // A later node only, so that evaluation cannot loop.
                            guard index > nodeIndex, index < nodeItems.count else {
                                throw invalid(next, "<\(nodeName)> \(index) is not a later node of a tree of \(nodeItems.count) nodes")
                            }
                            children.append(index)
                        } else {
                            throw invalid(nodeElement, "a tree node has neither <\(valueName)> nor <\(nodeName)>")
                        }
                    }
                    nodes.append(.init(featureIndex: features.count - 1, threshold: threshold,
                                       left: children[0], right: children[1]))
                }
                guard treeLeaves.count == nodeItems.count + 1 else {
                    throw invalid(tree, "a tree of \(nodeItems.count) nodes needs \(nodeItems.count + 1) leaf values, found \(treeLeaves.count)")
                }
                treeNodeCounts.append(nodeItems.count)
                leaves.append(contentsOf: treeLeaves)
            }
        }
        return CascadeClassifier(
            source: source, featureType: .haar, windowWidth: width, windowHeight: height, isOldFormat: true,
            stages: stages, treeNodeCounts: treeNodeCounts, nodes: nodes, leaves: leaves, subsets: [],
            categoryCount: 0, haarFeatures: features, lbpFeatures: [])
    }
}

private extension String {
    var trimmed: Substring {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last].prefix(40)
    }
}
