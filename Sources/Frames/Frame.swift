// The Frame: one captured image in pooled memory, with its sequence number and capture time.

/// One image moving through the pipeline.
///
/// A frame is noncopyable: exactly one owner holds it at a time, and when that owner is done
/// (the frame is destroyed) its buffer goes back to the pool. That is what makes "no heap
/// allocation per frame" hold: the bytes are the pool's, the metadata is a value.
public struct Frame: ~Copyable, @unchecked Sendable {
    // @unchecked: a Frame owns its buffer exclusively (see FrameBuffer).
    /// Position in the source's stream, starting at 0; gaps mean frames were dropped.
    public var sequence: UInt64
    /// When the frame was captured, on the monotonic clock.
    public var captureTime: ContinuousClock.Instant
    /// Geometry of the pixels in the buffer.
    public private(set) var layout: FrameLayout
    /// For `.mjpeg` frames: the number of payload bytes in plane 0.
    public var payloadSize: Int
    public let buffer: FrameBuffer

    init(buffer: FrameBuffer, layout: FrameLayout, sequence: UInt64, captureTime: ContinuousClock.Instant) {
        self.buffer = buffer
        self.layout = layout
        self.sequence = sequence
        self.captureTime = captureTime
        self.payloadSize = 0
    }

    deinit {
        buffer.pool?.recycle(buffer)
    }

    public var format: PixelFormat { layout.format }
    public var width: Int { layout.width }
    public var height: Int { layout.height }

    /// Changes the layout, for example when a decoder learns the real size of a payload.
    /// The new layout must fit the buffer.
    public mutating func setLayout(_ newLayout: FrameLayout) -> Bool {
        guard newLayout.byteCount <= buffer.capacity else { return false }
        layout = newLayout
        return true
    }

    public func plane(_ index: Int) -> Plane { layout.planes[index] }

    /// The bytes of one plane (all its rows, including row padding).
    public func planeBytes(_ index: Int) -> UnsafeMutableRawBufferPointer {
        let plane = layout.planes[index]
        return UnsafeMutableRawBufferPointer(start: buffer.baseAddress + plane.offset, count: plane.byteCount)
    }

    /// The compressed payload of an `.mjpeg` frame.
    public var payload: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: buffer.baseAddress + layout.planes[0].offset, count: payloadSize)
    }

    /// Copies a compressed payload into the frame; returns false if it does not fit.
    public mutating func setPayload(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard layout.format == .mjpeg, bytes.count <= layout.planes[0].stride,
              layout.planes[0].offset + bytes.count <= buffer.capacity else { return false }
        if let base = bytes.baseAddress, bytes.count > 0 {
            (buffer.baseAddress + layout.planes[0].offset).copyMemory(from: base, byteCount: bytes.count)
        }
        payloadSize = bytes.count
        return true
    }
}
