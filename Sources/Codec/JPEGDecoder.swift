// JPEGDecoder: JPEG payloads to pooled YUV or grey frames, full size or DCT-scaled.

internal import CJPEG
public import Frames

/// Decodes JPEGs (one MJPEG frame at a time) into pooled frames.
///
/// One decoder per thread of use: it owns one libjpeg decompressor that is reused for every
/// frame, so it is not `Sendable`. Create it inside the task that decodes.
///
/// Bad input never traps: every failure is a `JPEGError` and bumps `counters`, and the decoder
/// is ready for the next frame afterwards. Corrupt-data warnings from libjpeg (truncated data,
/// bad Huffman codes, extraneous bytes) fail the decode rather than yield a grey-filled image.
public final class JPEGDecoder {
    /// Largest width or height accepted by default: rejected right after the header, before
    /// libjpeg allocates anything for the image.
    public static let defaultMaximumDimension = 16384

    public let maximumDimension: Int
    /// Decodes and failures so far, by kind.
    public var counters: JPEGDecoderCounters {
        var counters = recorded
        counters.corruptDataWarnings = obscura_jpeg_decoder_corrupt_warnings(handle)
        counters.otherWarnings = obscura_jpeg_decoder_other_warnings(handle)
        return counters
    }

    private let handle: OpaquePointer
    private var recorded = JPEGDecoderCounters()
    // FrameLayout holds its planes in an array; recomputing it per frame would allocate, so
    // the layouts of recent geometries are kept.
    private var layouts: [FrameLayout] = []
    private var nextLayoutSlot = 0
    private static let layoutCacheSize = 4
    private let placeholderLayout = FrameLayout(format: .gray8, width: 0, height: 0)

    /// - Parameters:
    ///   - maximumDimension: reject JPEGs declaring a larger width or height.
    ///   - maximumMemory: cap on libjpeg's working memory in bytes (it matters for progressive
    ///     JPEGs, which buffer all coefficients); 0 means no cap.
    ///   - maximumScans: reject JPEGs with more scans (progressive "scan bombs"); 0 means no limit.
    public init(maximumDimension: Int = JPEGDecoder.defaultMaximumDimension,
                maximumMemory: Int = 256 << 20, maximumScans: Int = 500) {
        precondition(maximumDimension > 0, "maximumDimension must be positive")
        guard let handle = obscura_jpeg_decoder_create(max(0, maximumMemory), Int32(clamping: maximumScans)) else {
            preconditionFailure("out of memory creating a JPEG decoder")
        }
        self.handle = handle
        self.maximumDimension = maximumDimension
        layouts.reserveCapacity(Self.layoutCacheSize)
    }

    deinit { obscura_jpeg_decoder_destroy(handle) }

    /// Reads the header of `payload` without decoding pixels.
    public func readHeader(_ payload: UnsafeRawBufferPointer) throws(JPEGError) -> JPEGHeader {
        let header = try beginImage(payload)
        obscura_jpeg_decoder_abort(handle)
        return header
    }

    /// Decodes `payload` into `frame`, replacing its layout with the decoded geometry.
    ///
    /// `frame`'s buffer must hold the decoded layout (see `JPEGHeader.frameLayout`), else
    /// `.frameTooSmall`. The frame's sequence and capture time are left as they are. The
    /// payload must not live in `frame`'s own buffer.
    ///
    /// After a failure the frame's pixels are undefined (a decode can fail half-way through):
    /// drop or mask it, never pass it on. Steady state allocates nothing in Swift; libjpeg
    /// mallocs its per-image working memory (2 blocks for YUV, 5 for grey) and frees it at
    /// the end of the image.
    ///
    /// - Returns: the JPEG's header (full, unscaled size).
    @discardableResult
    public func decode(_ payload: UnsafeRawBufferPointer, into frame: inout Frame,
                       scale: JPEGScale = .full, output: JPEGOutput = .yuv) throws(JPEGError) -> JPEGHeader {
        do throws(JPEGError) {
            let header = try decodeImage(payload, into: &frame, scale: scale, output: output)
            recorded.decoded += 1
            return header
        } catch {
            recorded.record(error)
            throw error
        }
    }

    /// Decodes `payload` into a frame taken from `pool`. On failure the buffer goes back to
    /// the pool; `.poolExhausted` when the pool has none free.
    public func decode(_ payload: UnsafeRawBufferPointer, from pool: FramePool,
                       scale: JPEGScale = .full, output: JPEGOutput = .yuv,
                       sequence: UInt64 = 0,
                       captureTime: ContinuousClock.Instant = .now) throws(JPEGError) -> Frame {
        guard var frame = pool.makeFrame(layout: placeholderLayout, sequence: sequence, captureTime: captureTime) else {
            recorded.record(.poolExhausted)
            throw .poolExhausted
        }
        try decode(payload, into: &frame, scale: scale, output: output)
        return frame
    }

    // MARK: Steps

    private func beginImage(_ payload: UnsafeRawBufferPointer) throws(JPEGError) -> JPEGHeader {
        guard let base = payload.baseAddress, payload.count > 0 else { throw .empty }
        var raw = obscura_jpeg_header()
        let status = obscura_jpeg_decoder_read_header(handle, base.assumingMemoryBound(to: UInt8.self), payload.count, &raw)
        guard status == OBSCURA_JPEG_STATUS_OK else { throw error(for: status) }
        return JPEGHeader(raw)
    }

    private func decodeImage(_ payload: UnsafeRawBufferPointer, into frame: inout Frame,
                             scale: JPEGScale, output: JPEGOutput) throws(JPEGError) -> JPEGHeader {
        let header = try beginImage(payload)
        var geometry = obscura_jpeg_output()
        let layout: FrameLayout
        do throws(JPEGError) {
            guard header.width <= maximumDimension, header.height <= maximumDimension else {
                throw .tooLarge(width: header.width, height: header.height, limit: maximumDimension)
            }
            let format = try header.pixelFormat(for: output)
            let status = obscura_jpeg_decoder_prepare(handle, Int32(scale.eighths), output == .gray ? 1 : 0, &geometry)
            guard status == OBSCURA_JPEG_STATUS_OK else { throw error(for: status) }
            layout = self.layout(format: format, width: Int(geometry.width), height: Int(geometry.height))
            try check(layout, against: geometry)
            guard frame.setLayout(layout) else {
                throw .frameTooSmall(needed: layout.byteCount, capacity: frame.buffer.capacity)
            }
        } catch {
            obscura_jpeg_decoder_abort(handle)
            throw error
        }
        frame.payloadSize = 0
        let base = frame.buffer.baseAddress.assumingMemoryBound(to: UInt8.self)
        let luma = layout.planes[0]
        let status: obscura_jpeg_status
        if layout.planes.count >= 3 {
            let blue = layout.planes[1], red = layout.planes[2]
            status = obscura_jpeg_decoder_read_planes(handle, base + luma.offset, luma.stride,
                                                      base + blue.offset, blue.stride, base + red.offset, red.stride)
        } else {
            status = obscura_jpeg_decoder_read_planes(handle, base + luma.offset, luma.stride, nil, 0, nil, 0)
        }
        guard status == OBSCURA_JPEG_STATUS_OK else { throw error(for: status) }
        return header
    }

    /// The shim computes plane sizes from libjpeg's own arithmetic; FrameLayout from the
    /// frame format's. They agree for every supported subsampling and scale, and this check
    /// keeps a disagreement from ever becoming an out-of-bounds write.
    private func check(_ layout: FrameLayout, against geometry: obscura_jpeg_output) throws(JPEGError) {
        let luma = layout.planes[0]
        var agrees = layout.planes.count == Int(geometry.plane_count)
            && luma.width == Int(geometry.luma_width) && luma.height == Int(geometry.luma_height)
        if agrees && layout.planes.count == 3 {
            for plane in layout.planes[1...] {
                agrees = agrees && plane.width == Int(geometry.chroma_width) && plane.height == Int(geometry.chroma_height)
            }
        }
        guard agrees else {
            throw .internalFailure("decoded plane sizes disagree with the \(layout.format) layout at \(layout.width)x\(layout.height)")
        }
    }

    private func layout(format: PixelFormat, width: Int, height: Int) -> FrameLayout {
        for layout in layouts where layout.format == format && layout.width == width && layout.height == height {
            return layout
        }
        let layout = FrameLayout(format: format, width: width, height: height)
        if layouts.count < Self.layoutCacheSize {
            layouts.append(layout)
        } else {
            layouts[nextLayoutSlot] = layout
            nextLayoutSlot = (nextLayoutSlot + 1) % Self.layoutCacheSize
        }
        return layout
    }

    private func error(for status: obscura_jpeg_status) -> JPEGError {
        let message = String(cString: obscura_jpeg_decoder_message(handle))
        return JPEGError(status: status, message: message)
    }
}

extension JPEGError {
    init(status: obscura_jpeg_status, message: String) {
        switch status {
        case OBSCURA_JPEG_STATUS_EMPTY: self = .empty
        case OBSCURA_JPEG_STATUS_NOT_JPEG: self = .notJPEG
        case OBSCURA_JPEG_STATUS_TRUNCATED: self = .truncated
        case OBSCURA_JPEG_STATUS_CORRUPT: self = .corrupt(message: message)
        case OBSCURA_JPEG_STATUS_UNSUPPORTED: self = .unsupported(message)
        case OBSCURA_JPEG_STATUS_LIMIT_EXCEEDED: self = .limitExceeded(message)
        case OBSCURA_JPEG_STATUS_OUTPUT_TOO_SMALL: self = .outputTooSmall(capacity: 0)
        default: self = .internalFailure(message)
        }
    }
}

extension JPEGHeader {
    init(_ raw: obscura_jpeg_header) {
        let colorSpace: JPEGColorSpace = switch raw.color_space {
        case OBSCURA_JPEG_COLOR_GRAYSCALE: .grayscale
        case OBSCURA_JPEG_COLOR_YCBCR: .yCbCr
        case OBSCURA_JPEG_COLOR_RGB: .rgb
        case OBSCURA_JPEG_COLOR_CMYK: .cmyk
        case OBSCURA_JPEG_COLOR_YCCK: .ycck
        default: .unknown
        }
        self.init(width: Int(raw.width), height: Int(raw.height), components: Int(raw.components),
                  colorSpace: colorSpace, subsampling: Self.subsampling(raw), isProgressive: raw.progressive != 0)
    }

    /// Classifies by the ratio of luma to chroma sampling, so that the same subsampling written
    /// with other factors (4:2:2 as Y 2x2 with chroma 1x2) is recognised too.
    private static func subsampling(_ raw: obscura_jpeg_header) -> JPEGSubsampling {
        if raw.components == 1 { return .grayscale }
        guard raw.components == 3,
              raw.blue_horizontal_sampling == raw.red_horizontal_sampling,
              raw.blue_vertical_sampling == raw.red_vertical_sampling,
              raw.blue_horizontal_sampling > 0, raw.blue_vertical_sampling > 0,
              raw.luma_horizontal_sampling % raw.blue_horizontal_sampling == 0,
              raw.luma_vertical_sampling % raw.blue_vertical_sampling == 0 else { return .other }
        switch (raw.luma_horizontal_sampling / raw.blue_horizontal_sampling,
                raw.luma_vertical_sampling / raw.blue_vertical_sampling) {
        case (2, 2): return .yuv420
        case (2, 1): return .yuv422
        case (1, 1): return .yuv444
        default: return .other
        }
    }
}
