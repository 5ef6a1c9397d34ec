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

    @Test("edge padding keeps every window OpenCV evaluates and adds windows over the edges",
          arguments: ["haarcascade_frontalface_default.xml", "haarcascade_fullbody.xml", "lbpcascade_frontalface_improved.xml"])
    func edgePaddingIsASuperset(cascade: String) throws {
        let detector = CascadeDetector(classifier: try CascadeClassifier.load(path: cascadePath(cascade)))
        for path in [Self.frame, "\(repositoryRoot)/Fixtures/faces_pnm/astronaut.pgm"] {
            let image = try readGrayStill(path: path)
            let plain = raw(detector, image)
            let padded = image.pixels.withUnsafeBufferPointer { pixels in
                detector.detectCandidates(GrayPlane(base: pixels.baseAddress!, width: image.width, height: image.height,
                                                    stride: image.width),
                                          parameters: DetectionParameters(minNeighbors: 0, edgePadding: 20))
            }
            #expect(!plain.isEmpty, "\(cascade) on \(path)")
            // Every raw hit of the plain pass, on the same grid and pixels.
            let missing = plain.filter { !padded.contains($0) }
            #expect(missing.isEmpty, "\(cascade) on \(path): \(missing.count) of \(plain.count) plain hits lost")
            // (The extra hits are windows over an edge, and windows in the last rows, which
            // OpenCV's row stripes can leave out; not checked here.)
            // Grouped, every box OpenCV's scan reports is reported unchanged.
            let boxes = detectObjects(in: image, detector: detector, parameters: DetectionParameters(minNeighbors: 3))
            let paddedBoxes = detectObjects(in: image, detector: detector, parameters: DetectionParameters(minNeighbors: 3, edgePadding: 20))
            #expect(boxes.allSatisfy { paddedBoxes.contains($0) }, "\(cascade) on \(path): \(boxes) vs \(paddedBoxes)")
        }
    }

    @Test("a face cut off by the top edge is found only with edge padding", arguments: [10, 19, 28])
    func edgePaddingFindsACutOffFace(rowsCut: Int) throws {
        // The astronaut's face is at (177, 67) 94x94 (OpenCV and this detector agree); cut the
        // picture `rowsCut` rows into the face.
        let full = try readGrayStill(path: "\(repositoryRoot)/Fixtures/faces_pnm/astronaut.pgm")
        let top = 67 + rowsCut
        let image = GrayImage(width: full.width, height: full.height - top, pixels: Array(full.pixels[(top * full.width)...]))
        let detector = CascadeDetector(classifier: try CascadeClassifier.load(path: cascadePath("haarcascade_frontalface_default.xml")))
        let face = DetectionBox(x: 177, y: -rowsCut, width: 94, height: 94)
        let plain = detectObjects(in: image, detector: detector, parameters: DetectionParameters(scaleFactor: 1.1, minNeighbors: 3))
        let padded = detectObjects(in: image, detector: detector,
                                   parameters: DetectionParameters(scaleFactor: 1.1, minNeighbors: 3, edgePadding: 32))
        #expect(!plain.contains { $0.intersectionOverUnion(face) > 0.3 }, "\(plain)")
        let found = padded.filter { $0.intersectionOverUnion(face) > 0.5 }
        #expect(found.count == 1, "\(padded)")
        // Reported whole, reaching above the image, within the padding.
        #expect(found.allSatisfy { $0.y < 0 && $0.y >= -32 }, "\(found)")
        // And every box the plain pass found is there unchanged.
        #expect(plain.allSatisfy { padded.contains($0) }, "\(plain) vs \(padded)")
    }

    @Test("windows centred in a tile find every object centred in it, for less work",
          arguments: [("haarcascade_frontalface_default.xml", "faces_pnm/astronaut.pgm"),
                      ("haarcascade_fullbody.xml", "stills/frame_001.pgm"),
                      ("haarcascade_frontalface_alt.xml", "faces_pnm/portrait2.pgm")])
    func centredWindows(cascade: String, still: String) throws {
        let image = try readGrayStill(path: "\(repositoryRoot)/Fixtures/\(still)")
        let detector = CascadeDetector(classifier: try CascadeClassifier.load(path: cascadePath(cascade)))
        let parameters = DetectionParameters(scaleFactor: 1.1, minNeighbors: 3)
        let whole = detectObjects(in: image, detector: detector, parameters: parameters)
        #expect(!whole.isEmpty, "\(cascade) on \(still)")
        // A 4x3 grid of tiles over the image: each object is found again by the tile its centre
        // lies in (the skipped window after a first-stage rejection depends on where a row
        // starts, so the raw hits, and the averaged box, may differ slightly).
        let columns = 4, rows = 3
        var tileWork = 0
        for row in 0..<rows {
            for column in 0..<columns {
                let tile = DetectionBox(x: column * image.width / columns, y: row * image.height / rows,
                                        width: (column + 1) * image.width / columns - column * image.width / columns,
                                        height: (row + 1) * image.height / rows - row * image.height / rows)
                var centred = parameters
                centred.windowCentres = tile
                tileWork += detector.passCost(width: image.width, height: image.height, parameters: centred).workUnits
                let found = detectObjects(in: image, detector: detector, parameters: centred)
                for object in whole {
                    let centreX = object.x + object.width / 2, centreY = object.y + object.height / 2
                    guard centreX >= tile.x, centreX < tile.x + tile.width, centreY >= tile.y, centreY < tile.y + tile.height else { continue }
                    #expect(found.contains { $0.intersectionOverUnion(object) > 0.8 }, "\(object) in tile \(tile): \(found)")
                }
            }
        }
        // The twelve tiles together evaluate each window about once, plus the margins.
        let wholeWork = detector.passCost(width: image.width, height: image.height, parameters: parameters).workUnits
        #expect(tileWork < 2 * wholeWork, "\(tileWork) vs \(wholeWork)")
        // Nothing centred far from the region is evaluated, so nothing is found there.
        var corner = parameters
        corner.windowCentres = DetectionBox(x: 0, y: 0, width: 1, height: 1)
        let far = detectObjects(in: image, detector: detector, parameters: corner)
        #expect(far.allSatisfy { $0.x + $0.width / 2 < image.width / 2 && $0.y + $0.height / 2 < image.height / 2 }, "\(far)")
    }

    @Test("an object centred on the edge between two tiles is found whole by both")
    func centredWindowsAtATileEdge() throws {
        let image = try readGrayStill(path: "\(repositoryRoot)/Fixtures/faces_pnm/astronaut.pgm")
        let detector = CascadeDetector(classifier: try CascadeClassifier.load(path: cascadePath("haarcascade_frontalface_default.xml")))
        let parameters = DetectionParameters(scaleFactor: 1.1, minNeighbors: 3)
        let face = try #require(detectObjects(in: image, detector: detector, parameters: parameters).first)
        let raw = detector.detectCandidates(image.pixels.withUnsafeBufferPointer {
            GrayPlane(base: $0.baseAddress!, width: image.width, height: image.height, stride: image.width)
        }, parameters: DetectionParameters(scaleFactor: 1.1, minNeighbors: 0)).filter { similarBoxes($0, face, eps: 0.2) }
        for edge in [(face.x + face.width / 2, true), (face.y + face.height / 2, false)] {
            let (at, vertical) = edge
            let sides = vertical
                ? [DetectionBox(x: 0, y: 0, width: at, height: image.height), DetectionBox(x: at, y: 0, width: image.width - at, height: image.height)]
                : [DetectionBox(x: 0, y: 0, width: image.width, height: at), DetectionBox(x: 0, y: at, width: image.width, height: image.height - at)]
            for side in sides {
                var centred = parameters
                centred.windowCentres = side
                let candidates = detector.detectCandidates(image.pixels.withUnsafeBufferPointer {
                    GrayPlane(base: $0.baseAddress!, width: image.width, height: image.height, stride: image.width)
                }, parameters: DetectionParameters(scaleFactor: 1.1, minNeighbors: 0, windowCentres: side))
                    .filter { similarBoxes($0, face, eps: 0.2) }
                // The face's raw hits all lie within the margin on both sides (less a few the
                // row's start moves: a window after a first-stage rejection is skipped).
                #expect(Double(candidates.count) >= 0.9 * Double(raw.count), "\(side): \(candidates.count) of \(raw.count) raw hits")
                let found = detectObjects(in: image, detector: detector, parameters: centred)
                #expect(found.contains { $0.intersectionOverUnion(face) > 0.9 }, "\(side): \(found) vs \(face)")
            }
        }
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
        // Edge padding far beyond the image, and centre boxes outside it, empty or huge.
        for (width, height) in [(1, 1), (23, 100), (30, 30), (97, 41)] {
            let image = GrayImage(width: width, height: height, pixels: (0..<(width * height)).map { UInt8(truncatingIfNeeded: $0 &* 53) })
            for padding in [1, 7, 40, 4096, Int.max] {
                _ = detectObjects(in: image, detector: detector, parameters: DetectionParameters(minNeighbors: 0, edgePadding: padding))
            }
            for centres in [DetectionBox(x: -500, y: -500, width: 10, height: 10), DetectionBox(x: 5, y: 5, width: 0, height: 0),
                            DetectionBox(x: -1_000_000, y: -1_000_000, width: 2_000_000, height: 2_000_000),
                            DetectionBox(x: 1 << 40, y: 3, width: 1 << 40, height: 2)] {
                let parameters = DetectionParameters(minNeighbors: 0, edgePadding: 12, windowCentres: centres)
                _ = detectObjects(in: image, detector: detector, parameters: parameters)
                _ = detector.passCost(width: width, height: height, parameters: parameters)
            }
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
