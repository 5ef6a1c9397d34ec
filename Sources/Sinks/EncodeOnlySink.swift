// A sink that compresses each redacted frame to JPEG in memory and keeps nothing: what the
// MJPEG writer costs without the disk, for `obscura bench` (decode, analysis, redaction, encode).

import Codec
import Frames
public import Redaction

public final class EncodeOnlySink: RedactedSink {
    public let name = "encode"
    public let quality: Int
    private let encoder = JPEGEncoder()
    private var output: UnsafeMutableRawBufferPointer
    private var encoded: UInt64 = 0
    private var passedThrough: UInt64 = 0
    private var bytes: UInt64 = 0

    public init(quality: Int = 85) {
        self.quality = quality
        output = .allocate(byteCount: 0, alignment: 64)
    }

    deinit { output.deallocate() }

    public func write(_ frame: borrowing RedactedFrame) throws(SinkError) {
        if frame.format == .mjpeg {
            // Redacted in the coefficient domain: already compressed.
            passedThrough &+= 1
            bytes &+= UInt64(frame.payload.count)
            return
        }
        let needed = JPEGEncoder.maximumEncodedSize(width: frame.width, height: frame.height, format: frame.format)
        if output.count < needed {
            output.deallocate()
            output = .allocate(byteCount: needed, alignment: 64)
        }
        do {
            let written = try encoder.encode(layout: frame.layout, bytes: frame.bytes, quality: quality, into: output)
            encoded &+= 1
            bytes &+= UInt64(written)
        } catch {
            throw SinkError(path: "(memory)", reason: "JPEG encode failed: \(error)")
        }
    }

    public func close() throws(SinkError) {}

    public var counters: [String: UInt64] {
        ["encoded": encoded, "passed_through": passedThrough, "bytes": bytes]
    }
}
