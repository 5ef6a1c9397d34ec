// Y4MWriter: redacted frames as an uncompressed YUV4MPEG2 stream (what Capture's Y4MFileSource,
// ffmpeg, x264 and most tools read): lossless, so tests and tools can compare pixels exactly.
//
// The stream header is written with the first frame (its size and format set the stream's):
// `YUV4MPEG2 W<width> H<height> F<num>:<den> Ip A1:1 C<colour> XCOLORRANGE=FULL`, where the
// colour tag is `C420jpeg` for I420 (and NV12, converted), `C422` for I422 (and YUYV,
// converted) and `Cmono` for GRAY8; the samples are full-range BT.601 as everywhere in Obscura.
// Each frame is `FRAME\n` and the planes row by row without padding, written with one write(2),
// whole or cut back off (see AppendOnlyFile), so a failed write leaves a stream of whole frames.

import Frames
public import Redaction

/// Writes redacted frames to a YUV4MPEG2 file at a fixed frame rate.
///
/// Every frame must have the first frame's size and planar format (NV12 counts as I420, YUYV as
/// I422). Compressed frames cannot be written (they have no raw pixels here); one the redactor
/// dropped whole is left out and counted in `droppedFrames`. The file is created (or truncated)
/// with mode 0640.
public final class Y4MWriter: RedactedSink {
    public let name = "y4m"
    public let path: String
    /// The `F` tag: frames per second as a fraction.
    public let frameRateNumerator: Int
    public let frameRateDenominator: Int
    public private(set) var statistics = SinkCounters()
    public private(set) var lastError: SinkError?
    public var counters: [String: UInt64] { statistics.dictionary }

    private let file: AppendOnlyFile
    private let converter = PlanarConverter()
    private let record = ScratchBuffer()
    /// The stream's format and size, set by the first frame written.
    private var stream: (format: PixelFormat, width: Int, height: Int)?
    private var isClosed = false

    /// Creates (or truncates) the file.
    ///
    /// - Parameter fps: the frame rate written in the header: a whole number, an NTSC-style rate
    ///   (29.97 becomes 30000:1001) or any other positive rate to a thousandth.
    /// - Throws: `SinkError` for a rate that is not positive and finite, or a file that cannot
    ///   be created, naming the file and errno.
    public init(path: String, fps: Double) throws(SinkError) {
        guard let ratio = frameRateRatio(fps) else {
            throw SinkError(path: path, reason: "the frame rate must be a positive number of frames per second, got \(fps)")
        }
        self.path = path
        (frameRateNumerator, frameRateDenominator) = ratio
        file = try AppendOnlyFile(path: path)
    }

    public func write(_ frame: borrowing RedactedFrame) throws(SinkError) {
        do throws(SinkError) {
            try writeFrame(frame)
        } catch {
            statistics.errors &+= 1
            lastError = error
            throw error
        }
    }

    private func writeFrame(_ frame: borrowing RedactedFrame) throws(SinkError) {
        guard !isClosed else { throw SinkError(path: path, reason: "the stream is closed") }
        if frame.format == .mjpeg && frame.payload.isEmpty {
            statistics.droppedFrames &+= 1
            return
        }
        let pixels = try converter.planar(frame, path: path)
        let layout = pixels.layout
        if let stream, stream.format != layout.format || stream.width != layout.width || stream.height != layout.height {
            throw SinkError(path: path, reason: "frame \(frame.sequence) is \(layout.width)x\(layout.height) \(layout.format) "
                + "but the stream is \(stream.width)x\(stream.height) \(stream.format); start a new file for a new mode")
        }
        var pixelBytes = 0
        for plane in layout.planes { pixelBytes += plane.rowBytes * plane.height }
        let headerCapacity = stream == nil ? 128 : 0
        let memory = record.reserve(headerCapacity + 6 + pixelBytes)
        var text = ASCIIWriter(memory)
        if stream == nil {
            text.text("YUV4MPEG2 W")
            text.number(UInt64(layout.width))
            text.text(" H")
            text.number(UInt64(layout.height))
            text.text(" F")
            text.number(UInt64(frameRateNumerator))
            text.text(":")
            text.number(UInt64(frameRateDenominator))
            text.text(" Ip A1:1 ")
            switch layout.format {
            case .i422: text.text("C422")
            case .gray8: text.text("Cmono")
            default: text.text("C420jpeg")
            }
            text.text(" XCOLORRANGE=FULL\n")
        }
        text.text("FRAME\n")
        guard let base = memory.baseAddress, let source = pixels.bytes.baseAddress else { return }
        var position = text.count
        for plane in layout.planes {
            for row in 0..<plane.height {
                (base + position).copyMemory(from: source + plane.offset + row * plane.stride, byteCount: plane.rowBytes)
                position += plane.rowBytes
            }
        }
        try file.append(UnsafeRawBufferPointer(rebasing: memory[0..<position]))
        stream = (layout.format, layout.width, layout.height)
        statistics.framesWritten &+= 1
        statistics.bytesWritten &+= UInt64(position)
        statistics.bufferAllocations = record.allocations &+ converter.allocations
    }

    /// Syncs the file to the disk and closes it; later writes fail. Closing twice does nothing.
    public func close() throws(SinkError) {
        guard !isClosed else { return }
        isClosed = true
        do throws(SinkError) {
            try file.close(sync: true)
        } catch {
            statistics.errors &+= 1
            lastError = error
            throw error
        }
    }
}

/// `fps` as the fraction a Y4M `F` tag needs, or `nil` when it is not positive and finite.
func frameRateRatio(_ fps: Double) -> (Int, Int)? {
    guard fps.isFinite, fps > 0, fps <= 1_000_000 else { return nil }
    if fps == fps.rounded() { return (Int(fps), 1) }
    // 29.97 and 23.976 are the usual spellings of 30000/1001 and 24000/1001.
    let ntsc = fps * 1001 / 1000
    if abs(ntsc - ntsc.rounded()) < 5e-4, ntsc.rounded() > 0 { return (Int(ntsc.rounded()) * 1000, 1001) }
    var numerator = Int((fps * 1000).rounded()), denominator = 1000
    guard numerator > 0 else { return nil }
    var a = numerator, b = denominator
    while b != 0 { (a, b) = (b, a % b) }
    numerator /= a
    denominator /= a
    return (numerator, denominator)
}
