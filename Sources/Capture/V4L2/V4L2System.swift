// The one door to the kernel for V4L2 capture: every open, ioctl, mmap and poll the capture code
// makes goes through here, so EINTR is retried in one place, EAGAIN becomes a value ("no frame
// yet") and every failure is a typed `CaptureError.system` naming the call and its errno, such as
// "/dev/video0: VIDIOC_STREAMON failed: Invalid argument (errno 22)".

internal import CV4L2
#if canImport(Glibc)
internal import Glibc
#endif

/// An ioctl request code together with the name errors report it by.
struct V4L2Request: Sendable {
    let code: UInt
    let name: String

    static let queryCapabilities = V4L2Request(code: obscura_v4l2_VIDIOC_QUERYCAP, name: "VIDIOC_QUERYCAP")
    static let enumerateFormats = V4L2Request(code: obscura_v4l2_VIDIOC_ENUM_FMT, name: "VIDIOC_ENUM_FMT")
    static let getFormat = V4L2Request(code: obscura_v4l2_VIDIOC_G_FMT, name: "VIDIOC_G_FMT")
    static let setFormat = V4L2Request(code: obscura_v4l2_VIDIOC_S_FMT, name: "VIDIOC_S_FMT")
    static let requestBuffers = V4L2Request(code: obscura_v4l2_VIDIOC_REQBUFS, name: "VIDIOC_REQBUFS")
    static let queryBuffer = V4L2Request(code: obscura_v4l2_VIDIOC_QUERYBUF, name: "VIDIOC_QUERYBUF")
    static let queueBuffer = V4L2Request(code: obscura_v4l2_VIDIOC_QBUF, name: "VIDIOC_QBUF")
    static let dequeueBuffer = V4L2Request(code: obscura_v4l2_VIDIOC_DQBUF, name: "VIDIOC_DQBUF")
    static let streamOn = V4L2Request(code: obscura_v4l2_VIDIOC_STREAMON, name: "VIDIOC_STREAMON")
    static let streamOff = V4L2Request(code: obscura_v4l2_VIDIOC_STREAMOFF, name: "VIDIOC_STREAMOFF")
    static let getParameters = V4L2Request(code: obscura_v4l2_VIDIOC_G_PARM, name: "VIDIOC_G_PARM")
    static let setParameters = V4L2Request(code: obscura_v4l2_VIDIOC_S_PARM, name: "VIDIOC_S_PARM")
    static let getControl = V4L2Request(code: obscura_v4l2_VIDIOC_G_CTRL, name: "VIDIOC_G_CTRL")
    static let setControl = V4L2Request(code: obscura_v4l2_VIDIOC_S_CTRL, name: "VIDIOC_S_CTRL")
    static let queryControl = V4L2Request(code: obscura_v4l2_VIDIOC_QUERYCTRL, name: "VIDIOC_QUERYCTRL")
    static let queryExtendedControl = V4L2Request(code: obscura_v4l2_VIDIOC_QUERY_EXT_CTRL, name: "VIDIOC_QUERY_EXT_CTRL")
    static let queryMenu = V4L2Request(code: obscura_v4l2_VIDIOC_QUERYMENU, name: "VIDIOC_QUERYMENU")
    static let enumerateFrameSizes = V4L2Request(code: obscura_v4l2_VIDIOC_ENUM_FRAMESIZES, name: "VIDIOC_ENUM_FRAMESIZES")
    static let enumerateFrameIntervals = V4L2Request(code: obscura_v4l2_VIDIOC_ENUM_FRAMEINTERVALS, name: "VIDIOC_ENUM_FRAMEINTERVALS")
}

/// What a call that may have nothing to give yet did.
enum V4L2CallOutcome: Equatable {
    case completed
    /// EAGAIN on a non-blocking descriptor: no frame yet, not an error.
    case wouldBlock
}

/// What `poll` saw on the device.
enum V4L2PollOutcome: Equatable {
    case readable
    case timedOut
    /// POLLERR or POLLHUP without data: the next DQBUF will say what went wrong.
    case failed
}

/// An open V4L2 device node, opened through libv4l2. Owns its descriptor and closes it exactly
/// once, when the handle is destroyed; being noncopyable, it cannot be closed twice or leaked by
/// a copy.
struct V4L2Handle: ~Copyable {
    let descriptor: Int32
    let path: String

    /// Opens `path` read-write and non-blocking (so DQBUF says EAGAIN instead of sleeping; the
    /// capture loop waits in poll, where it can time out). The corresponding C function is
    /// `v4l2_open`.
    ///
    /// `throughLibV4L2: false` opens with open(2) instead, for output devices; libv4l2 passes
    /// every later call on such a descriptor straight to the kernel.
    init(path: String, throughLibV4L2: Bool = true) throws(CaptureError) {
        var descriptor: Int32
        repeat {
            descriptor = throughLibV4L2 ? obscura_v4l2_open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
                                        : open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        } while descriptor < 0 && errno == EINTR
        if descriptor < 0 {
            let code = errno
            if code == ENOENT { throw .notFound(path: path) }
            throw .system(call: "open", path: path, errno: code)
        }
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        // close(2) must not be retried on EINTR on Linux: the descriptor is released either way.
        _ = obscura_v4l2_close(descriptor)
    }

    /// Runs one ioctl, retrying EINTR. Returns `.wouldBlock` for EAGAIN and throws a
    /// `CaptureError.system` naming the request for anything else. The corresponding C function
    /// is `v4l2_ioctl`.
    @discardableResult
    func perform<Argument>(_ request: V4L2Request, _ argument: inout Argument) throws(CaptureError) -> V4L2CallOutcome {
        let code = performRaw(request, &argument)
        if code == 0 { return .completed }
        if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
        throw .system(call: request.name, path: path, errno: code)
    }

    /// Runs one ioctl, retrying EINTR, and returns 0 or the errno. For callers that treat some
    /// errors as answers (EINVAL ends an enumeration).
    func performRaw<Argument>(_ request: V4L2Request, _ argument: inout Argument) -> Int32 {
        let descriptor = self.descriptor
        return withUnsafeMutablePointer(to: &argument) { pointer in
            while true {
                if obscura_v4l2_ioctl(descriptor, request.code, UnsafeMutableRawPointer(pointer)) == 0 { return 0 }
                let code = errno
                if code != EINTR { return code }
            }
        }
    }

    /// Waits up to `timeoutMilliseconds` for a filled buffer. The corresponding C function is
    /// `poll`.
    func waitForFrame(timeoutMilliseconds: Int32) throws(CaptureError) -> V4L2PollOutcome {
        var descriptorSet = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let result = poll(&descriptorSet, 1, timeoutMilliseconds)
            if result > 0 {
                if descriptorSet.revents & Int16(POLLIN) != 0 { return .readable }
                return .failed
            }
            if result == 0 { return .timedOut }
            let code = errno
            // A signal cut the wait short; waiting again for the whole timeout at worst delays
            // a "no frame yet" answer, which is harmless.
            if code == EINTR { continue }
            throw .system(call: "poll", path: path, errno: code)
        }
    }

    /// Maps one driver buffer. The corresponding C function is `v4l2_mmap`.
    func map(length: Int, offset: UInt32) throws(CaptureError) -> UnsafeMutableRawBufferPointer {
        let address = obscura_v4l2_mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, Int64(offset))
        if address == nil || obscura_v4l2_is_map_failed(address) != 0 {
            throw .system(call: "mmap", path: path, errno: errno)
        }
        return UnsafeMutableRawBufferPointer(start: address, count: length)
    }
}

/// The driver buffers of one stream, mapped into this process. Unmaps them when destroyed.
struct V4L2Mappings: ~Copyable {
    private(set) var buffers: [UnsafeMutableRawBufferPointer] = []

    mutating func append(_ buffer: UnsafeMutableRawBufferPointer) { buffers.append(buffer) }

    var count: Int { buffers.count }

    subscript(index: Int) -> UnsafeMutableRawBufferPointer { buffers[index] }

    deinit {
        for buffer in buffers {
            // The corresponding C function is `v4l2_munmap`.
            _ = obscura_v4l2_munmap(buffer.baseAddress, buffer.count)
        }
    }
}

/// Errnos that mean the device has gone (unplugged, driver reset, fatal streaming error):
/// close it, back off and reopen, rather than stopping the source.
func isDeviceLoss(_ code: Int32) -> Bool {
    code == ENODEV || code == EIO || code == ENXIO || code == ESHUTDOWN || code == EPIPE
}

/// Sleeps the calling thread; the capture loop is synchronous by design (it runs on its own
/// task and never blocks the pipeline's other stages).
func sleepFor(_ duration: Duration) {
    guard duration > .zero else { return }
    let (seconds, attoseconds) = duration.components
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// Reads a NUL-terminated C string held in a fixed-size char array (imported as a tuple).
func stringFromCharacterArray<Tuple>(_ tuple: Tuple) -> String {
    withUnsafeBytes(of: tuple) { bytes in
        String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
}
