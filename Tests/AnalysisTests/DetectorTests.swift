// The detector's own contracts, independent of OpenCV: strided views, buffer reuse across image
// sizes, degenerate images, and the JSON line format of `obscura detect`.

import Testing
@testable import Analysis

@Suite("Cascade detector")
struct DetectorTests {
    static let frame = "\(repositoryRoot)/Fixtures/stills/frame_001.pgm"

    func raw(_ detector: CascadeDetector, _ image: GrayImage) -> [DetectionBox] {
        image.pixels.withUnsafeBufferPointer { pixels in
            detector.detectCandidates(GrayPlane(base: pixels.baseAddress!, width: image.width, height: image.height,
                                                stride: image.width), parameters: DetectionParameters(minNeighbors: 0))
        }
    }

    @Test("a view with row padding detects the same as the compact image")
    func stridedView() throws {
        let image = try readGrayStill(path: Self.frame)
        let detector = CascadeDetector(classifier: try CascadeClassifier.load(path: cascadePath("haarcascade_fullbody.xml")))
        let expected = raw(detector, image)
        #expect(!expected.isEmpty)
        let stride = image.width + 37
        var padded = [UInt8](repeating: 255, count: stride * image.height)
        for row in 0..<image.height {
            for column in 0..<image.width { padded[row * stride + column] = image.pixels[row * image.width + column] }
        }
        let found = padded.withUnsafeBufferPointer { pixels in
            detector.detectCandidates(GrayPlane(base: pixels.baseAddress!, width: image.width, height: image.height, stride: stride),
                                      parameters: DetectionParameters(minNeighbors: 0))
        }
        #expect(found == expected)
    }

    @Test("one detector over images of changing sizes matches fresh detectors")
    func reuseAcrossSizes() throws {
        let image = try readGrayStill(path: Self.frame)
        // A 401x333 crop from the middle.
        var crop = [UInt8]()
        for row in 50..<383 { crop.append(contentsOf: image.pixels[(row * image.width + 100)..<(row * image.width + 501)]) }
        let small = GrayImage(width: 401, height: 333, pixels: crop)
        let classifier = try CascadeClassifier.load(path: cascadePath("haarcascade_fullbody.xml"))
        let shared = CascadeDetector(classifier: classifier)
        let sequence = [image, small, image, small].map { raw(shared, $0) }
        #expect(sequence[0] == raw(CascadeDetector(classifier: classifier), image))
        #expect(sequence[1] == raw(CascadeDetector(classifier: classifier), small))
        #expect(sequence[2] == sequence[0] && sequence[3] == sequence[1])
    }

    @Test("images smaller than the window, and flat images, give no boxes and do not crash")
    func degenerateImages() throws {
        let detector = CascadeDetector(classifier: try CascadeClassifier.load(path: cascadePath("haarcascade_frontalface_default.xml")))
        for (width, height) in [(1, 1), (23, 100), (100, 23), (24, 24), (25, 31)] {
            let image = GrayImage(width: width, height: height, pixels: (0..<(width * height)).map { UInt8(truncatingIfNeeded: $0 &* 37) })
            _ = detectObjects(in: image, detector: detector, parameters: DetectionParameters(minNeighbors: 0))
        }
        let flat = GrayImage(width: 64, height: 48, pixels: [UInt8](repeating: 128, count: 64 * 48))
        #expect(detectObjects(in: flat, detector: detector, parameters: DetectionParameters(minNeighbors: 0)).isEmpty)
        let lbp = CascadeDetector(classifier: try CascadeClassifier.load(path: cascadePath("lbpcascade_frontalface_improved.xml")))
        #expect(detectObjects(in: GrayImage(width: 44, height: 44, pixels: [UInt8](repeating: 0, count: 44 * 44)), detector: lbp).isEmpty)
    }

    @Test("the scale list follows OpenCV's rounding and size limits")
    func scaleList() throws {
        let detector = CascadeDetector(classifier: try CascadeClassifier.load(path: cascadePath("haarcascade_frontalface_default.xml")))
        let all = detector.scales(imageWidth: 640, imageHeight: 480, parameters: DetectionParameters(scaleFactor: 1.1))
        #expect(all.first == 1)
        // 24 * 1.1^n <= 480 for n up to 31 (24 * 1.1^31 = 460.6; 1.1^32 gives 506.7).
        #expect(all.count == 32)
        let limited = detector.scales(imageWidth: 640, imageHeight: 480, parameters: DetectionParameters(
            scaleFactor: 1.1, minSize: DetectionSize(width: 30, height: 30), maxSize: DetectionSize(width: 60, height: 60)))
        #expect(limited.map { Int((Float(24) * $0).rounded(.toNearestOrEven)) } == [32, 35, 39, 43, 47, 51, 57])
        for factor in [1.0, 0.5, .infinity, .nan, 1e300] {
            let scales = detector.scales(imageWidth: 640, imageHeight: 480, parameters: DetectionParameters(scaleFactor: factor))
            #expect(scales.count <= 1, "scale factor \(factor)")
        }
    }

    @Test("JSON lines escape the file name and list boxes")
    func jsonLines() {
        #expect(detectionJSONLine(file: "a \"b\"\\c.pgm", boxes: [DetectionBox(x: 1, y: 2, width: 3, height: 4)])
                == #"{"file": "a \"b\"\\c.pgm", "boxes": [[1, 2, 3, 4]]}"#)
        #expect(detectionJSONLine(file: "x", boxes: []) == #"{"file": "x", "boxes": []}"#)
        #expect(detectionErrorJSONLine(file: "x\n", error: "bad") == #"{"file": "x\n", "error": "bad"}"#)
    }

    @Test("PGM and PPM stills decode; other bytes get a typed error")
    func stills() throws {
        let pgm = try decodePortableAnyMap(Array("P2\n# c\n3 1\n255\n0 128 255\n".utf8), path: "a.pgm")
        #expect(pgm == GrayImage(width: 3, height: 1, pixels: [0, 128, 255]))
        let ppm = try decodePortableAnyMap(Array("P6 1 1 255\n".utf8) + [255, 0, 0], path: "a.ppm")
        #expect(ppm.pixels == [76])
        #expect(throws: StillImageError.unsupportedFormat(path: "a.jpg")) {
            try decodePortableAnyMap([0xFF, 0xD8, 0xFF], path: "a.jpg")
        }
        #expect(throws: StillImageError.self) { try decodePortableAnyMap(Array("P5 10 10 255\n".utf8) + [1, 2], path: "t.pgm") }
    }
}
