// Pixel formats as V4L2 names them (fourcc codes), the options a V4L2 camera is opened with, and
// the pure parts of format negotiation: choosing a format from what a device offers, and
// clamping the geometry a driver reports. Pure so that the host's tests cover them without a
// device.

public import Frames

/// A V4L2 pixel format code: four ASCII characters packed little-endian, as `v4l2_fourcc` does.
public struct V4L2FourCC: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Parses four characters ("YUYV", "MJPG"); shorter codes are padded with spaces as the
    /// kernel pads "Y16 ". Returns nil for anything that is not 1 to 4 ASCII characters.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard (1...4).contains(bytes.count), bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        var value: UInt32 = 0
        for index in 0..<4 {
            let byte = index < bytes.count ? bytes[index] : 0x20
            value |= UInt32(byte) << (8 * UInt32(index))
        }
        rawValue = value
    }

    public var description: String {
        var characters = ""
        for index in 0..<4 {
            let byte = UInt8(truncatingIfNeeded: rawValue >> (8 * UInt32(index)))
            characters.append(Character(Unicode.Scalar(byte >= 0x20 && byte < 0x7F ? byte : 0x3F)))
        }
        // Big-endian variants set the top bit; it is not part of the name.
        return characters
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let code = V4L2FourCC(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a fourcc: \(text)"))
        }
        self = code
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static let yuyv = V4L2FourCC("YUYV")!
    public static let nv12 = V4L2FourCC("NV12")!
    public static let grey = V4L2FourCC("GREY")!
    /// Planar 4:2:0, Y then U then V ("YU12", V4L2_PIX_FMT_YUV420).
    public static let yu12 = V4L2FourCC("YU12")!
    /// Planar 4:2:2 ("422P", V4L2_PIX_FMT_YUV422P).
    public static let yuv422Planar = V4L2FourCC("422P")!
    public static let mjpeg = V4L2FourCC("MJPG")!
    /// Some cameras label their MJPEG stream "JPEG"; the payload is the same.
    public static let jpeg = V4L2FourCC("JPEG")!

    /// The Frame format this V4L2 format is delivered as, or nil if Obscura cannot carry it.
    public var pixelFormat: PixelFormat? {
        switch self {
        case .yuyv: .yuyv
        case .nv12: .nv12
        case .grey: .gray8
        case .yu12: .i420
        case .yuv422Planar: .i422
        case .mjpeg, .jpeg: .mjpeg
        default: nil
        }
    }

    /// Automatic choice order for raw formats: the ones cheapest to analyse and most common
    /// first. MJPEG is handled separately (it wins only for large sizes, see `chooseFormat`).
    public static let rawPreference: [V4L2FourCC] = [.yuyv, .nv12, .grey, .yu12, .yuv422Planar]
}

/// A frame rate as V4L2 states it: the time per frame as a fraction of a second.
public struct V4L2Interval: Sendable, Equatable, Hashable, Codable {
    public var numerator: UInt32
    public var denominator: UInt32

    public init(numerator: UInt32, denominator: UInt32) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// The interval closest to `fps` with a millisecond-exact denominator, as S_PARM wants it.
    public init(fps: Double) {
        if fps == fps.rounded() {
            self.init(numerator: 1, denominator: UInt32(max(1, fps)))
        } else {
            self.init(numerator: 1000, denominator: UInt32(max(1, (fps * 1000).rounded())))
        }
    }

    /// Frames per second, or 0 when the driver left the interval unset.
    public var fps: Double {
        numerator == 0 ? 0 : Double(denominator) / Double(numerator)
    }
}

/// How a V4L2 camera is opened. Every field left nil is chosen from what the device offers.
public struct V4L2Options: Sendable, Equatable {
    /// Pixel format to request, as a fourcc ("YUYV", "MJPG", "NV12", "GREY", "YU12").
    public var pixelFormat: V4L2FourCC?
    public var width: Int?
    public var height: Int?
    public var fps: Double?
    /// Driver buffers to map; at least 4, so the driver always has one to fill while the
    /// pipeline holds one and a burst of late frames can queue up.
    public var bufferCount: Int = 4
    /// Pooled frames the camera hands out; a frame still held when all are out is dropped and
    /// counted in `poolExhausted`.
    public var poolSize: Int = 4
    /// Longest single wait in poll before the loop looks at the clock and the stop flag again.
    public var pollTimeout: Duration = .milliseconds(500)
    /// When more than one frame is waiting, deliver only the newest and count the rest skipped.
    public var drainToNewest: Bool = true
    /// How long to wait between attempts to reopen a lost device.
    public var backoff: V4L2Backoff = V4L2Backoff()
    /// Controls to set after opening (and again after every reopen), by name: "brightness=10".
    public var controls: [V4L2ControlSetting] = []

    public init(pixelFormat: V4L2FourCC? = nil, width: Int? = nil, height: Int? = nil, fps: Double? = nil) {
        self.pixelFormat = pixelFormat
        self.width = width
        self.height = height
        self.fps = fps
    }
}

/// One control setting from the command line or the config: a name and a value, both text.
public struct V4L2ControlSetting: Sendable, Equatable, Codable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Parses "name=value".
    public init?(parsing text: String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else { return nil }
        name = String(text[..<equals])
        value = String(text[text.index(after: equals)...])
    }
}

/// Bounded exponential backoff between reopen attempts: `initial`, doubling, never above
/// `maximum`.
public struct V4L2Backoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = max(initial, maximum)
    }

    /// The wait before attempt number `failures + 1`, after `failures` failed attempts.
    public func delay(afterFailures failures: Int) -> Duration {
        var delay = initial
        var remaining = max(0, failures)
        while remaining > 0 && delay < maximum {
            delay = delay * 2
            remaining -= 1
        }
        return min(delay, maximum)
    }
}

/// What negotiation asks the driver for.
public struct V4L2FormatProposal: Sendable, Equatable {
    public var pixelFormat: V4L2FourCC
    public var width: Int
    public var height: Int
    /// nil leaves the driver's rate alone.
    public var fps: Double?

    public init(pixelFormat: V4L2FourCC, width: Int, height: Int, fps: Double?) {
        self.pixelFormat = pixelFormat
        self.width = width
        self.height = height
        self.fps = fps
    }
}

/// What the driver granted, after clamping, and what frames will be delivered as.
public struct V4L2GrantedFormat: Sendable, Equatable, Codable {
    public var pixelFormat: V4L2FourCC
    public var width: Int
    public var height: Int
    /// Bytes per row of the first plane in the driver's buffer (0 for compressed formats).
    public var bytesPerLine: Int
    /// Bytes of one whole image (the most an MJPEG payload may take).
    public var sizeImage: Int
    /// The frame rate the driver reports after S_PARM, or the requested one if it has no say.
    public var fps: Double

    public init(pixelFormat: V4L2FourCC, width: Int, height: Int, bytesPerLine: Int, sizeImage: Int, fps: Double) {
        self.pixelFormat = pixelFormat
        self.width = width
        self.height = height
        self.bytesPerLine = bytesPerLine
        self.sizeImage = sizeImage
        self.fps = fps
    }
}

/// The parts of a device's format list that format choice needs.
public struct V4L2OfferedFormat: Sendable, Equatable {
    public var pixelFormat: V4L2FourCC
    /// True for formats libv4l2 converts in software; never chosen automatically.
    public var emulated: Bool
    /// Discrete sizes with their rates, or empty when the device gives a range (any size).
    public var sizes: [(width: Int, height: Int, fps: [Double])]
    /// For stepwise or continuous sizes: the range allowed.
    public var sizeRange: (minimumWidth: Int, maximumWidth: Int, minimumHeight: Int, maximumHeight: Int)?

    public init(pixelFormat: V4L2FourCC, emulated: Bool = false,
                sizes: [(width: Int, height: Int, fps: [Double])] = [],
                sizeRange: (minimumWidth: Int, maximumWidth: Int, minimumHeight: Int, maximumHeight: Int)? = nil) {
        self.pixelFormat = pixelFormat
        self.emulated = emulated
        self.sizes = sizes
        self.sizeRange = sizeRange
    }

    public static func == (left: V4L2OfferedFormat, right: V4L2OfferedFormat) -> Bool {
        left.pixelFormat == right.pixelFormat && left.emulated == right.emulated
            && left.sizes.count == right.sizes.count
            && zip(left.sizes, right.sizes).allSatisfy { $0.width == $1.width && $0.height == $1.height && $0.fps == $1.fps }
            && left.sizeRange.map { [$0.minimumWidth, $0.maximumWidth, $0.minimumHeight, $0.maximumHeight] }
                == right.sizeRange.map { [$0.minimumWidth, $0.maximumWidth, $0.minimumHeight, $0.maximumHeight] }
    }

    func offers(width: Int, height: Int) -> Bool {
        if sizes.contains(where: { $0.width == width && $0.height == height }) { return true }
        if let range = sizeRange {
            return (range.minimumWidth...range.maximumWidth).contains(width)
                && (range.minimumHeight...range.maximumHeight).contains(height)
        }
        return false
    }

    func rates(width: Int, height: Int) -> [Double] {
        sizes.first(where: { $0.width == width && $0.height == height })?.fps ?? []
    }
}

/// The size used when the caller names none: VGA, the size every UVC camera offers and the
/// budget of a small board was planned around.
public let v4l2DefaultSize = (width: 640, height: 480)

/// Sizes above this many pixels prefer MJPEG when the device offers it: a USB 2.0 camera cannot
/// move raw 4:2:2 at 720p at a useful rate.
public let v4l2CompressedSizeThreshold = 640 * 480

/// Chooses the format to request: the caller's choices where given, otherwise MJPEG for large
/// sizes where offered, else the first of YUYV, NV12, GREY, YU12, 422P the device offers
/// natively. Returns nil when the device offers nothing Obscura can deliver.
public func chooseV4L2Format(offered: [V4L2OfferedFormat], options: V4L2Options) -> V4L2FormatProposal? {
    let native = offered.filter { !$0.emulated && $0.pixelFormat.pixelFormat != nil }
    let requestedSize: (width: Int, height: Int)? =
        if let width = options.width, let height = options.height { (width, height) } else { nil }

    func size(for format: V4L2OfferedFormat) -> (width: Int, height: Int) {
        if let requestedSize { return requestedSize }
        if format.offers(width: v4l2DefaultSize.width, height: v4l2DefaultSize.height) { return v4l2DefaultSize }
        // The largest discrete size not above 1080p keeps analysis cost bounded.
        let fitting = format.sizes.filter { $0.width * $0.height <= 1920 * 1080 }
        if let largest = fitting.max(by: { $0.width * $0.height < $1.width * $1.height }) {
            return (largest.width, largest.height)
        }
        if let smallest = format.sizes.min(by: { $0.width * $0.height < $1.width * $1.height }) {
            return (smallest.width, smallest.height)
        }
        if let range = format.sizeRange {
            return (min(max(v4l2DefaultSize.width, range.minimumWidth), range.maximumWidth),
                    min(max(v4l2DefaultSize.height, range.minimumHeight), range.maximumHeight))
        }
        return v4l2DefaultSize
    }

    func proposal(_ format: V4L2OfferedFormat?, code: V4L2FourCC) -> V4L2FormatProposal {
        let chosen = format.map(size(for:)) ?? requestedSize ?? v4l2DefaultSize
        var fps = options.fps
        if fps == nil, let format {
            // Without a requested rate, take the fastest the device offers at that size.
            fps = format.rates(width: chosen.width, height: chosen.height).max()
        }
        return V4L2FormatProposal(pixelFormat: code, width: chosen.width, height: chosen.height, fps: fps)
    }

    if let requested = options.pixelFormat {
        // Honour the request even if the device does not list it: the driver substitutes, and
        // the granted format is reported and checked.
        return proposal(offered.first(where: { $0.pixelFormat == requested }), code: requested)
    }

    let compressed = native.first { $0.pixelFormat == .mjpeg || $0.pixelFormat == .jpeg }
    if let compressed {
        let chosen = size(for: compressed)
        if chosen.width * chosen.height > v4l2CompressedSizeThreshold && compressed.offers(width: chosen.width, height: chosen.height) {
            return proposal(compressed, code: compressed.pixelFormat)
        }
    }
    for code in V4L2FourCC.rawPreference {
        guard let format = native.first(where: { $0.pixelFormat == code }) else { continue }
        if let requestedSize, !format.offers(width: requestedSize.width, height: requestedSize.height),
           native.contains(where: { $0.pixelFormat.pixelFormat?.isRaw == true && $0.offers(width: requestedSize.width, height: requestedSize.height) }) {
            // Another raw format offers the requested size exactly; prefer it.
            continue
        }
        return proposal(format, code: code)
    }
    if let compressed { return proposal(compressed, code: compressed.pixelFormat) }
    return nil
}

/// Bytes one image takes in a driver buffer whose first plane has rows of `bytesPerLine`
/// bytes: V4L2's single-buffer planar formats put the chroma planes right after the luma plane,
/// NV12's interleaved plane with the same row length, YU12's and 422P's with half of it.
public func v4l2ImageBytes(_ pixelFormat: V4L2FourCC, bytesPerLine: Int, height: Int) -> Int {
    let chromaHeight = (height + 1) / 2
    switch pixelFormat {
    case .nv12: return bytesPerLine * height + bytesPerLine * chromaHeight
    case .yu12: return bytesPerLine * height + (bytesPerLine / 2) * chromaHeight * 2
    case .yuv422Planar: return bytesPerLine * height + (bytesPerLine / 2) * height * 2
    default: return bytesPerLine * height
    }
}

/// The shortest row the first plane of a format needs at a width.
public func v4l2MinimumBytesPerLine(_ pixelFormat: V4L2FourCC, width: Int) -> Int {
    switch pixelFormat {
    case .yuyv: ((width + 1) / 2) * 4
    case .grey: width
    // Planar 4:2:x rows are kept even so the half-length chroma rows hold every sample.
    case .nv12, .yu12, .yuv422Planar: ((width + 1) / 2) * 2
    default: 0
    }
}

/// Clamps what a driver reports, as the kernel's capture.c example does ("buggy driver
/// paranoia"): rows are at least as long as the pixels need, the image at least as large as its
/// rows (with the chroma planes of planar formats). For compressed formats `bytesperline` is
/// meaningless and a zero `sizeimage` falls back to the mapped buffer length.
public func clampV4L2Geometry(_ pixelFormat: V4L2FourCC, width: Int, height: Int, bytesPerLine: Int, sizeImage: Int,
                              bufferLength: Int = 0) -> (bytesPerLine: Int, sizeImage: Int) {
    if pixelFormat.pixelFormat == .mjpeg {
        return (0, sizeImage > 0 ? sizeImage : bufferLength)
    }
    let row = max(bytesPerLine, v4l2MinimumBytesPerLine(pixelFormat, width: width))
    let image = max(sizeImage, v4l2ImageBytes(pixelFormat, bytesPerLine: row, height: height))
    return (row, image)
}
