// `obscura detect`: run one OpenCV cascade over still images and print the boxes, one JSON line
// per image. Detection exists to find regions to mask; nothing here identifies anyone.

import Analysis
import ArgumentParser
import Codec
import Frames

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Detect faces, people or plates in still images with an OpenCV cascade (to mask them).",
        discussion: """
            Prints one JSON object per image and line: {"file": "<path as given>", "boxes": [[x, y, width, height], ...]}, \
            in that image's pixels. Images may be JPEG, PGM or PPM; colour is converted to grey first. \
            Cascades are OpenCV XML files, for example /usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml \
            (Debian's opencv-data). An image that cannot be read gets {"file": ..., "error": ...} and the command \
            exits non-zero after the rest.
            """
    )

    @Option(help: "OpenCV cascade XML file (Haar or LBP, new or old layout).")
    var cascade: String

    @Option(help: "Ratio between successive scales, greater than 1.")
    var scaleFactor: Double = 1.1

    @Option(help: "Raw hits a box needs (more than this many) to be reported; 0 prints raw hits.")
    var minNeighbors: Int = 3

    @Option(help: "Smallest window, as WxH (default: the cascade's own size).")
    var minSize: String?

    @Option(help: "Largest window, as WxH (default: the image size).")
    var maxSize: String?

    @Option(help: ArgumentHelp(
        "Let windows hang this many pixels over every edge of the image, over its repeated edge pixels, on top of OpenCV's own windows (0: exactly detectMultiScale).",
        discussion: "Finds a face cut off by the image's edge; boxes may then reach past the edge. At most half the image's longer side is used."))
    var edgePadding: Int = 0

    @Flag(help: "Add \"milliseconds\" (detection time, without file reading and decoding) to each line.")
    var timing = false

    @Argument(help: "Images (JPEG, PGM or PPM).")
    var images: [String]

    func validate() throws {
        guard scaleFactor > 1, scaleFactor.isFinite else {
            throw ValidationError("--scale-factor must be greater than 1 (got \(scaleFactor)).")
        }
        guard minNeighbors >= 0 else { throw ValidationError("--min-neighbors must be 0 or more (got \(minNeighbors)).") }
        if let minSize { _ = try Self.parseSize(minSize, option: "--min-size") }
        if let maxSize { _ = try Self.parseSize(maxSize, option: "--max-size") }
        guard (0...4096).contains(edgePadding) else { throw ValidationError("--edge-padding must be 0 to 4096 (got \(edgePadding)).") }
        guard !images.isEmpty else { throw ValidationError("Give at least one image.") }
    }

    static func parseSize(_ text: String, option: String) throws -> DetectionSize {
        let parts = text.lowercased().split(separator: "x")
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]), width >= 0, height >= 0 else {
            throw ValidationError("\(option) must look like 24x24 (got '\(text)').")
        }
        return DetectionSize(width: width, height: height)
    }

    func run() throws {
        let classifier: CascadeClassifier
        do {
            classifier = try CascadeClassifier.load(path: cascade)
        } catch {
            throw DetectFailure(description: error.description)
        }
        let parameters = DetectionParameters(
            scaleFactor: scaleFactor, minNeighbors: minNeighbors,
            minSize: try minSize.map { try Self.parseSize($0, option: "--min-size") } ?? .zero,
            maxSize: try maxSize.map { try Self.parseSize($0, option: "--max-size") } ?? .zero,
            edgePadding: edgePadding)
        let detector = CascadeDetector(classifier: classifier)
        let decoder = StillDecoder()
        let clock = ContinuousClock()
        var failures = 0
        for path in images {
            do {
                let image = try decoder.grayImage(path: path)
                let start = clock.now
                let boxes = detectObjects(in: image, detector: detector, parameters: parameters)
                let elapsed = clock.now - start
                let milliseconds = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
                print(detectionJSONLine(file: path, boxes: boxes, milliseconds: timing ? milliseconds : nil))
            } catch {
                failures += 1
                print(detectionErrorJSONLine(file: path, error: "\(error)"))
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}

/// A failure that is not a usage mistake: printed as "Error: ..." without the usage text.
struct DetectFailure: Error, CustomStringConvertible {
    var description: String
}

/// Reads stills as grey: JPEG through Codec's decoder (grey output straight from libjpeg, as
/// OpenCV's `imread(..., IMREAD_GRAYSCALE)` does), PGM and PPM through Analysis's reader.
private final class StillDecoder {
    let jpeg = JPEGDecoder()

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func grayImage(path: String) throws -> GrayImage {
        let bytes = try readStillBytes(path: path)
        guard bytes.count >= 2, bytes[0] == 0xFF, bytes[1] == 0xD8 else {
            return try decodePortableAnyMap(bytes, path: path)
        }
        return try bytes.withUnsafeBytes { payload throws -> GrayImage in
            do {
                let header = try jpeg.readHeader(payload)
                let layout = FrameLayout(format: .gray8, width: header.width, height: header.height)
                let pool = FramePool(count: 1, layout: layout)
                let frame = try jpeg.decode(payload, from: pool, output: .gray)
                let plane = frame.plane(0)
                var pixels = [UInt8](repeating: 0, count: frame.width * frame.height)
                let source = frame.planeBytes(0)
                for row in 0..<frame.height {
                    for column in 0..<frame.width { pixels[row * frame.width + column] = source[row * plane.stride + column] }
                }
                return GrayImage(width: frame.width, height: frame.height, pixels: pixels)
            } catch {
                throw Failure(description: "\(path): cannot decode JPEG: \(error)")
            }
        }
    }

    private func readStillBytes(path: String) throws -> [UInt8] {
        do {
            return try readStillFileBytes(path: path)
        } catch {
            throw Failure(description: "\(error)")
        }
    }
}
