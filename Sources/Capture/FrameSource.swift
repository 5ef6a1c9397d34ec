// The FrameSource protocol every camera implements (V4L2, MJPEG/Y4M files, image folders, the
// built-in pattern), the errors they raise and the counters they keep.

public import Frames

/// What a source produces: the size, pixel format and nominal rate of its frames.
public struct SourceMode: Sendable, Equatable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public var format: PixelFormat
    /// Nominal frames per second; the rate a paced source delivers at.
    public var fps: Double

    public init(width: Int, height: Int, format: PixelFormat, fps: Double) {
        self.width = width
        self.height = height
        self.format = format
        self.fps = fps
    }

    public var description: String {
        "\(width)x\(height) \(format) @ \(fps.formatted(maxFractionDigits: 3)) fps"
    }
}

/// Whether a source waits for each frame's due time or hands frames out as fast as asked.
public enum Pacing: String, Sendable, Equatable {
    /// Deliver frames at the nominal rate against the monotonic clock, as a real camera would.
    case nominal
    /// Deliver frames as fast as the consumer asks (benchmarks).
    case freeRunning = "free"
    /// As `nominal`, but keep the waiting thread's CPU busy until a frame is due instead of
    /// sleeping. For emulating a board on a host that slows down while idle: on this project's
    /// VM host every stage of a run paced at 10 fps took about a quarter longer than free-running
    /// (detect p50 18.5-20.7 against 15.1-15.8 ms on the sample footage), so the emulated board
    /// missed its budget more and left several times more of the frame unexamined than the
    /// board's cost factors say. Costs one busy core for the run.
    case nominalBusy = "busy"

    /// Whether frames come at the camera's rate (sleeping or busy-waiting between them).
    public var isPaced: Bool { self != .freeRunning }
}

/// Counters every source keeps. Read them while it runs, report them at the end.
public struct SourceCounters: Sendable, Equatable {
    /// Frames handed to the pipeline.
    public var delivered: UInt64 = 0
    /// Frames read but discarded because they were malformed (bad JPEG markers, short Y4M frame).
    public var corrupt: UInt64 = 0
    /// Frames the source could not deliver because every pool buffer was still in use.
    public var poolExhausted: UInt64 = 0
    /// Frames skipped to catch up with the clock or the newest frame.
    public var skipped: UInt64 = 0
    /// Times a file-backed source wrapped around to its start.
    public var loops: UInt64 = 0
    /// Times a device was lost (V4L2).
    public var deviceLost: UInt64 = 0

    public init() {}
}

/// Errors a source raises. Each names the file or device and what is wrong with it.
public enum CaptureError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A camera spec on the command line or in the config could not be understood.
    case invalidSpec(spec: String, reason: String)
    /// The file or folder does not exist.
    case notFound(path: String)
    /// A system call failed (open, read, ioctl...) with an errno.
    case system(call: String, path: String, errno: Int32)
    /// The file's header is malformed; `location` says where (byte offset, line or frame).
    case badHeader(path: String, location: String, reason: String)
    /// The file is readable but not in a format this source can deliver.
    case unsupported(path: String, reason: String)
    /// The source ended without producing a single usable frame.
    case empty(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidSpec(spec, reason):
            "invalid camera spec '\(spec)': \(reason)"
        case let .notFound(path):
            "\(path): no such file or folder"
        case let .system(call, path, errno):
            "\(path): \(call) failed: \(errnoDescription(errno)) (errno \(errno))"
        case let .badHeader(path, location, reason):
            "\(path): bad header at \(location): \(reason)"
        case let .unsupported(path, reason):
            "\(path): unsupported: \(reason)"
        case let .empty(path, reason):
            "\(path): no usable frame: \(reason)"
        }
    }
}

/// A camera: something that yields frames one after another.
///
/// Sources own a `FramePool` sized at creation; a delivered frame returns its buffer when the
/// pipeline drops it. Sources are used from one task at a time.
public protocol FrameSource: AnyObject {
    /// The spec the source was opened from, for logs and reports.
    var name: String { get }
    /// What the source delivers.
    var mode: SourceMode { get }
    /// Counters so far.
    var counters: SourceCounters { get }
    /// Returns the next frame, waiting for its due time when paced. Returns `nil` at the end of
    /// a non-looping source. Malformed frames are counted and skipped, not thrown; errors are
    /// for conditions that stop the source (a file vanished, a device that will not reopen).
    func nextFrame() throws(CaptureError) -> Frame?
}

extension Double {
    func formatted(maxFractionDigits digits: Int) -> String {
        if self == rounded() { return String(Int(self)) }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let value = (self * scale).rounded() / scale
        return String(value)
    }
}
