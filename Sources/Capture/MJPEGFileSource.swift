// The MJPEG file camera: a file of concatenated JPEGs played as `.mjpeg` payload frames (the
// pipeline decodes), split by marker structure, with malformed stretches counted and skipped.

public import Frames

/// Plays a stream of concatenated JPEGs (`ffmpeg -f mjpeg`, a camera's MJPEG dump, or a single
/// `.jpg`).
///
/// The size in `mode` comes from the first good frame's SOF marker; frames of another size, with
/// broken marker structure, cut short, or larger than a pool buffer are counted in
/// `counters.corrupt`, described in `lastDefect` (with the byte offset, for logs) and skipped.
public final class MJPEGFileSource: FrameSource {
    public let name: String
    public let mode: SourceMode
    public private(set) var counters = SourceCounters()
    /// The frames' buffers; `available` is back to `count` once the pipeline drops every frame.
    public let pool: FramePool
    public let path: String
    public let loops: Bool
    /// The most recent skipped stretch of the file, for logs.
    public private(set) var lastDefect: JPEGStreamDefect?

    private let reader: BufferedFileReader
    private var splitter = JPEGStreamSplitter()
    private var pacer: FramePacer
    private let layout: FrameLayout
    private var nextSequence: UInt64 = 0
    private var deliveredThisPass = 0

    /// Opens the file and reads up to its first good frame to learn the size.
    ///
    /// - Parameters:
    ///   - fps: the nominal rate; MJPEG files carry none (default `CameraSpec.defaultFileFPS`).
    ///   - maxFrameBytes: the pool's buffer size; default 3 bytes per pixel of the first
    ///     frame (at least 64 KiB), well above any sane JPEG of that size.
    public init(path: String, fps: Double = CameraSpec.defaultFileFPS, loop: Bool = false,
                pacing: Pacing = .nominal, poolSize: Int = 4, maxFrameBytes: Int? = nil,
                name: String? = nil) throws(CaptureError) {
        precondition(poolSize > 0, "a source needs at least one buffer")
        self.path = path
        self.name = name ?? "file:\(path)"
        self.loops = loop
        reader = try BufferedFileReader(path: path)

        // Find the first frame that parses; only its size is kept.
        var probe = JPEGStreamSplitter()
        var size: (width: Int, height: Int)? = nil
        probing: while true {
            switch try probe.next(from: reader, into: UnsafeMutableRawBufferPointer(start: nil, count: 0)) {
            case let .frame(_, _, width, height):
                size = (width, height)
                break probing
            case .defect:
                continue
            case .end:
                break probing
            }
        }
        guard let size else {
            throw .empty(path: path, reason: "no complete JPEG (SOI ... SOF ... SOS ... EOI) in the file")
        }
        try reader.seek(to: 0)

        let capacity = maxFrameBytes ?? max(64 * 1024, size.width * size.height * 3)
        layout = FrameLayout(format: .mjpeg, width: size.width, height: size.height, payloadCapacity: capacity)
        pool = FramePool(count: poolSize, layout: layout)
        mode = SourceMode(width: size.width, height: size.height, format: .mjpeg, fps: fps)
        pacer = FramePacer(pacing: pacing, fps: fps)
    }

    public func nextFrame() throws(CaptureError) -> Frame? {
        var frame = try pool.waitForFrame(layout: layout, sequence: nextSequence, counters: &counters, name: name)
        let destination = frame.planeBytes(0)
        while true {
            switch try splitter.next(from: reader, into: destination) {
            case let .frame(offset, byteCount, width, height):
                if byteCount > destination.count {
                    record(JPEGStreamDefect(offset: offset, kind: .tooLarge(byteCount: byteCount, capacity: destination.count)))
                    continue
                }
                if width != mode.width || height != mode.height {
                    record(JPEGStreamDefect(offset: offset, kind: .sizeMismatch(width: width, height: height)))
                    continue
                }
                frame.payloadSize = byteCount
                deliveredThisPass &+= 1
                return deliver(frame)
            case let .defect(defect):
                record(defect)
            case .end:
                // A looping file with no good frame in a whole pass would spin for ever.
                guard loops, deliveredThisPass > 0 else { return nil }
                try reader.seek(to: 0)
                splitter = JPEGStreamSplitter()
                deliveredThisPass = 0
                counters.loops &+= 1
            }
        }
    }

    private func record(_ defect: JPEGStreamDefect) {
        counters.corrupt &+= 1
        lastDefect = defect
    }

    private func deliver(_ frame: consuming Frame) -> Frame {
        counters.skipped &+= pacer.waitForNextFrame()
        frame.sequence = nextSequence
        frame.captureTime = .now
        nextSequence &+= 1
        counters.delivered &+= 1
        return frame
    }
}
