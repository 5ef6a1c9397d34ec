// Decodes MJPEG payload frames into pooled planar YUV frames. A payload that does not decode
// (corrupt, truncated, not a JPEG) is dropped and counted: it never goes on undecoded.

public import Boards
import Codec
public import Frames

public final class DecodeStage: PipelineStage {
    public let name = "decode"
    public let workKind = WorkKind.jpegDecode
    private let decoder = JPEGDecoder()
    private let pool: FramePool
    private var dropped: UInt64 = 0

    /// - Parameters: width, height: the stream's frame size; the pool's buffers hold a 4:2:2
    ///   frame of that size (the largest layout a 4:2:0 or 4:2:2 JPEG decodes to).
    public init(width: Int, height: Int, poolSize: Int) {
        pool = FramePool(count: max(2, poolSize), layout: FrameLayout(format: .i422, width: width, height: height))
    }

    public func process(_ frame: consuming Frame) -> Frame? {
        guard frame.format == .mjpeg else { return frame }
        do {
            var decoded = try decoder.decode(frame.payload, from: pool, sequence: frame.sequence, captureTime: frame.captureTime)
            decoded.sequence = frame.sequence
            return decoded
        } catch {
            // The decoder counts the error by kind; the frame is dropped (fail closed).
            dropped &+= 1
            return nil
        }
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
