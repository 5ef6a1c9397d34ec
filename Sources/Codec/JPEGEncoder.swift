// JPEGEncoder: raw I420 / I422 / GRAY8 frames to baseline JPEG in a caller-provided buffer.

internal import CJPEG
public import Frames

/// Which forward DCT the encoder uses.
public enum JPEGDCTMethod: Sendable, Equatable {
    /// TurboJPEG's rule: the accurate DCT at quality 96 and above, where its precision is
    /// visible, and the fast one below, where quantisation dominates the error.
    case automatic
    /// libjpeg's slow-but-accurate integer DCT (JDCT_ISLOW).
    case accurate
    /// libjpeg's fast integer DCT (JDCT_IFAST).
    case fast
}

/// Compresses raw frames to JPEG. The JPEG keeps the frame's chroma subsampling: I420 gives a
/// 4:2:0 JPEG, I422 a 4:2:2 one, GRAY8 a greyscale one; no colour conversion happens.
///
/// One encoder per thread of use: it owns one libjpeg compressor reused for every frame, and
/// writes into the caller's buffer, so steady-state encoding allocates only libjpeg's own
/// per-image working memory.
public final class JPEGEncoder {
    public let dctMethod: JPEGDCTMethod
    /// Successful encodes so far.
    public private(set) var encodedCount = 0
    /// Failed encodes so far (including output buffers too small).
    public private(set) var failedCount = 0

    private let handle: OpaquePointer

    public init(dctMethod: JPEGDCTMethod = .automatic) {
        guard let handle = obscura_jpeg_encoder_create() else {
            preconditionFailure("out of memory creating a JPEG encoder")
        }
        self.handle = handle
        self.dctMethod = dctMethod
    }

    deinit { obscura_jpeg_encoder_destroy(handle) }

    /// A buffer size that always holds the JPEG of a `width` x `height` frame of `format`,
    /// whatever the quality or content (TurboJPEG's tjBufSize bound: baseline Huffman coding
    /// cannot expand a block beyond it).
    public static func maximumEncodedSize(width: Int, height: Int, format: PixelFormat) -> Int {
        let (blockWidth, blockHeight, chromaFactor) = switch format {
        case .i420: (16, 16, 1)
        case .i422: (16, 8, 2)
        default: (8, 8, 0)
        }
        let paddedWidth = (width + blockWidth - 1) / blockWidth * blockWidth
        let paddedHeight = (height + blockHeight - 1) / blockHeight * blockHeight
        return paddedWidth * paddedHeight * (2 + chromaFactor) + 2048
    }

    /// Compresses `frame` at `quality` (1...100) into `output`.
    /// - Returns: the number of bytes of JPEG written at the start of `output`.
    public func encode(_ frame: borrowing Frame, quality: Int,
                       into output: UnsafeMutableRawBufferPointer) throws(JPEGError) -> Int {
        do throws(JPEGError) {
            let written = try encodeImage(frame, quality: quality, into: output)
            encodedCount += 1
            return written
        } catch {
            failedCount += 1
            throw error
        }
    }

    /// Compresses `frame` into `destination`, an `.mjpeg` frame (for example from a pool of
    /// payload buffers), and sets its payload size. Sequence and capture time are copied.
    public func encode(_ frame: borrowing Frame, quality: Int, into destination: inout Frame) throws(JPEGError) {
        guard destination.format == .mjpeg else {
            failedCount += 1
            throw .unsupportedFrameFormat(destination.format)
        }
        let bytes = destination.planeBytes(0)
        let written = try encode(frame, quality: quality, into: bytes)
        destination.payloadSize = written
        destination.sequence = frame.sequence
        destination.captureTime = frame.captureTime
    }

    /// Convenience that returns a new array (allocates; for tests, tools and snapshots, not
    /// for the per-frame path).
    public func encode(_ frame: borrowing Frame, quality: Int) throws(JPEGError) -> [UInt8] {
        let capacity = Self.maximumEncodedSize(width: frame.width, height: frame.height, format: frame.format)
        var failure: JPEGError?
        let bytes = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            do throws(JPEGError) {
                count = try encode(frame, quality: quality, into: UnsafeMutableRawBufferPointer(buffer))
            } catch {
                failure = error
                count = 0
            }
        }
        if let failure { throw failure }
        // Copy out of the worst-case-sized buffer so the result does not keep megabytes of
        // unused capacity alive.
        return Array(bytes[...])
    }

    /// Compresses an image given as a layout and the buffer its plane offsets refer to (for
    /// callers that hold read-only pixels rather than a `Frame`, such as a sink given a
    /// `RedactedFrame`).
    /// - Returns: the number of bytes of JPEG written at the start of `output`.
    public func encode(layout: FrameLayout, bytes: UnsafeRawBufferPointer, quality: Int,
                       into output: UnsafeMutableRawBufferPointer) throws(JPEGError) -> Int {
        do throws(JPEGError) {
            guard let base = bytes.baseAddress, layout.planes.allSatisfy({ $0.offset + $0.byteCount <= bytes.count }) else {
                throw .unsupported("the pixel buffer (\(bytes.count) bytes) is smaller than its \(layout.format) \(layout.width)x\(layout.height) layout")
            }
            let written = try encodeImage(layout: layout, base: base.assumingMemoryBound(to: UInt8.self), quality: quality, into: output)
            encodedCount += 1
            return written
        } catch {
            failedCount += 1
            throw error
        }
    }

    private func encodeImage(_ frame: borrowing Frame, quality: Int,
                             into output: UnsafeMutableRawBufferPointer) throws(JPEGError) -> Int {
        try encodeImage(layout: frame.layout, base: UnsafePointer(frame.buffer.baseAddress.assumingMemoryBound(to: UInt8.self)),
                        quality: quality, into: output)
    }

    private func encodeImage(layout: FrameLayout, base: UnsafePointer<UInt8>, quality: Int,
                             into output: UnsafeMutableRawBufferPointer) throws(JPEGError) -> Int {
        guard (1...100).contains(quality) else { throw .invalidQuality(quality) }
        let subsampling: Int32
        switch layout.format {
        case .i420: subsampling = OBSCURA_JPEG_SUBSAMPLING_420
        case .i422: subsampling = OBSCURA_JPEG_SUBSAMPLING_422
        case .gray8: subsampling = OBSCURA_JPEG_SUBSAMPLING_GRAY
        default: throw .unsupportedFrameFormat(layout.format)
        }
        guard layout.width > 0, layout.height > 0 else { throw .unsupported("cannot encode an empty \(layout.width)x\(layout.height) frame") }
        guard let outputBase = output.baseAddress, output.count > 0 else { throw .outputTooSmall(capacity: output.count) }
        let accurate: Bool = switch dctMethod {
        case .automatic: quality >= 96
        case .accurate: true
        case .fast: false
        }
        let luma = layout.planes[0]
        let blue = layout.planes.count >= 3 ? layout.planes[1] : luma
        let red = layout.planes.count >= 3 ? layout.planes[2] : luma
        var written = 0
        let status = obscura_jpeg_encoder_encode(
            handle, Int32(layout.width), Int32(layout.height), subsampling, Int32(quality), accurate ? 1 : 0,
            base + luma.offset, luma.stride, base + blue.offset, blue.stride, base + red.offset, red.stride,
            outputBase.assumingMemoryBound(to: UInt8.self), output.count, &written)
        guard status == OBSCURA_JPEG_STATUS_OK else {
            if status == OBSCURA_JPEG_STATUS_OUTPUT_TOO_SMALL { throw .outputTooSmall(capacity: output.count) }
            throw JPEGError(status: status, message: String(cString: obscura_jpeg_encoder_message(handle)))
        }
        return written
    }
}
