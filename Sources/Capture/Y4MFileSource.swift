// The Y4M (YUV4MPEG2) file camera: stream header parsing (W H F I A C X), per-frame FRAME
// headers, and raw planes read straight into pooled frames (I420, I422 or GRAY8).

public import Frames

/// The stream header of a YUV4MPEG2 file.
public struct Y4MStreamHeader: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// The `F` tag as a fraction; `nil` when the file has none.
    public var frameRateNumerator: Int?
    public var frameRateDenominator: Int?
    /// The `I` tag (p, t, b, m or ?); frames are delivered as they are stored, never deinterlaced.
    public var interlacing: Character
    /// The `A` tag, `0:0` when unknown.
    public var aspectNumerator: Int
    public var aspectDenominator: Int
    /// The `C` tag as written (`420jpeg` when the file has none, the format's default).
    public var colourSpace: String
    /// The pixel format the frames are delivered in.
    public var format: PixelFormat
    /// `X` tags, without the `X`.
    public var extensions: [String]
    /// The `XCOLORRANGE=` extension (`FULL` or `LIMITED`) when the file has one. Frames are
    /// delivered as stored, without range conversion, although Frames' planar YUV means full
    /// range (JFIF): a limited-range file (ffmpeg's default for `yuv420p`) has luma in 16...235.
    /// Close enough for analysis; a consumer that needs exact levels can stretch them.
    public var colourRange: String? {
        extensions.last(where: { $0.hasPrefix("COLORRANGE=") }).map { String($0.dropFirst("COLORRANGE=".count)) }
    }
    /// Bytes of the header line, newline included: where the first FRAME starts.
    public var byteCount: Int

    public var frameRate: Double? {
        guard let numerator = frameRateNumerator, let denominator = frameRateDenominator else { return nil }
        return Double(numerator) / Double(denominator)
    }

    /// Parses the header line (without its newline). `path` is for error messages.
    public init(line: [UInt8], path: String) throws(CaptureError) {
        let magic = Array("YUV4MPEG2".utf8)
        guard line.count >= magic.count, Array(line[0..<magic.count]) == magic,
              line.count == magic.count || line[magic.count] == 0x20 else {
            throw .badHeader(path: path, location: "byte 0",
                             reason: "expected the magic 'YUV4MPEG2 ', found '\(printable(line.prefix(10)))'; not a Y4M file")
        }
        var width: Int?, height: Int?
        var rate: (Int, Int)?
        var interlacing: Character = "?"
        var aspect = (0, 0)
        var colourSpace = "420jpeg"
        var extensions: [String] = []

        var start = magic.count
        while start < line.count {
            if line[start] == 0x20 {
                start += 1
                continue
            }
            var end = start
            while end < line.count && line[end] != 0x20 { end += 1 }
            let tag = Character(Unicode.Scalar(line[start]))
            let value = String(decoding: line[(start + 1)..<end], as: UTF8.self)
            let location = "byte \(start)"
            func bad(_ reason: String) -> CaptureError { .badHeader(path: path, location: location, reason: reason) }
            switch tag {
            case "W":
                guard let number = Int(value), number > 0, number <= CameraSpec.maximumDimension else {
                    throw bad("W (width) must be a whole number in 1...\(CameraSpec.maximumDimension), found 'W\(value)'")
                }
                width = number
            case "H":
                guard let number = Int(value), number > 0, number <= CameraSpec.maximumDimension else {
                    throw bad("H (height) must be a whole number in 1...\(CameraSpec.maximumDimension), found 'H\(value)'")
                }
                height = number
            case "F":
                guard let fraction = parseRatio(value), fraction.0 > 0, fraction.1 > 0 else {
                    throw bad("F (frame rate) must be two positive whole numbers as F30:1 or F30000:1001, found 'F\(value)'")
                }
                rate = fraction
            case "I":
                guard value.count == 1, let mode = value.first, "ptbm?".contains(mode) else {
                    throw bad("I (interlacing) must be one of p, t, b, m or ?, found 'I\(value)'")
                }
                interlacing = mode
            case "A":
                guard let fraction = parseRatio(value), fraction.0 >= 0, fraction.1 >= 0 else {
                    throw bad("A (pixel aspect) must be two whole numbers as A1:1, found 'A\(value)'")
                }
                aspect = fraction
            case "C":
                colourSpace = value
            case "X":
                extensions.append(value)
            default:
                // The format says readers skip tags they do not know.
                break
            }
            start = end
        }
        guard let width else {
            throw .badHeader(path: path, location: "byte \(line.count)", reason: "the header has no W (width) tag")
        }
        guard let height else {
            throw .badHeader(path: path, location: "byte \(line.count)", reason: "the header has no H (height) tag")
        }
        switch colourSpace {
        case "420jpeg", "420paldv", "420mpeg2", "420": format = .i420
        case "422": format = .i422
        case "mono": format = .gray8
        default:
            throw .unsupported(path: path, reason: "Y4M colour space C\(colourSpace) is not supported; "
                + "use C420jpeg, C420paldv, C420mpeg2, C420, C422 or Cmono (8-bit)")
        }
        self.width = width
        self.height = height
        self.frameRateNumerator = rate?.0
        self.frameRateDenominator = rate?.1
        self.interlacing = interlacing
        self.aspectNumerator = aspect.0
        self.aspectDenominator = aspect.1
        self.colourSpace = colourSpace
        self.extensions = extensions
        self.byteCount = line.count + 1
    }
}

private func parseRatio(_ text: String) -> (Int, Int)? {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, let numerator = Int(parts[0]), let denominator = Int(parts[1]) else { return nil }
    return (numerator, denominator)
}

/// Bytes shown in an error message: printable ASCII as is, others as `\xNN`.
func printable<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    var text = ""
    for byte in bytes {
        if byte >= 0x20 && byte < 0x7F {
            text.append(Character(Unicode.Scalar(byte)))
        } else {
            let digits = String(byte, radix: 16, uppercase: true)
            text += "\\x" + (digits.count < 2 ? "0" + digits : digits)
        }
    }
    return text
}

/// Plays a YUV4MPEG2 file: 4:2:0 as I420, 4:2:2 as I422, mono as GRAY8.
///
/// A malformed FRAME header or a final frame cut short throw `CaptureError.badHeader` naming the
/// frame number and byte offset (the short frame also counts in `counters.corrupt`): unlike a
/// JPEG stream there is no marker to resynchronise on, so the source stops there.
public final class Y4MFileSource: FrameSource {
    public let name: String
    public let mode: SourceMode
    public private(set) var counters = SourceCounters()
    public let pool: FramePool
    public let path: String
    public let header: Y4MStreamHeader
    public let loops: Bool

    private let reader: BufferedFileReader
    private var pacer: FramePacer
    private let layout: FrameLayout
    private var nextSequence: UInt64 = 0
    /// Index of the next frame within the file (for error messages), reset on rewind.
    private var frameInFile = 0
    /// FRAME lines longer than this are taken as garbage rather than read for ever.
    private static let frameHeaderLimit = 1024
    private static let streamHeaderLimit = 4096

    /// Opens the file and parses its stream header. `fps` overrides the `F` tag; a file without
    /// an `F` tag needs it.
    public init(path: String, fps: Double? = nil, loop: Bool = false, pacing: Pacing = .nominal,
                poolSize: Int = 4, name: String? = nil) throws(CaptureError) {
        precondition(poolSize > 0, "a source needs at least one buffer")
        self.path = path
        self.name = name ?? "file:\(path)"
        self.loops = loop
        reader = try BufferedFileReader(path: path)

        var line: [UInt8] = []
        while true {
            guard try reader.ensure(1) else {
                if line.isEmpty { throw .empty(path: path, reason: "the file is empty") }
                throw .badHeader(path: path, location: "byte \(line.count)", reason: "the file ends inside the stream header (no newline)")
            }
            let byte = reader.peek()
            reader.advance(by: 1)
            if byte == 0x0A { break }
            line.append(byte)
            if line.count == 10 && !line.starts(with: Array("YUV4MPEG2".utf8)) { break }
            guard line.count < Self.streamHeaderLimit else {
                throw .badHeader(path: path, location: "byte 0", reason: "no newline in the first \(Self.streamHeaderLimit) bytes; not a Y4M stream header")
            }
        }
        header = try Y4MStreamHeader(line: line, path: path)
        guard let rate = fps ?? header.frameRate else {
            throw .badHeader(path: path, location: "byte 0", reason: "the header has no F (frame rate) tag; give one with ?fps=N")
        }
        guard rate > 0, rate.isFinite, rate <= CameraSpec.maximumFPS else {
            throw .badHeader(path: path, location: "byte 0", reason: "frame rate \(rate) is out of range")
        }
        layout = FrameLayout(format: header.format, width: header.width, height: header.height)
        pool = FramePool(count: poolSize, layout: layout)
        mode = SourceMode(width: header.width, height: header.height, format: header.format, fps: rate)
        pacer = FramePacer(pacing: pacing, fps: rate)
    }

    /// Bytes of pixel data in one frame (planes packed without padding, as Y4M stores them).
    public var frameByteCount: Int {
        layout.planes.reduce(0) { $0 + $1.rowBytes * $1.height }
    }

    public func nextFrame() throws(CaptureError) -> Frame? {
        var frame = try pool.waitForFrame(layout: layout, sequence: nextSequence, counters: &counters, name: name)
        while true {
            guard try readFrameHeader() else {
                guard loops, frameInFile > 0 else { return nil }
                try reader.seek(to: header.byteCount)
                frameInFile = 0
                counters.loops &+= 1
                continue
            }
            try readPixels(into: &frame)
            frameInFile &+= 1
            break
        }
        counters.skipped &+= pacer.waitForNextFrame()
        frame.sequence = nextSequence
        frame.captureTime = .now
        nextSequence &+= 1
        counters.delivered &+= 1
        return frame
    }

    /// Consumes `FRAME[ params]\n`. False at a clean end of file.
    private func readFrameHeader() throws(CaptureError) -> Bool {
        let start = reader.offset
        guard try reader.ensure(1) else { return false }
        // Built only on the error paths: the happy path must not allocate.
        var location: String { "frame \(frameInFile) at byte \(start)" }
        let available = try reader.ensure(6) ? 6 : reader.window.count
        let window = reader.window
        // Byte by byte against "FRAME" (46 52 41 4D 45): no array literal, no allocation.
        let matches = available >= 6 && window[0] == 0x46 && window[1] == 0x52 && window[2] == 0x41
            && window[3] == 0x4D && window[4] == 0x45 && (window[5] == 0x20 || window[5] == 0x0A)
        guard matches else {
            counters.corrupt &+= 1
            throw .badHeader(path: path, location: location,
                             reason: "expected 'FRAME', found '\(printable(window.prefix(available)))'")
        }
        reader.advance(by: 5)
        // Optional per-frame parameters up to the newline; their meaning does not change the bytes.
        var length = 5
        while true {
            guard try reader.ensure(1) else {
                counters.corrupt &+= 1
                throw .badHeader(path: path, location: location, reason: "the file ends inside the FRAME header")
            }
            let byte = reader.peek()
            reader.advance(by: 1)
            if byte == 0x0A { return true }
            length &+= 1
            guard length < Self.frameHeaderLimit else {
                counters.corrupt &+= 1
                throw .badHeader(path: path, location: location, reason: "FRAME header has no newline in \(Self.frameHeaderLimit) bytes")
            }
        }
    }

    /// Reads the planes, a plane at a time when rows are unpadded, else a row at a time.
    private func readPixels(into frame: inout Frame) throws(CaptureError) {
        let start = reader.offset
        let base = frame.buffer.baseAddress
        var done = 0
        let planes = layout.planes
        // Index loop: a `for in` over the array allocates per step in unoptimised builds.
        for planeIndex in 0..<planes.count {
            let plane = planes[planeIndex]
            let rowBytes = plane.rowBytes
            if plane.stride == rowBytes {
                let wanted = rowBytes * plane.height
                let got = try reader.read(into: base + plane.offset, count: wanted)
                done &+= got
                if got < wanted { throw shortFrame(start: start, got: done) }
            } else {
                for row in 0..<plane.height {
                    let got = try reader.read(into: base + plane.offset + row * plane.stride, count: rowBytes)
                    done &+= got
                    if got < rowBytes { throw shortFrame(start: start, got: done) }
                }
            }
        }
    }

    private func shortFrame(start: Int, got: Int) -> CaptureError {
        counters.corrupt &+= 1
        return .badHeader(path: path, location: "frame \(frameInFile) at byte \(start)",
                          reason: "the file ends after \(got) of the frame's \(frameByteCount) pixel bytes (truncated final frame)")
    }
}
