// Decodes MJPEG payload frames into pooled planar YUV frames. A payload that does not decode
// (corrupt, truncated, not a JPEG) is dropped and counted: it never goes on undecoded.

public import Boards
import Codec
public import Frames
public import Redaction

/// Holds the compressed frame whose decoded copy is being analysed, so that the redaction step
/// can redact the original JPEG in the coefficient domain instead of re-encoding the decoded one.
public final class CompressedFrameSlot {
    var frame: Frame?
    /// Reads each JPEG once for both uses: its luma for analysis, its coefficients for redaction.
    let redactor: Redactor
    public init(redactor: Redactor) { self.redactor = redactor }
}

public final class DecodeStage: PipelineStage {
    public let name = "decode"
    public let workKind = WorkKind.jpegDecode
    private let decoder = JPEGDecoder()
    private let pool: FramePool
    private let keep: CompressedFrameSlot?
    private var dropped: UInt64 = 0
    private var poolExhausted: UInt64 = 0
    private var prepared: UInt64 = 0

    /// - Parameters:
    ///   - width, height: the stream's frame size; the pool's buffers hold a 4:2:2 frame of that
    ///     size (the largest layout a 4:2:0 or 4:2:2 JPEG decodes to).
    ///   - keepCompressed: when given, each compressed frame is kept there for the redaction
    ///     step, and the redactor reads it once: its luma (all the analysis reads) comes back
    ///     here, its coefficients wait for `redactCompressed`.
    public init(width: Int, height: Int, poolSize: Int, keepCompressed: CompressedFrameSlot? = nil) {
        pool = FramePool(count: max(2, poolSize), layout: FrameLayout(format: .i422, width: width, height: height))
        keep = keepCompressed
    }

    public func process(_ frame: consuming Frame) -> Frame? {
        guard frame.format == .mjpeg else { return frame }
        if let keep {
            // One entropy decode serves both: luma for analysis, coefficients for redaction.
            guard var luma = pool.makeFrame(layout: FrameLayout(format: .gray8, width: 16, height: 16),
                                            sequence: frame.sequence, captureTime: frame.captureTime) else {
                dropped &+= 1
                poolExhausted &+= 1
                return nil
            }
            do {
                try keep.redactor.prepareCompressed(frame, lumaInto: &luma)
            } catch {
                // Counted by kind in the redactor's JPEG counters; dropped (fail closed).
                dropped &+= 1
                return nil
            }
            prepared &+= 1
            keep.frame = consume frame
            return luma
        }
        var decoded: Frame
        do {
            decoded = try decoder.decode(frame.payload, from: pool, sequence: frame.sequence, captureTime: frame.captureTime)
        } catch {
            // The decoder counts the error by kind; the frame is dropped (fail closed).
            dropped &+= 1
            return nil
        }
        decoded.sequence = frame.sequence
        return decoded
    }

    public var counters: [String: UInt64] {
        var counters = decoder.counters
        if let keep {
            // Read through the redactor: its counters hold the JPEG failures by kind.
            counters = keep.redactor.compressedJPEGCounters
            counters.decoded = 0
        }
        return [
            "decoded": UInt64(counters.decoded) + prepared,
            "dropped": dropped,
            "pool_exhausted": poolExhausted,
            "failed_truncated": UInt64(counters.truncated),
            "failed_corrupt": UInt64(counters.corrupt),
            "failed_not_jpeg": UInt64(counters.notJPEG + counters.empty),
            "failed_other": UInt64(counters.failed - counters.truncated - counters.corrupt - counters.notJPEG - counters.empty),
        ]
    }
}
