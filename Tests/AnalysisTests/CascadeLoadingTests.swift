// Loading OpenCV's real cascade files (counts checked against a plain text scan of the XML) and
// the typed errors for files that are not cascades.

import Testing
@testable import Analysis

/// Where Debian's opencv-data puts the cascades.
let cascadeDirectory = "/usr/share/opencv4"

func cascadePath(_ name: String) -> String {
    name.hasPrefix("lbp") ? "\(cascadeDirectory)/lbpcascades/\(name)" : "\(cascadeDirectory)/haarcascades/\(name)"
}

/// Counts occurrences of a literal in a file's text: an independent check of the parser.
func occurrences(of needle: String, inFile path: String) throws -> Int {
    let text = String(decoding: try readWholeFile(path), as: UTF8.self)
    var count = 0
    var searchRange = text.startIndex..<text.endIndex
    while let found = text.range(of: needle, range: searchRange) {
        count += 1
        searchRange = found.upperBound..<text.endIndex
    }
    return count
}

extension String {
    /// A minimal substring search (Foundation-free).
    func range(of needle: String, range: Range<String.Index>) -> Range<String.Index>? {
        let haystack = self[range]
        guard let first = needle.first else { return nil }
        var index = haystack.startIndex
        while let candidate = haystack[index...].firstIndex(of: first) {
            if haystack[candidate...].hasPrefix(needle) {
                return candidate..<haystack.index(candidate, offsetBy: needle.count)
            }
            index = haystack.index(after: candidate)
        }
        return nil
    }
}

@Suite("Cascade loading")
struct CascadeLoadingTests {
    @Test("new-layout Haar cascades load with the stage, tree and feature counts of the file",
          arguments: ["haarcascade_frontalface_default.xml", "haarcascade_fullbody.xml"])
    func newLayoutHaar(name: String) throws {
        let path = cascadePath(name)
        let cascade = try CascadeClassifier.load(path: path)
        #expect(cascade.featureType == .haar)
        #expect(!cascade.isOldFormat)
        #expect(cascade.stageCount == (try occurrences(of: "<stageThreshold>", inFile: path)))
        #expect(cascade.treeCount == (try occurrences(of: "<internalNodes>", inFile: path)))
        #expect(cascade.featureCount == (try occurrences(of: "<rects>", inFile: path)))
        #expect(cascade.stageCount == Int(try occurrenceValue("stageNum", inFile: path)))
    }

    @Test("window sizes and tilted features are read")
    func windowSizes() throws {
        let face = try CascadeClassifier.load(path: cascadePath("haarcascade_frontalface_default.xml"))
        #expect(face.windowWidth == 24 && face.windowHeight == 24)
        #expect(!face.hasTiltedFeatures)
        #expect(face.isStumpCascade)
        let body = try CascadeClassifier.load(path: cascadePath("haarcascade_fullbody.xml"))
        #expect(body.windowWidth == 14 && body.windowHeight == 28)
        #expect(body.hasTiltedFeatures)
        #expect(body.haarFeatures.filter(\.tilted).count == (try occurrences(of: "<tilted>1</tilted>", inFile: cascadePath("haarcascade_fullbody.xml"))))
    }

    @Test("the old-layout plate cascade loads as OpenCV 4 converts it")
    func oldLayoutPlate() throws {
        let path = cascadePath("haarcascade_licence_plate_rus_16stages.xml")
        let cascade = try CascadeClassifier.load(path: path)
        #expect(cascade.isOldFormat)
        #expect(cascade.windowWidth == 64 && cascade.windowHeight == 16)
        #expect(cascade.stageCount == (try occurrences(of: "<stage_threshold>", inFile: path)))
        // One feature per tree node; every node here is a root with two leaves.
        #expect(cascade.featureCount == (try occurrences(of: "<feature>", inFile: path)))
        #expect(cascade.nodeCount == cascade.featureCount)
        #expect(cascade.leaves.count == (try occurrences(of: "<left_val>", inFile: path)) + (try occurrences(of: "<right_val>", inFile: path)))
        #expect(cascade.hasTiltedFeatures == ((try occurrences(of: "<tilted>1</tilted>", inFile: path)) > 0))
        // Stage thresholds are lowered by OpenCV's epsilon.
        #expect(cascade.stages[0].threshold == Float(-2.0683259963989258) - 1e-5)
    }

    @Test("LBP cascades load with 8-word category subsets",
          arguments: ["lbpcascade_frontalface_improved.xml", "lbpcascade_frontalface.xml"])
    func lbp(name: String) throws {
        let path = cascadePath(name)
        let cascade = try CascadeClassifier.load(path: path)
        #expect(cascade.featureType == .lbp)
        #expect(cascade.categoryWords == 8)
        #expect(cascade.stageCount == (try occurrences(of: "<stageThreshold>", inFile: path)))
        #expect(cascade.treeCount == (try occurrences(of: "<internalNodes>", inFile: path)))
        #expect(cascade.featureCount == (try occurrences(of: "<rect>", inFile: path)))
        #expect(cascade.subsets.count == 8 * cascade.nodeCount)
    }

    /// The integer inside `<name>...</name>` (first occurrence).
    func occurrenceValue(_ name: String, inFile path: String) throws -> Substring {
        let text = String(decoding: try readWholeFile(path), as: UTF8.self)
        guard let open = text.range(of: "<\(name)>", range: text.startIndex..<text.endIndex),
              let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex) else { return "" }
        return text[open.upperBound..<close.lowerBound].drop(while: { $0.isWhitespace })
    }
}

@Suite("Malformed cascade files")
struct MalformedCascadeTests {
    func load(_ text: String, name: String = "test.xml") -> CascadeLoadError? {
        do {
            _ = try CascadeClassifier(xml: Array(text.utf8), source: name)
            return nil
        } catch {
            return error
        }
    }

    static let smallCascade = """
    <?xml version="1.0"?>
    <opencv_storage>
    <cascade type_id="opencv-cascade-classifier"><stageType>BOOST</stageType>
      <featureType>HAAR</featureType>
      <height>4</height>
      <width>4</width>
      <featureParams><maxCatCount>0</maxCatCount></featureParams>
      <stageNum>1</stageNum>
      <stages>
        <_>
          <maxWeakCount>1</maxWeakCount>
          <stageThreshold>-1.5</stageThreshold>
          <weakClassifiers>
            <_>
              <internalNodes>0 -1 0 2.5e-01</internalNodes>
              <leafValues>-1. 1.</leafValues></_></weakClassifiers></_></stages>
      <features>
        <_>
          <rects>
            <_>0 0 4 4 -1.</_>
            <_>0 0 2 4 2.</_></rects></_></features></cascade>
    </opencv_storage>
    """

    @Test("a small well-formed cascade loads")
    func smallLoads() throws {
        let cascade = try CascadeClassifier(xml: Array(Self.smallCascade.utf8), source: "small.xml")
        #expect(cascade.stageCount == 1 && cascade.featureCount == 1 && cascade.windowWidth == 4)
    }

    @Test("an empty file")
    func empty() {
        #expect(load("") == .empty(path: "test.xml"))
        #expect(load("  \n") == .empty(path: "test.xml"))
    }

    @Test("a missing file names the file")
    func missing() {
        #expect(throws: CascadeLoadError.unreadable(path: "/nonexistent/cascade.xml", reason: "No such file or directory")) {
            try CascadeClassifier.load(path: "/nonexistent/cascade.xml")
        }
    }

    @Test("garbage is not XML")
    func garbage() {
        guard case let .malformedXML(path, _, _)? = load("\u{7f}ELF\u{2}\u{1}\u{1} binary junk") else {
            Issue.record("garbage was not reported as malformed XML")
            return
        }
        #expect(path == "test.xml")
    }

    @Test("a truncated cascade is malformed XML, with the open element named")
    func truncated() throws {
        let full = String(decoding: try readWholeFile(cascadePath("haarcascade_frontalface_default.xml")), as: UTF8.self)
        let half = String(full.prefix(full.count / 2))
        guard case let .malformedXML(_, _, reason)? = load(half, name: "half.xml") else {
            Issue.record("a truncated file was not reported as malformed XML")
            return
        }
        #expect(reason.contains("truncated"))
        // Cut inside a tag as well.
        guard case .malformedXML? = load(String(Self.smallCascade.prefix(120))) else {
            Issue.record("a file cut inside a tag was not reported as malformed XML")
            return
        }
    }

    @Test("XML of another kind is not a cascade")
    func otherXML() {
        guard case .notACascade? = load("<html><body>hello</body></html>") else {
            Issue.record("HTML was accepted"); return
        }
        guard case .notACascade? = load("<opencv_storage><camera_matrix>1 2 3</camera_matrix></opencv_storage>") else {
            Issue.record("a non-cascade opencv_storage file was accepted"); return
        }
        guard case .notACascade? = load("<opencv_storage></opencv_storage>") else {
            Issue.record("an empty opencv_storage file was accepted"); return
        }
    }

    @Test("missing stages, bad numbers and bad indexes are invalid cascades")
    func invalidValues() {
        let noStages = Self.smallCascade.replacingFirst("<stages>", with: "<stagez>").replacingFirst("</stages>", with: "</stagez>")
        guard case let .invalidCascade(_, _, reason)? = load(noStages) else { Issue.record("missing <stages> accepted"); return }
        #expect(reason.contains("<stages>"))

        let badNumber = Self.smallCascade.replacingFirst("-1.5", with: "minus-one")
        guard case let .invalidCascade(_, line, reason)? = load(badNumber) else { Issue.record("a bad threshold accepted"); return }
        #expect(reason.contains("stageThreshold") && line == 12)

        let badFeature = Self.smallCascade.replacingFirst("0 -1 0 2.5e-01", with: "0 -1 7 2.5e-01")
        guard case let .invalidCascade(_, _, reason)? = load(badFeature) else { Issue.record("a bad feature index accepted"); return }
        #expect(reason.contains("feature index 7"))

        let outside = Self.smallCascade.replacingFirst("0 0 2 4 2.", with: "3 0 2 4 2.")
        guard case let .invalidCascade(_, _, reason)? = load(outside) else { Issue.record("a rectangle outside the window accepted"); return }
        #expect(reason.contains("outside"))

        let badLeaves = Self.smallCascade.replacingFirst("-1. 1.", with: "-1.")
        guard case .invalidCascade? = load(badLeaves) else { Issue.record("a tree with too few leaves accepted"); return }
    }

    @Test("a tree whose node points back at itself is refused (it would never finish)")
    func cyclicTree() {
        let cyclic = Self.smallCascade
            .replacingFirst("<internalNodes>0 -1 0 2.5e-01</internalNodes>",
                            with: "<internalNodes>1 -1 0 2.5e-01 1 -2 0 1.0e-01</internalNodes>")
            .replacingFirst("<leafValues>-1. 1.</leafValues>", with: "<leafValues>-1. 1. 0.5</leafValues>")
        // The same shape with node 1 pointing forward loads; pointing at itself does not.
        let forward = cyclic.replacingFirst("1 -2 0 1.0e-01", with: "0 -2 0 1.0e-01")
        #expect(load(forward) == nil)
        guard case let .invalidCascade(_, _, reason)? = load(cyclic) else { Issue.record("a cyclic tree was accepted"); return }
        #expect(reason.contains("later node"))
    }

    @Test("every truncation and many byte flips of a cascade load or fail with a typed error, never trap")
    func truncationsAndFlips() {
        let bytes = Array(Self.smallCascade.utf8)
        for length in 0..<bytes.count {
            let result = load(String(decoding: bytes[0..<length], as: UTF8.self))
            #expect(result != nil, "a cascade cut at \(length) bytes loaded")
        }
        let noise = GrayImage(width: 40, height: 30, pixels: (0..<1200).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ $0 / 7) })
        var state: UInt64 = 12345
        let replacements = Array("<>/ 0123456789.-e_x\"=&;".utf8) + [0, 0xFF]
        for _ in 0..<2000 {
            var mutated = bytes
            for _ in 0..<3 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let position = Int((state >> 33) % UInt64(mutated.count))
                mutated[position] = replacements[Int((state >> 20) % UInt64(replacements.count))]
            }
            // Whatever loads must also be safe to run.
            if let cascade = try? CascadeClassifier(xml: mutated, source: "mutated.xml") {
                _ = detectObjects(in: noise, detector: CascadeDetector(classifier: cascade),
                                  parameters: DetectionParameters(minNeighbors: 0))
            }
        }
    }

    @Test("HOG and other stage types are reported as unsupported")
    func unsupported() {
        guard case .unsupported? = load(Self.smallCascade.replacingFirst("<featureType>HAAR", with: "<featureType>HOG")) else {
            Issue.record("HOG accepted"); return
        }
        guard case .unsupported? = load(Self.smallCascade.replacingFirst("BOOST", with: "GAB")) else {
            Issue.record("a non-BOOST stage type accepted"); return
        }
    }

    @Test("error descriptions name the file and say what is wrong")
    func descriptions() {
        let error = CascadeLoadError.invalidCascade(path: "a.xml", line: 3, reason: "bad")
        #expect(error.description == "a.xml:3: invalid cascade: bad")
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let found = range(of: target, range: startIndex..<endIndex) else { return self }
        return String(self[..<found.lowerBound]) + replacement + String(self[found.upperBound...])
    }
}
