// Writing frames to a V4L2 output device (a v4l2loopback node), so that whatever captures from
// its other side sees them as a camera. The VM test feeds MJPEG through it, and it is how a
// recorded clip can be replayed into another program as a virtual camera.

internal import CV4L2
#if canImport(Glibc)
internal import Glibc
#endif

/// An output device with its format set, taking one frame per `write`.
public struct V4L2OutputWriter: ~Copyable {
    private let handle: V4L2Handle

    /// Opens `path` and sets its output format. `sizeImage` is the largest frame that will be
    /// written (for MJPEG, the largest JPEG).
    public init(path: String, pixelFormat: V4L2FourCC, width: Int, height: Int, sizeImage: Int) throws(CaptureError) {
        // Opened with open(2), not libv4l2: libv4l2's open reads the capture format and fails on
        // a loopback device that has none until a writer sets it, which is this.
        let handle = try V4L2Handle(path: path, throughLibV4L2: false)
        var format = v4l2_format()
        format.type = V4L2_BUF_TYPE_VIDEO_OUTPUT.rawValue
        format.fmt.pix.width = UInt32(width)
        format.fmt.pix.height = UInt32(height)
        format.fmt.pix.pixelformat = pixelFormat.rawValue
        format.fmt.pix.field = V4L2_FIELD_NONE.rawValue
        format.fmt.pix.sizeimage = UInt32(sizeImage)
        try handle.perform(.setFormat, &format)
        self.handle = handle
    }

    /// Writes one whole frame held in an array.
    public func write(contentsOf bytes: [UInt8]) throws(CaptureError) {
        let result: Result<Void, CaptureError> = bytes.withUnsafeBytes { buffer in
            do throws(CaptureError) { try write(buffer); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }

    /// Writes one whole frame. The corresponding C function is `write`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(CaptureError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        while true {
            let written = Glibc.write(handle.descriptor, base, bytes.count)
            if written == bytes.count { return }
            let code = written < 0 ? errno : EIO
            if code == EINTR { continue }
            if code == EAGAIN {
                // The device is non-blocking; wait until it takes a frame again.
                var descriptorSet = pollfd(fd: handle.descriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&descriptorSet, 1, 1000)
                continue
            }
            throw .system(call: "write", path: handle.path, errno: code)
        }
    }
}
