// Device discovery for `obscura cameras [--json]`: which /dev/video* nodes exist, what each is
// (QUERYCAP), every capture format with its frame sizes and intervals (ENUM_FMT,
// ENUM_FRAMESIZES, ENUM_FRAMEINTERVALS) and its controls with their menus. Plain Codable values,
// so the CLI prints them as text or JSON without touching V4L2 itself.

internal import CV4L2
#if canImport(Glibc)
internal import Glibc
#endif

/// Everything known about one V4L2 device node.
public struct V4L2DeviceInfo: Sendable, Equatable, Codable {
    public var path: String
    public var driver: String
    public var card: String
    public var busInfo: String
    /// Kernel driver version as "major.minor.patch".
    public var version: String
    /// The node's own capabilities (device_caps), as names: "video-capture", "streaming", ...
    public var capabilities: [String]
    /// Whether Obscura can capture from it (video capture with streaming I/O).
    public var canCapture: Bool
    /// Whether it speaks only the multi-planar capture API (SoC camera pipelines).
    public var multiPlanar: Bool
    public var formats: [V4L2FormatInfo]
    public var controls: [V4L2ControlInfo]
}

/// One pixel format a device offers for capture.
public struct V4L2FormatInfo: Sendable, Equatable, Codable {
    public var pixelFormat: V4L2FourCC
    public var description: String
    public var compressed: Bool
    /// Converted in software by libv4l2 rather than produced by the driver.
    public var emulated: Bool
    /// Whether Obscura can deliver frames in this format.
    public var supported: Bool
    public var sizes: [V4L2FrameSizeInfo]

    var offered: V4L2OfferedFormat {
        let discrete = sizes.compactMap { size -> (width: Int, height: Int, fps: [Double])? in
            guard size.kind == .discrete else { return nil }
            return (size.width, size.height, size.intervals.map(\.fps))
        }
        let range = sizes.first(where: { $0.kind != .discrete }).map {
            (minimumWidth: $0.width, maximumWidth: $0.maximumWidth ?? $0.width,
             minimumHeight: $0.height, maximumHeight: $0.maximumHeight ?? $0.height)
        }
        return V4L2OfferedFormat(pixelFormat: pixelFormat, emulated: emulated, sizes: discrete, sizeRange: range)
    }
}

/// A frame size: one discrete size, or a stepwise or continuous range.
public struct V4L2FrameSizeInfo: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case discrete, stepwise, continuous }
    public var kind: Kind
    /// The size, or the smallest size of a range.
    public var width: Int
    public var height: Int
    public var maximumWidth: Int?
    public var maximumHeight: Int?
    public var stepWidth: Int?
    public var stepHeight: Int?
    /// Discrete frame intervals at this size (for ranges: at the smallest size).
    public var intervals: [V4L2Interval]
    /// For a stepwise or continuous interval range: the slowest and fastest interval.
    public var intervalRange: [V4L2Interval]?
}

/// Capability bits worth naming, from videodev2.h.
private let capabilityNames: [(bit: UInt32, name: String)] = [
    (UInt32(truncatingIfNeeded: V4L2_CAP_VIDEO_CAPTURE), "video-capture"),
    (UInt32(truncatingIfNeeded: V4L2_CAP_VIDEO_CAPTURE_MPLANE), "video-capture-mplane"),
    (UInt32(truncatingIfNeeded: V4L2_CAP_VIDEO_OUTPUT), "video-output"),
    (UInt32(truncatingIfNeeded: V4L2_CAP_VIDEO_OUTPUT_MPLANE), "video-output-mplane"),
    (UInt32(truncatingIfNeeded: V4L2_CAP_VIDEO_M2M), "video-m2m"),
    (UInt32(truncatingIfNeeded: V4L2_CAP_VIDEO_OVERLAY), "video-overlay"),
    (UInt32(truncatingIfNeeded: V4L2_CAP_VBI_CAPTURE), "vbi-capture"),
    (UInt32(truncatingIfNeeded: V4L2_CAP_SLICED_VBI_CAPTURE), "sliced-vbi-capture"),
    (UInt32(truncatingIfNeeded: V4L2_CAP_META_CAPTURE), "meta-capture"),
    (UInt32(truncatingIfNeeded: V4L2_CAP_TUNER), "tuner"),
    (UInt32(truncatingIfNeeded: V4L2_CAP_AUDIO), "audio"),
    (UInt32(truncatingIfNeeded: V4L2_CAP_RADIO), "radio"),
    (UInt32(truncatingIfNeeded: V4L2_CAP_READWRITE), "readwrite"),
    (UInt32(truncatingIfNeeded: V4L2_CAP_STREAMING), "streaming"),
    (UInt32(truncatingIfNeeded: V4L2_CAP_EXT_PIX_FORMAT), "extended-pix-format"),
    (UInt32(truncatingIfNeeded: V4L2_CAP_TOUCH), "touch"),
]

public enum V4L2Discovery {
    /// The V4L2 device nodes present, in numeric order (/dev/video2 before /dev/video10).
    public static func devicePaths(in folder: String = "/dev") -> [String] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var numbers: [Int] = []
        while let entry = readdir(directory) {
            let name = stringFromCharacterArray(entry.pointee.d_name)
            guard name.hasPrefix("video"), let number = Int(name.dropFirst(5)) else { continue }
            numbers.append(number)
        }
        return numbers.sorted().map { "\(folder)/video\($0)" }
    }

    /// Describes every device node; nodes that cannot be opened or queried are left out.
    public static func devices(in folder: String = "/dev") -> [V4L2DeviceInfo] {
        devicePaths(in: folder).compactMap { path in try? describe(path: path) }
    }

    /// Describes one device node: identity, capture formats with sizes and rates, controls.
    public static func describe(path: String) throws(CaptureError) -> V4L2DeviceInfo {
        let handle: V4L2Handle
        do {
            handle = try V4L2Handle(path: path)
        } catch {
            // libv4l2's open fails on a node with no capture format yet (a v4l2loopback device
            // nobody writes to); the kernel still answers the queries, so ask it directly.
            handle = try V4L2Handle(path: path, throughLibV4L2: false)
        }
        var capability = v4l2_capability()
        try handle.perform(.queryCapabilities, &capability)
        let bits = nodeCapabilities(capability)
        let version = capability.version
        let api = V4L2CaptureAPI(capabilities: bits)
        let canCapture = api != nil && bits & UInt32(truncatingIfNeeded: V4L2_CAP_STREAMING) != 0
        var formats: [V4L2FormatInfo] = []
        if let api { formats = try enumerateFormats(handle, api: api) }
        return V4L2DeviceInfo(
            path: path,
            driver: stringFromCharacterArray(capability.driver),
            card: stringFromCharacterArray(capability.card),
            busInfo: stringFromCharacterArray(capability.bus_info),
            version: "\(version >> 16).\((version >> 8) & 0xFF).\(version & 0xFF)",
            capabilities: capabilityNames.filter { bits & $0.bit != 0 }.map(\.name),
            canCapture: canCapture,
            multiPlanar: api == .multiPlanar,
            formats: formats,
            controls: try enumerateControls(handle)
        )
    }
}

/// Lists the capture formats with their sizes and intervals. Each enumeration ends when the
/// driver says EINVAL, as the V4L2 API defines.
func enumerateFormats(_ handle: borrowing V4L2Handle, api: V4L2CaptureAPI = .singlePlanar) throws(CaptureError) -> [V4L2FormatInfo] {
    var formats: [V4L2FormatInfo] = []
    var index: UInt32 = 0
    while true {
        var description = v4l2_fmtdesc()
        description.index = index
        description.type = api.bufferType
        let result = handle.performRaw(.enumerateFormats, &description)
        if result == EINVAL { break }
        if result != 0 { throw .system(call: "VIDIOC_ENUM_FMT", path: handle.path, errno: result) }
        let code = V4L2FourCC(rawValue: description.pixelformat)
        formats.append(V4L2FormatInfo(
            pixelFormat: code,
            description: stringFromCharacterArray(description.description),
            compressed: description.flags & UInt32(truncatingIfNeeded: V4L2_FMT_FLAG_COMPRESSED) != 0,
            emulated: description.flags & UInt32(truncatingIfNeeded: V4L2_FMT_FLAG_EMULATED) != 0,
            supported: code.pixelFormat != nil,
            sizes: try enumerateFrameSizes(handle, pixelFormat: description.pixelformat)
        ))
        index += 1
    }
    return formats
}

private func enumerateFrameSizes(_ handle: borrowing V4L2Handle, pixelFormat: UInt32) throws(CaptureError) -> [V4L2FrameSizeInfo] {
    var sizes: [V4L2FrameSizeInfo] = []
    var index: UInt32 = 0
    while true {
        var size = v4l2_frmsizeenum()
        size.index = index
        size.pixel_format = pixelFormat
        let result = handle.performRaw(.enumerateFrameSizes, &size)
        // ENOTTY: the driver cannot enumerate sizes at all; the format is still usable.
        if result == EINVAL || result == ENOTTY { break }
        if result != 0 { throw .system(call: "VIDIOC_ENUM_FRAMESIZES", path: handle.path, errno: result) }
        if size.type == V4L2_FRMSIZE_TYPE_DISCRETE.rawValue {
            let width = Int(size.discrete.width), height = Int(size.discrete.height)
            let intervals = try enumerateFrameIntervals(handle, pixelFormat: pixelFormat, width: width, height: height)
            sizes.append(V4L2FrameSizeInfo(kind: .discrete, width: width, height: height, intervals: intervals.discrete,
                                           intervalRange: intervals.range))
        } else {
            let stepwise = size.stepwise
            let width = Int(stepwise.min_width), height = Int(stepwise.min_height)
            let intervals = try enumerateFrameIntervals(handle, pixelFormat: pixelFormat, width: width, height: height)
            sizes.append(V4L2FrameSizeInfo(
                kind: size.type == V4L2_FRMSIZE_TYPE_CONTINUOUS.rawValue ? .continuous : .stepwise,
                width: width, height: height,
                maximumWidth: Int(stepwise.max_width), maximumHeight: Int(stepwise.max_height),
                stepWidth: Int(stepwise.step_width), stepHeight: Int(stepwise.step_height),
                intervals: intervals.discrete, intervalRange: intervals.range))
            // A range is reported once, at index 0.
            break
        }
        index += 1
    }
    return sizes
}

private func enumerateFrameIntervals(_ handle: borrowing V4L2Handle, pixelFormat: UInt32, width: Int, height: Int)
    throws(CaptureError) -> (discrete: [V4L2Interval], range: [V4L2Interval]?) {
    var discrete: [V4L2Interval] = []
    var index: UInt32 = 0
    while true {
        var interval = v4l2_frmivalenum()
        interval.index = index
        interval.pixel_format = pixelFormat
        interval.width = UInt32(width)
        interval.height = UInt32(height)
        let result = handle.performRaw(.enumerateFrameIntervals, &interval)
        if result == EINVAL || result == ENOTTY { break }
        if result != 0 { throw .system(call: "VIDIOC_ENUM_FRAMEINTERVALS", path: handle.path, errno: result) }
        if interval.type == V4L2_FRMIVAL_TYPE_DISCRETE.rawValue {
            discrete.append(V4L2Interval(numerator: interval.discrete.numerator, denominator: interval.discrete.denominator))
        } else {
            let stepwise = interval.stepwise
            return (discrete, [V4L2Interval(numerator: stepwise.max.numerator, denominator: stepwise.max.denominator),
                               V4L2Interval(numerator: stepwise.min.numerator, denominator: stepwise.min.denominator)])
        }
        index += 1
    }
    return (discrete, nil)
}
