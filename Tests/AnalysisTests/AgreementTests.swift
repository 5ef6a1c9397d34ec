// Agreement with OpenCV, computed at test time: Debian's python3-opencv runs detectMultiScale on
// the same frames with the same parameters, and our boxes must match (at least 95% of OpenCV's
// boxes matched at IoU >= 0.5, at most 5% of ours unmatched). Raw hits (minNeighbors 0) are held
// to the same bar, which is a much larger sample. Also groupRectangles against cv2's on random sets.

import Foundation
import Testing
@testable import Analysis

/// Finds the repository root from this file's path.
let repositoryRoot: String = {
    var path = #filePath
    for _ in 0..<3 {
        guard let slash = path.lastIndex(of: "/") else { break }
        path = String(path[..<slash])
    }
    return path
}()

/// A Python with cv2: Debian's system interpreter first (a pyenv shim may shadow it without cv2).
let pythonWithOpenCV: String? = {
    for candidate in ["/usr/bin/python3", "/usr/local/bin/python3"] where FileManager.default.isExecutableFile(atPath: candidate) {
        if (try? runProcess(candidate, ["-c", "import cv2"]))?.status == 0 { return candidate }
    }
    return nil
}()

struct ProcessOutput {
    var status: Int32
    var standardOutput: String
    var standardError: String
}

func runProcess(_ executable: String, _ arguments: [String]) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let outData = output.fileHandleForReading.readDataToEndOfFile()
    let errData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessOutput(status: process.terminationStatus, standardOutput: String(decoding: outData, as: UTF8.self),
                         standardError: String(decoding: errData, as: UTF8.self))
}

/// Parses lines of "x y w h" (one box per line, blank line between images).
func parseBoxGroups(_ text: String) -> [[DetectionBox]] {
    text.split(separator: "=", omittingEmptySubsequences: false).dropFirst().map { block in
        block.split(separator: "\n").compactMap { line -> DetectionBox? in
            let numbers = line.split(separator: " ").compactMap { Int($0) }
            guard numbers.count == 4 else { return nil }
            return DetectionBox(x: numbers[0], y: numbers[1], width: numbers[2], height: numbers[3])
        }
    }
}

/// Runs OpenCV's detectMultiScale on each image, first with minNeighbors 0 (the raw hits), then
/// with `minNeighbors`; returns the raw and grouped boxes per image.
func openCVDetections(python: String, cascade: String, images: [String], scaleFactor: Double,
                      minNeighbors: Int) throws -> (raw: [[DetectionBox]], grouped: [[DetectionBox]]) {
    let script = """
    import sys, cv2
    cv2.setNumThreads(1)
    classifier = cv2.CascadeClassifier(sys.argv[1])
    assert not classifier.empty(), "cascade did not load"
    for neighbours in (0, int(sys.argv[3])):
        for path in sys.argv[4:]:
            image = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
            assert image is not None, path
            print("=")
            for x, y, w, h in classifier.detectMultiScale(image, float(sys.argv[2]), neighbours):
                print(x, y, w, h)
    """
    let result = try runProcess(python, ["-c", script, cascade, "\(scaleFactor)", "\(minNeighbors)"] + images)
    guard result.status == 0 else { throw AgreementError.python(result.standardError) }
    let groups = parseBoxGroups(result.standardOutput)
    guard groups.count == 2 * images.count else { throw AgreementError.python("unexpected output: \(result.standardOutput)") }
    return (Array(groups[..<images.count]), Array(groups[images.count...]))
}

enum AgreementError: Error { case python(String) }

/// OpenCV boxes matched by one of ours at IoU >= 0.5, and ours that match none of OpenCV's.
func agreement(openCV: [DetectionBox], ours: [DetectionBox]) -> (matched: Int, unmatchedOurs: Int) {
    let matched = openCV.filter { reference in ours.contains { $0.intersectionOverUnion(reference) >= 0.5 } }.count
    let unmatched = ours.filter { box in !openCV.contains { $0.intersectionOverUnion(box) >= 0.5 } }.count
    return (matched, unmatched)
}

@Suite("Agreement with OpenCV", .serialized)
struct AgreementTests {
    static let frames = ["frame_001.pgm", "frame_009.pgm"].map { "\(repositoryRoot)/Fixtures/stills/\($0)" }

    @Test("boxes agree with cv2.CascadeClassifier.detectMultiScale on sample frames",
          arguments: ["haarcascade_frontalface_default.xml", "lbpcascade_frontalface_improved.xml",
                      "haarcascade_fullbody.xml", "haarcascade_licence_plate_rus_16stages.xml"])
    func agreesWithOpenCV(cascadeName: String) throws {
        guard let python = pythonWithOpenCV else {
            Issue.record("python3 with cv2 (Debian's python3-opencv) is needed for the agreement test")
            return
        }
        let path = cascadePath(cascadeName)
        let detector = CascadeDetector(classifier: try CascadeClassifier.load(path: path))
        let minNeighbors = 3
        let reference = try openCVDetections(python: python, cascade: path, images: Self.frames, scaleFactor: 1.1,
                                             minNeighbors: minNeighbors)
        var ours: (raw: [[DetectionBox]], grouped: [[DetectionBox]]) = ([], [])
        for frame in Self.frames {
            let image = try readGrayStill(path: frame)
            let raw = image.pixels.withUnsafeBufferPointer { pixels in
                detector.detectCandidates(GrayPlane(base: pixels.baseAddress!, width: image.width, height: image.height,
                                                    stride: image.width), parameters: DetectionParameters(scaleFactor: 1.1))
            }
            ours.raw.append(clipBoxes(raw, width: image.width, height: image.height))
            ours.grouped.append(clipBoxes(groupRectangles(raw, groupThreshold: minNeighbors, eps: 0.2),
                                          width: image.width, height: image.height))
        }
        for (label, openCV, mine) in [("raw hits", reference.raw, ours.raw), ("grouped", reference.grouped, ours.grouped)] {
            var openCVCount = 0, oursCount = 0, matched = 0, unmatched = 0
            for index in Self.frames.indices {
                let result = agreement(openCV: openCV[index], ours: mine[index])
                openCVCount += openCV[index].count
                oursCount += mine[index].count
                matched += result.matched
                unmatched += result.unmatchedOurs
            }
            #expect(matched * 100 >= openCVCount * 95,
                    "\(cascadeName) \(label): only \(matched) of OpenCV's \(openCVCount) boxes matched")
            #expect(unmatched * 100 <= oursCount * 5,
                    "\(cascadeName) \(label): \(unmatched) of our \(oursCount) boxes match nothing")
        }
        // The raw hits are the evidence that the scan itself agrees; they must not be empty.
        #expect(reference.raw.joined().count > 0, "no raw hits at all for \(cascadeName): the comparison would be vacuous")
    }

    @Test("minSize and maxSize select the same scales as OpenCV, including minSize == maxSize between scales",
          arguments: [(40, 80, 100, 200), (50, 100, 50, 100), (0, 0, 60, 120)])
    func sizeLimits(minWidth: Int, minHeight: Int, maxWidth: Int, maxHeight: Int) throws {
        guard let python = pythonWithOpenCV else {
            Issue.record("python3 with cv2 (Debian's python3-opencv) is needed for this test")
            return
        }
        let path = cascadePath("haarcascade_fullbody.xml")
        let frame = Self.frames[0]
        let script = """
        import sys, cv2
        cv2.setNumThreads(1)
        classifier = cv2.CascadeClassifier(sys.argv[1])
        image = cv2.imread(sys.argv[2], cv2.IMREAD_GRAYSCALE)
        print("=")
        for x, y, w, h in classifier.detectMultiScale(image, 1.1, 0, minSize=(int(sys.argv[3]), int(sys.argv[4])),
                                                      maxSize=(int(sys.argv[5]), int(sys.argv[6]))):
            print(x, y, w, h)
        """
        let result = try runProcess(python, ["-c", script, path, frame, "\(minWidth)", "\(minHeight)", "\(maxWidth)", "\(maxHeight)"])
        try #require(result.status == 0, "\(result.standardError)")
        let expected = parseBoxGroups(result.standardOutput)
        try #require(expected.count == 1)
        let detector = CascadeDetector(classifier: try CascadeClassifier.load(path: path))
        let image = try readGrayStill(path: frame)
        let ours = detectObjects(in: image, detector: detector, parameters: DetectionParameters(
            scaleFactor: 1.1, minNeighbors: 0, minSize: DetectionSize(width: minWidth, height: minHeight),
            maxSize: DetectionSize(width: maxWidth, height: maxHeight)))
        #expect(Set(ours) == Set(expected[0]))
        #expect(!expected[0].isEmpty || ours.isEmpty)
    }

    @Test("groupRectangles matches cv2.groupRectangles on random hit sets")
    func groupingMatchesOpenCV() throws {
        guard let python = pythonWithOpenCV else {
            Issue.record("python3 with cv2 (Debian's python3-opencv) is needed for this test")
            return
        }
        var state: UInt64 = 0x5EED
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        var sets: [[DetectionBox]] = []
        for _ in 0..<40 {
            var boxes: [DetectionBox] = []
            for _ in 0..<(5 + next(8)) {
                let centreX = 50 + next(4) * 60, centreY = 50 + next(3) * 60, size = 20 + next(3) * 15
                for _ in 0..<(1 + next(6)) {
                    boxes.append(DetectionBox(x: centreX + next(7) - 3, y: centreY + next(7) - 3,
                                              width: size + next(5) - 2, height: size + next(5) - 2))
                }
            }
            sets.append(boxes)
        }
        let input = sets.map { set in set.map { "\($0.x) \($0.y) \($0.width) \($0.height)" }.joined(separator: ";") }
        let script = """
        import sys, cv2
        for threshold in (1, 2, 3):
            for line in sys.argv[1:]:
                boxes = [list(map(int, b.split())) for b in line.split(";")]
                grouped, _ = cv2.groupRectangles(boxes, threshold, 0.2)
                print("=")
                for x, y, w, h in grouped:
                    print(x, y, w, h)
        """
        let result = try runProcess(python, ["-c", script] + input)
        try #require(result.status == 0, "\(result.standardError)")
        let expected = parseBoxGroups(result.standardOutput)
        try #require(expected.count == 3 * sets.count)
        var index = 0
        for threshold in 1...3 {
            for set in sets {
                #expect(groupRectangles(set, groupThreshold: threshold, eps: 0.2) == expected[index],
                        "threshold \(threshold), set \(set)")
                index += 1
            }
        }
    }
}
