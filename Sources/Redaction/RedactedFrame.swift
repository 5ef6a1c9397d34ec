// RedactedFrame: a frame that has been through the redaction stage, the only kind a sink takes.
//
// Invariant 2 of the design rests on this file: the initialiser is internal, so only code in
// the Redaction module (in practice `Redactor.redact`) can wrap a Frame, and the wrapper gives
// read-only access to the pixels. Do not add a public initialiser, a public way to reach the
// wrapped Frame, or mutable pixel access: a test scans this file for exactly that.
public import Frames

/// A frame whose pixels have been redacted by a `Redactor`.
///
/// Noncopyable like the Frame it wraps: when it is destroyed the buffer returns to its pool.
/// Sinks (file writer, snapshot writer, clip store, live stream) accept only this type, so a raw
/// `Frame` has no path to a file, a socket or a log.
public struct RedactedFrame: ~Copyable, @unchecked Sendable {
    // @unchecked: as for Frame, the buffer is owned exclusively by this value.
    let frame: Frame
    /// Fraction of the frame's pixels that were masked.
    public let maskedFraction: Double
    /// Whether the whole frame was filled because analysis failed.
    public let wholeFrameMasked: Bool

    /// Only the Redaction module may call this (see the file header).
    init(frame: consuming Frame, maskedFraction: Double, wholeFrameMasked: Bool) {
        self.frame = frame
        self.maskedFraction = maskedFraction
        self.wholeFrameMasked = wholeFrameMasked
    }

    public var sequence: UInt64 { frame.sequence }
    public var captureTime: ContinuousClock.Instant { frame.captureTime }
    public var layout: FrameLayout { frame.layout }
    public var format: PixelFormat { frame.format }
    public var width: Int { frame.width }
    public var height: Int { frame.height }
    public func plane(_ index: Int) -> Plane { frame.plane(index) }

    /// The redacted bytes of one plane (all its rows, including row padding), read-only.
    public func planeBytes(_ index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(frame.planeBytes(index))
    }

    /// The whole redacted buffer, read-only; `layout`'s plane offsets are relative to its start
    /// (what an encoder that takes a layout and a base address needs).
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: frame.buffer.baseAddress, count: frame.buffer.capacity)
    }

    /// The compressed payload of an `.mjpeg` frame redacted in the coefficient domain, read-only
    /// (empty for raw formats, and for a compressed frame that was dropped whole). Like `bytes`
    /// it points into this frame's buffer: use it while the frame is alive (copy it inside a
    /// function that borrows the frame, not from a temporary that is released first).
    public var payload: UnsafeRawBufferPointer {
        frame.format == .mjpeg ? frame.payload : UnsafeRawBufferPointer(start: nil, count: 0)
    }
}
