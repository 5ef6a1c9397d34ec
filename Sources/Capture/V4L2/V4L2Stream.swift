// One streaming session on a V4L2 device, as a straight line like the kernel's capture.c:
// open, check capabilities, set the format and rate, request and map buffers, queue them,
// stream on. Destroying the session streams off, unmaps and closes. Reopening after a device
// loss is simply making a new session with the format the first one was granted.

internal import CV4L2
#if canImport(Glibc)
internal import Glibc
#endif

/// A buffer the driver handed back.
struct V4L2DequeuedBuffer {
    var index: Int
    var bytesUsed: Int
    var flags: UInt32
    var sequence: UInt32

    var hasErrorFlag: Bool { flags & UInt32(truncatingIfNeeded: V4L2_BUF_FLAG_ERROR) != 0 }
}

/// What the capture loop needs from a streaming device. `V4L2Stream` is the real one; the host
/// tests script another (EINTR, ENODEV, flagged buffers, sequence gaps, failed reopens) to run
/// the loop's decisions without a kernel.
protocol V4L2Streaming: AnyObject {
    var granted: V4L2GrantedFormat { get }
    func waitForFrame(timeoutMilliseconds: Int32) throws(CaptureError) -> V4L2PollOutcome
    func dequeue() throws(CaptureError) -> V4L2DequeuedBuffer?
    func requeue(_ index: Int) throws(CaptureError)
    func bytes(of buffer: V4L2DequeuedBuffer) -> UnsafeRawBufferPointer
    func listControls() throws(CaptureError) -> [V4L2ControlInfo]
    func readControl(id: UInt32) throws(CaptureError) -> Int64
    func setControl(named name: String, to value: String, known: [V4L2ControlInfo]?) throws(CaptureError) -> Int64?
}

/// Which of the two capture APIs a device speaks. USB cameras use the single-planar one; SoC
/// camera pipelines (Rockchip's rkisp1 and rkcif, for one) offer only the multi-planar one, even
/// for formats that fit one memory plane.
enum V4L2CaptureAPI: Equatable {
    case singlePlanar
    case multiPlanar

    /// The API a device's capability bits call for, preferring single-planar when both are there.
    init?(capabilities: UInt32) {
        if capabilities & UInt32(truncatingIfNeeded: V4L2_CAP_VIDEO_CAPTURE) != 0 {
            self = .singlePlanar
        } else if capabilities & UInt32(truncatingIfNeeded: V4L2_CAP_VIDEO_CAPTURE_MPLANE) != 0 {
            self = .multiPlanar
        } else {
            return nil
        }
    }

    var bufferType: UInt32 {
        self == .singlePlanar ? V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue : V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE.rawValue
    }
}

/// The capabilities a node reports for itself (device_caps when the driver fills it).
func nodeCapabilities(_ capability: v4l2_capability) -> UInt32 {
    (capability.capabilities & UInt32(truncatingIfNeeded: V4L2_CAP_DEVICE_CAPS)) != 0
        ? capability.device_caps : capability.capabilities
}

/// Room for the plane array multi-planar buffer calls point at (VIDEO_MAX_PLANES).
let v4l2MaximumPlanes = 8

/// An open, streaming device with its buffers mapped.
final class V4L2Stream: V4L2Streaming {
    let handle: V4L2Handle
    let granted: V4L2GrantedFormat
    let api: V4L2CaptureAPI
    private let mappings: V4L2Mappings
    /// The plane array every multi-planar QUERYBUF, QBUF and DQBUF points at; allocated once so
    /// the capture loop does not allocate per frame.
    private let planes: UnsafeMutablePointer<v4l2_plane>
    /// Buffers currently owned by the driver; DQBUF hands them back, QBUF returns them.
    private var queued: Set<Int>

    var path: String { handle.path }

    /// Opens `path` and starts streaming in the proposed format (or, if `proposal` is nil, in
    /// a format chosen from what the device offers for `options`).
    init(path: String, proposal requested: V4L2FormatProposal?, options: V4L2Options) throws(CaptureError) {
        let handle = try V4L2Handle(path: path)

        var capability = v4l2_capability()
        try handle.perform(.queryCapabilities, &capability)
        let capabilities = nodeCapabilities(capability)
        guard let api = V4L2CaptureAPI(capabilities: capabilities) else {
            throw .unsupported(path: path, reason: "not a video capture device (neither V4L2_CAP_VIDEO_CAPTURE nor V4L2_CAP_VIDEO_CAPTURE_MPLANE)")
        }
        guard capabilities & UInt32(truncatingIfNeeded: V4L2_CAP_STREAMING) != 0 else {
            throw .unsupported(path: path, reason: "the driver does not support streaming I/O (no V4L2_CAP_STREAMING)")
        }

        let proposal: V4L2FormatProposal
        if let requested {
            proposal = requested
        } else {
            let offered = try enumerateFormats(handle, api: api).map(\.offered)
            guard let chosen = chooseV4L2Format(offered: offered, options: options) else {
                let names = offered.map(\.pixelFormat.description).joined(separator: ", ")
                throw .unsupported(path: path, reason: "offers no format Obscura can capture (offers \(names); needs YUYV, NV12, GREY, YU12, 422P or MJPG)")
            }
            proposal = chosen
        }

        let granted = try negotiate(handle, proposal: proposal, api: api)

        var request = v4l2_requestbuffers()
        request.count = UInt32(max(4, options.bufferCount))
        request.type = api.bufferType
        request.memory = V4L2_MEMORY_MMAP.rawValue
        try handle.perform(.requestBuffers, &request)
        // Fewer than two buffers cannot stream at all (capture.c says "insufficient buffer
        // memory"); fewer than asked still works, with less slack.
        guard request.count >= 2 else {
            throw .unsupported(path: path, reason: "the driver granted \(request.count) buffer(s); streaming needs at least 2")
        }

        let planes = UnsafeMutablePointer<v4l2_plane>.allocate(capacity: v4l2MaximumPlanes)
        planes.initialize(repeating: v4l2_plane(), count: v4l2MaximumPlanes)
        var mappings = V4L2Mappings()
        do {
            for index in 0..<Int(request.count) {
                var buffer = describeBuffer(index: index, api: api, planes: planes)
                try handle.perform(.queryBuffer, &buffer)
                if api == .multiPlanar {
                    mappings.append(try handle.map(length: Int(planes[0].length), offset: planes[0].m.mem_offset))
                } else {
                    mappings.append(try handle.map(length: Int(buffer.length), offset: buffer.m.offset))
                }
            }
            for index in 0..<mappings.count {
                var buffer = describeBuffer(index: index, api: api, planes: planes)
                try handle.perform(.queueBuffer, &buffer)
            }
            var type = Int32(api.bufferType)
            try handle.perform(.streamOn, &type)
        } catch {
            planes.deallocate()
            throw error
        }

        self.api = api
        self.granted = granted
        self.planes = planes
        self.queued = Set(0..<mappings.count)
        self.mappings = mappings
        self.handle = handle
    }

    deinit {
        // Best effort: the device may already be gone, and closing releases everything anyway.
        var type = Int32(api.bufferType)
        _ = handle.performRaw(.streamOff, &type)
        planes.deallocate()
    }

    var bufferCount: Int { mappings.count }

    /// Takes one filled buffer, or nil when none is ready yet. Asks poll first, without
    /// waiting: DQBUF on an empty queue would say EAGAIN, which libv4l2 prints to stderr.
    func dequeue() throws(CaptureError) -> V4L2DequeuedBuffer? {
        if try handle.waitForFrame(timeoutMilliseconds: 0) == .timedOut { return nil }
        var buffer = describeBuffer(index: 0, api: api, planes: planes)
        guard try handle.perform(.dequeueBuffer, &buffer) == .completed else { return nil }
        let index = Int(buffer.index)
        // A driver handing back an index it never had, or one it already returned, would make
        // the copy read memory the driver may be writing: stop here rather than trust it.
        guard index < mappings.count, queued.remove(index) != nil else {
            throw .unsupported(path: path, reason: "VIDIOC_DQBUF returned buffer \(index), which was not queued (\(mappings.count) buffers)")
        }
        let bytesUsed = api == .multiPlanar ? Int(planes[0].bytesused) : Int(buffer.bytesused)
        return V4L2DequeuedBuffer(index: index, bytesUsed: min(bytesUsed, mappings[index].count),
                                  flags: buffer.flags, sequence: buffer.sequence)
    }

    /// Hands a buffer back to the driver to fill again.
    func requeue(_ index: Int) throws(CaptureError) {
        var buffer = describeBuffer(index: index, api: api, planes: planes)
        try handle.perform(.queueBuffer, &buffer)
        queued.insert(index)
    }

    /// The bytes the driver filled in a dequeued buffer.
    func bytes(of buffer: V4L2DequeuedBuffer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(mappings[buffer.index])[0..<buffer.bytesUsed])
    }

    func waitForFrame(timeoutMilliseconds: Int32) throws(CaptureError) -> V4L2PollOutcome {
        try handle.waitForFrame(timeoutMilliseconds: timeoutMilliseconds)
    }

    func listControls() throws(CaptureError) -> [V4L2ControlInfo] {
        try enumerateControls(handle)
    }

    func readControl(id: UInt32) throws(CaptureError) -> Int64 {
        try Capture.readControl(handle, id: id)
    }

    func setControl(named name: String, to value: String, known: [V4L2ControlInfo]?) throws(CaptureError) -> Int64? {
        try setControlByName(handle, named: name, to: value, controls: known)
    }
}

/// A buffer description for QUERYBUF, QBUF and DQBUF; multi-planar calls also point at the
/// plane array (cleared first, so no stale plane data goes to the driver).
private func describeBuffer(index: Int, api: V4L2CaptureAPI, planes: UnsafeMutablePointer<v4l2_plane>) -> v4l2_buffer {
    var buffer = v4l2_buffer()
    buffer.type = api.bufferType
    buffer.memory = V4L2_MEMORY_MMAP.rawValue
    buffer.index = UInt32(index)
    if api == .multiPlanar {
        planes.update(repeating: v4l2_plane(), count: v4l2MaximumPlanes)
        buffer.m.planes = planes
        buffer.length = UInt32(v4l2MaximumPlanes)
    }
    return buffer
}

/// Sets the format and rate, then reads back what the driver granted and clamps it.
///
/// When S_FMT says EBUSY another process owns the format (a v4l2loopback writer, or a second
/// reader of a camera): the current format is taken as granted, since asking again cannot help.
func negotiate(_ handle: borrowing V4L2Handle, proposal: V4L2FormatProposal, api: V4L2CaptureAPI = .singlePlanar)
    throws(CaptureError) -> V4L2GrantedFormat {
    var format = v4l2_format()
    format.type = api.bufferType
    if api == .multiPlanar {
        format.fmt.pix_mp.width = UInt32(proposal.width)
        format.fmt.pix_mp.height = UInt32(proposal.height)
        format.fmt.pix_mp.pixelformat = proposal.pixelFormat.rawValue
        format.fmt.pix_mp.field = V4L2_FIELD_NONE.rawValue
        format.fmt.pix_mp.num_planes = 1
    } else {
        format.fmt.pix.width = UInt32(proposal.width)
        format.fmt.pix.height = UInt32(proposal.height)
        format.fmt.pix.pixelformat = proposal.pixelFormat.rawValue
        format.fmt.pix.field = V4L2_FIELD_NONE.rawValue
    }
    let setResult = handle.performRaw(.setFormat, &format)
    if setResult == EBUSY {
        format = v4l2_format()
        format.type = api.bufferType
        try handle.perform(.getFormat, &format)
    } else if setResult != 0 {
        throw .system(call: "VIDIOC_S_FMT", path: handle.path, errno: setResult)
    }
    let granted: (code: UInt32, width: UInt32, height: UInt32, bytesPerLine: UInt32, sizeImage: UInt32)
    if api == .multiPlanar {
        let multiPlanar = format.fmt.pix_mp
        // Formats such as NV12M keep each plane in its own memory; the copy reads one.
        guard multiPlanar.num_planes == 1 else {
            throw .unsupported(path: handle.path, reason: "\(V4L2FourCC(rawValue: multiPlanar.pixelformat)) uses \(multiPlanar.num_planes) memory planes per frame; Obscura captures formats held in one (ask for NV12 rather than NV12M)")
        }
        granted = (multiPlanar.pixelformat, multiPlanar.width, multiPlanar.height,
                   multiPlanar.plane_fmt.0.bytesperline, multiPlanar.plane_fmt.0.sizeimage)
    } else {
        granted = (format.fmt.pix.pixelformat, format.fmt.pix.width, format.fmt.pix.height,
                   format.fmt.pix.bytesperline, format.fmt.pix.sizeimage)
    }
    let pixelFormat = V4L2FourCC(rawValue: granted.code)
    guard pixelFormat.pixelFormat != nil else {
        throw .unsupported(path: handle.path, reason: "asked for \(proposal.pixelFormat) but the driver granted \(pixelFormat), which Obscura cannot carry (needs YUYV, NV12, GREY, YU12, 422P or MJPG)")
    }
    let width = Int(granted.width)
    let height = Int(granted.height)
    guard width > 0, height > 0 else {
        throw .unsupported(path: handle.path, reason: "the driver granted an empty frame size \(width)x\(height)")
    }
    let clamped = clampV4L2Geometry(pixelFormat, width: width, height: height,
                                    bytesPerLine: Int(granted.bytesPerLine),
                                    sizeImage: Int(granted.sizeImage),
                                    bufferLength: width * height * 2)

    var fps = proposal.fps ?? 0
    var parameters = v4l2_streamparm()
    parameters.type = api.bufferType
    if let requestedFPS = proposal.fps, requestedFPS > 0 {
        let interval = V4L2Interval(fps: requestedFPS)
        parameters.parm.capture.timeperframe.numerator = interval.numerator
        parameters.parm.capture.timeperframe.denominator = interval.denominator
        // Not every driver lets the rate be set (v4l2loopback's capture side does not); the
        // rate read back below says what holds.
        _ = handle.performRaw(.setParameters, &parameters)
    }
    parameters = v4l2_streamparm()
    parameters.type = api.bufferType
    if handle.performRaw(.getParameters, &parameters) == 0 {
        let reported = V4L2Interval(numerator: parameters.parm.capture.timeperframe.numerator,
                                    denominator: parameters.parm.capture.timeperframe.denominator)
        if reported.fps > 0 { fps = reported.fps }
    }
    return V4L2GrantedFormat(pixelFormat: pixelFormat, width: width, height: height,
                             bytesPerLine: clamped.bytesPerLine, sizeImage: clamped.sizeImage, fps: fps)
}
