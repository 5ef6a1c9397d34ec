// What `obscura detect` does for one image, as a library function so that the CLI, the
// comparison tool and the tests share it: load a still as grey, run a detector, print a JSON line.
//
// Still loading here covers PGM and PPM only (binary and ASCII). JPEG comes from the Codec module
// once it lands; the CLI picks the decoder and hands the grey pixels to `detectObjects`.

/// A greyscale image that owns its pixels (row stride equals width).
public struct GrayImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height, "pixel count does not match the size")
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// Why a still could not be read.
public enum StillImageError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case unsupportedFormat(path: String)
    case malformed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "\(path): cannot read image: \(reason)"
        case let .unsupportedFormat(path): "\(path): not a PGM or PPM image (JPEG needs the Codec module)"
        case let .malformed(path, reason): "\(path): malformed PGM/PPM: \(reason)"
        }
    }
}

/// Reads a PGM (P2/P5) or PPM (P3/P6) file as grey. Colour is converted with OpenCV's
/// fixed-point BT.601 weights (`cvtColor(..., COLOR_RGB2GRAY)`), so the result matches what
/// OpenCV would see after `imread(..., IMREAD_GRAYSCALE)` of the same PPM.
public func readGrayStill(path: String) throws(StillImageError) -> GrayImage {
    try decodePortableAnyMap(try readStillFileBytes(path: path), path: path)
}

/// The bytes of a still file (any format), for callers that pick the decoder themselves.
public func readStillFileBytes(path: String) throws(StillImageError) -> [UInt8] {
    do {
        return try readWholeFile(path)
    } catch {
        if case let .unreadable(_, reason) = error { throw .unreadable(path: path, reason: reason) }
        throw .unreadable(path: path, reason: "\(error)")
    }
}

/// Decodes PGM/PPM bytes to grey; `path` names the source in errors.
public func decodePortableAnyMap(_ bytes: [UInt8], path: String) throws(StillImageError) -> GrayImage {
    guard bytes.count >= 2, bytes[0] == UInt8(ascii: "P"),
          let kind = [UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "5"), UInt8(ascii: "6")].firstIndex(of: bytes[1]) else {
        throw .unsupportedFormat(path: path)
    }
    let ascii = kind < 2
    let channels = (kind == 1 || kind == 3) ? 3 : 1
    var position = 2
    func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
    func headerNumber() throws(StillImageError) -> Int {
        while position < bytes.count {
            if bytes[position] == UInt8(ascii: "#") {
                while position < bytes.count && bytes[position] != 0x0A { position += 1 }
            } else if isSpace(bytes[position]) {
                position += 1
            } else {
                break
            }
        }
        var value = 0
        let start = position
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
            value = value * 10 + Int(bytes[position] - UInt8(ascii: "0"))
            guard value < 1 << 24 else { throw .malformed(path: path, reason: "header number too large") }
            position += 1
        }
        guard position > start else { throw .malformed(path: path, reason: "expected a number in the header") }
        return value
    }
    let width = try headerNumber()
    let height = try headerNumber()
    let maxValue = try headerNumber()
    guard width > 0, height > 0, width * height <= 1 << 26 else {
        throw .malformed(path: path, reason: "size \(width)x\(height) is empty or too large")
    }
    guard maxValue > 0 && maxValue < 65536 else { throw .malformed(path: path, reason: "maximum value \(maxValue) out of range") }
    let count = width * height * channels
    var samples = [Int](repeating: 0, count: count)
    if ascii {
        for index in 0..<count { samples[index] = try headerNumber() }
    } else {
        guard position < bytes.count, isSpace(bytes[position]) else {
            throw .malformed(path: path, reason: "no whitespace after the header")
        }
        position += 1
        let sampleBytes = maxValue > 255 ? 2 : 1
        guard bytes.count - position >= count * sampleBytes else {
            throw .malformed(path: path, reason: "truncated: \(bytes.count - position) bytes of pixels, \(count * sampleBytes) needed")
        }
        for index in 0..<count {
            let at = position + index * sampleBytes
            samples[index] = sampleBytes == 2 ? Int(bytes[at]) << 8 | Int(bytes[at + 1]) : Int(bytes[at])
        }
    }
    if maxValue != 255 {
        for index in 0..<count { samples[index] = min((samples[index] * 255 + maxValue / 2) / maxValue, 255) }
    }
    var pixels = [UInt8](repeating: 0, count: width * height)
    if channels == 1 {
        for index in 0..<pixels.count { pixels[index] = UInt8(samples[index]) }
    } else {
        // OpenCV's RGB2GRAY for 8-bit: (R * 4899 + G * 9617 + B * 1868 + 8192) >> 14.
        for index in 0..<pixels.count {
            let red = samples[3 * index], green = samples[3 * index + 1], blue = samples[3 * index + 2]
            pixels[index] = UInt8((red * 4899 + green * 9617 + blue * 1868 + 8192) >> 14)
        }
    }
    return GrayImage(width: width, height: height, pixels: pixels)
}

/// Runs `detector` on a grey image. This is the call `obscura detect` makes per image.
public func detectObjects(in image: GrayImage, detector: CascadeDetector,
                          parameters: DetectionParameters = DetectionParameters()) -> [DetectionBox] {
    image.pixels.withUnsafeBufferPointer { pixels in
        detector.detect(GrayPlane(base: pixels.baseAddress!, width: image.width, height: image.height, stride: image.width),
                        parameters: parameters)
    }
}

/// One line of `obscura detect` output: `{"file": "<path>", "boxes": [[x, y, width, height], ...]}`,
/// with an optional `"milliseconds"` field for timing runs.
public func detectionJSONLine(file: String, boxes: [DetectionBox], milliseconds: Double? = nil) -> String {
    var line = "{\"file\": \(jsonString(file)), \"boxes\": ["
    line += boxes.map { "[\($0.x), \($0.y), \($0.width), \($0.height)]" }.joined(separator: ", ")
    line += "]"
    if let milliseconds {
        let hundredths = (milliseconds * 1000).rounded() / 1000
        line += ", \"milliseconds\": \(hundredths)"
    }
    return line + "}"
}

/// A JSON line reporting that one image could not be processed.
public func detectionErrorJSONLine(file: String, error: String) -> String {
    "{\"file\": \(jsonString(file)), \"error\": \(jsonString(error))}"
}

/// A JSON string literal (RFC 8259 escaping).
func jsonString(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
