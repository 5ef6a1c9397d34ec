// MJPEGStreamWriter: redacted frames as a stream of concatenated JPEGs (what Capture's
// MJPEGFileSource, ffmpeg `-f mjpeg` and most players read), with a frame index beside it.
//
// The index file, PATH.index, is ASCII text, one record per line, each line ending in LF:
//
//     obscura-mjpeg-index 1
//     OFFSET LENGTH SEQUENCE CAPTURE_MS
//     ...
//
// The first line names the format and its version. Each further line is one frame of the stream,
// in stream order: four decimal integers separated by one space: the byte offset of the frame's
// JPEG in the stream file, its length in bytes, the frame's sequence number, and its capture
// time in whole milliseconds after the first written frame's capture time (truncated toward
// zero; negative only if a later frame was captured earlier). Nothing else is recorded.
//
// Each frame is written whole or not at all: the JPEG with one write(2) (retried for EINTR and
// short writes), then its index line. When a write fails part-way (ENOSPC, EIO), the bytes of the
// failed frame are cut back off with ftruncate, and a JPEG whose index line could not be written
// is cut off too, so the stream and the index stay whole frames that agree. If the cut itself
// fails (the error says so), the stream ends in one truncated JPEG that readers skip and the
// index does not list. The error is thrown as a SinkError naming the file and errno, counted,
// and the writer stays usable: the next frame is tried again (a full disk may get space back).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Codec
import Frames
public import Redaction

/// One line of an MJPEG stream's index.
public struct MJPEGIndexEntry: Sendable, Equatable {
    /// Byte offset of the frame's JPEG in the stream file.
    public var offset: Int64
    /// Length of the JPEG in bytes.
    public var length: Int64
    /// The frame's sequence number.
    public var sequence: UInt64
    /// Capture time after the first written frame's, in whole milliseconds.
    public var captureMilliseconds: Int64

    public init(offset: Int64, length: Int64, sequence: UInt64, captureMilliseconds: Int64) {
        self.offset = offset
        self.length = length
        self.sequence = sequence
        self.captureMilliseconds = captureMilliseconds
    }
}

/// Writes redacted frames as concatenated JPEGs to `path`, and the index to `path.index`.
///
/// Raw frames (I420, I422, GRAY8, and NV12 or YUYV after conversion to I420 or I422) are encoded
/// at `quality` into one output buffer reused for every frame; compressed frames redacted in the
/// coefficient domain are written as they are. A compressed frame the redactor dropped whole has
/// no payload and is left out (counted in `droppedFrames`). Every frame must have the first
/// frame's size, so the stream stays playable by a reader that fixes its size at the start.
///
/// Both files are created (or truncated) with mode 0640.
public final class MJPEGStreamWriter: RedactedSink {
    public let name = "mjpeg"
    public let path: String
    public let indexPath: String
    public let quality: Int
    public private(set) var statistics = SinkCounters()
    /// The most recent error, for logs.
    public private(set) var lastError: SinkError?
    public var counters: [String: UInt64] { statistics.dictionary }

    /// The first line of every index file.
    public static let indexHeader = "obscura-mjpeg-index 1"

    // Internal (not private) so tests can script write failures on them.
    let stream: AppendOnlyFile
    let index: AppendOnlyFile
    private let encoder = JPEGEncoder()
    private let converter = PlanarConverter()
    private let output = ScratchBuffer()
    /// One index line: four numbers of at most 20 digits and a sign, spaces and a newline.
    private let line = UnsafeMutableRawBufferPointer.allocate(byteCount: 96, alignment: 8)
    private var firstCaptureTime: ContinuousClock.Instant?
    private var size: (width: Int, height: Int)?
    private var isClosed = false

    /// Creates (or truncates) the stream and its index.
    ///
    /// - Parameter quality: JPEG quality for raw frames, 1...100.
    /// - Throws: `SinkError` when the quality is out of range or either file cannot be created
    ///   (missing folder, no permission, read-only file system), naming the file and errno.
    public init(path: String, quality: Int = 85) throws(SinkError) {
        guard (1...100).contains(quality) else {
            throw SinkError(path: path, reason: "JPEG quality must be 1...100, got \(quality)")
        }
        self.path = path
        self.indexPath = path + ".index"
        self.quality = quality
        stream = try AppendOnlyFile(path: path)
        index = try AppendOnlyFile(path: indexPath)
        var header = ASCIIWriter(line)
        header.text("obscura-mjpeg-index 1\n")  // indexHeader and a newline
        try index.append(header.written)
        statistics.bytesWritten = UInt64(index.length)
    }

    deinit { line.deallocate() }

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
        if let size, size.width != frame.width || size.height != frame.height {
            throw SinkError(path: path, reason: "frame \(frame.sequence) is \(frame.width)x\(frame.height) but the stream "
                + "is \(size.width)x\(size.height); start a new stream for a new size")
        }
        let jpeg: UnsafeRawBufferPointer
        if frame.format == .mjpeg {
            let payload = frame.payload
            guard payload.count >= 4, payload[0] == 0xFF, payload[1] == 0xD8 else {
                throw SinkError(path: path, reason: "frame \(frame.sequence)'s compressed payload does not start with a JPEG SOI marker")
            }
            jpeg = payload
        } else {
            let pixels = try converter.planar(frame, path: path)
            let capacity = JPEGEncoder.maximumEncodedSize(width: pixels.layout.width, height: pixels.layout.height,
                                                          format: pixels.layout.format)
            let buffer = output.reserve(capacity)
            let written: Int
            do {
                written = try encoder.encode(layout: pixels.layout, bytes: pixels.bytes, quality: quality, into: buffer)
            } catch {
                throw SinkError(path: path, reason: "JPEG encode of frame \(frame.sequence) failed: \(error)")
            }
            jpeg = UnsafeRawBufferPointer(rebasing: buffer[0..<written])
        }

        let offset = stream.length
        try stream.append(jpeg)
        let first = firstCaptureTime ?? frame.captureTime
        var text = ASCIIWriter(line)
        text.number(Int64(offset))
        text.byte(0x20)
        text.number(Int64(jpeg.count))
        text.byte(0x20)
        text.number(frame.sequence)
        text.byte(0x20)
        text.number(milliseconds(frame.captureTime - first))
        text.byte(0x0A)
        do {
            try index.append(text.written)
        } catch {
            let note = stream.removeLast(jpeg.count)
            throw SinkError(path: error.path, reason: error.reason + "; the frame's JPEG in \(path): " + note, errno: error.errno)
        }
        firstCaptureTime = first
        size = (frame.width, frame.height)
        statistics.framesWritten &+= 1
        statistics.bytesWritten &+= UInt64(jpeg.count + text.count)
        statistics.bufferAllocations = output.allocations &+ converter.allocations
    }

    /// Syncs both files to the disk and closes them; later writes fail. Closing twice does nothing.
    public func close() throws(SinkError) {
        guard !isClosed else { return }
        isClosed = true
        do throws(SinkError) {
            var failure: SinkError?
            do { try stream.close(sync: true) } catch { failure = error }
            do { try index.close(sync: true) } catch { failure = failure ?? error }
            if let failure { throw failure }
        } catch {
            statistics.errors &+= 1
            lastError = error
            throw error
        }
    }

    // MARK: - Reading the index

    /// Reads an index written by this writer.
    /// - Throws: `SinkError` naming the line when the file is not such an index.
    public static func readIndex(path: String) throws(SinkError) -> [MJPEGIndexEntry] {
        let bytes = try readWholeFile(path)
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        guard let first = lines.first, String(decoding: first, as: UTF8.self) == indexHeader else {
            throw SinkError(path: path, reason: "line 1: expected '\(indexHeader)'; not an Obscura MJPEG index")
        }
        var entries: [MJPEGIndexEntry] = []
        for (number, line) in lines.enumerated().dropFirst() {
            if line.isEmpty && number == lines.count - 1 { break }
            let fields = line.split(separator: 0x20, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            guard fields.count == 4, let offset = Int64(fields[0]), let length = Int64(fields[1]),
                  let sequence = UInt64(fields[2]), let milliseconds = Int64(fields[3]), offset >= 0, length > 0 else {
                throw SinkError(path: path, reason: "line \(number + 1): expected 'OFFSET LENGTH SEQUENCE CAPTURE_MS', "
                    + "found '\(String(decoding: line.prefix(80), as: UTF8.self))'")
            }
            entries.append(MJPEGIndexEntry(offset: offset, length: length, sequence: sequence, captureMilliseconds: milliseconds))
        }
        return entries
    }
}

/// A duration in whole milliseconds, truncated toward zero.
func milliseconds(_ duration: Duration) -> Int64 {
    let parts = duration.components
    return parts.seconds &* 1000 &+ parts.attoseconds / 1_000_000_000_000_000
}

/// Reads a small file (an index) whole.
func readWholeFile(_ path: String) throws(SinkError) -> [UInt8] {
    var descriptor: Int32
    repeat { descriptor = open(path, O_RDONLY | O_CLOEXEC) } while descriptor < 0 && errno == EINTR
    guard descriptor >= 0 else { throw .system("open", path: path, errno: errno) }
    defer { _ = closeDescriptor(descriptor) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw .system("read", path: path, errno: errno)
        }
        if count == 0 { return result }
        result.append(contentsOf: chunk[0..<count])
    }
}
