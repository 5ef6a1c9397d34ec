// Decodes MJPEG payload frames into pooled planar YUV frames. A payload that does not decode
// (corrupt, truncated, not a JPEG) is dropped and counted: it never goes on undecoded.

public import Boards
import Codec
public import Frames

/// Holds the compressed frame whose decoded copy is being analysed, so that the redaction step
/// can redact the original JPEG in the coefficient domain instead of re-encoding the decoded one.
public final class CompressedFrameSlot {
    var frame: Frame?
    public init() {}
}

public final class DecodeStage: PipelineStage {
    public let name = "decode"
    public let workKind = WorkKind.jpegDecode
    private let decoder = JPEGDecoder()
    private let pool: FramePool
    private let keep: CompressedFrameSlot?
    private var dropped: UInt64 = 0

    /// - Parameters:
    ///   - width, height: the stream's frame size; the pool's buffers hold a 4:2:2 frame of that
    ///     size (the largest layout a 4:2:0 or 4:2:2 JPEG decodes to).
    ///   - keepCompressed: when given, each compressed frame is kept there for the redaction
    ///     step and only its luma is decoded (all the analysis reads).
    public init(width: Int, height: Int, poolSize: Int, keepCompressed: CompressedFrameSlot? = nil) {
        pool = FramePool(count: max(2, poolSize), layout: FrameLayout(format: .i422, width: width, height: height))
        keep = keepCompressed
    }

    public func process(_ frame: consuming Frame) -> Frame? {
        guard frame.format == .mjpeg else { return frame }
        var decoded: Frame
        do {
            decoded = try decoder.decode(frame.payload, from: pool, output: keep == nil ? .yuv : .gray,
                                         sequence: frame.sequence, captureTime: frame.captureTime)
        } catch {
            // The decoder counts the error by kind; the frame is dropped (fail closed).
            dropped &+= 1
            return nil
        }
        decoded.sequence = frame.sequence
        if let keep { keep.frame = consume frame }
        return decoded
    }

    public var counters: [String: UInt64] {
        let counters = decoder.counters
        return [
            "decoded": UInt64(counters.decoded),
            "dropped": dropped,
            "failed_truncated": UInt64(counters.truncated),
            "failed_corrupt": UInt64(counters.corrupt),
            "failed_not_jpeg": UInt64(counters.notJPEG + counters.empty),
            "failed_other": UInt64(counters.failed - counters.truncated - counters.corrupt - counters.notJPEG - counters.empty),
        ]
    }
}
