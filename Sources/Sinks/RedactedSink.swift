// Sinks: where redacted frames go (a redacted MJPEG stream, snapshots, and later the clip store
// and the live stream). A sink's only input type is RedactedFrame, which only the Redaction
// module can make, so no code path hands a raw Frame to a file, a socket or a log
// (DESIGN.md, invariant 2).
public import Redaction

/// Why a sink could not write: the path and what went wrong, for the user.
public struct SinkError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var reason: String
    /// The errno of the failed system call, when one failed (ENOSPC lets a caller free space;
    /// the text is in `reason` either way).
    public var errno: Int32?

    public init(path: String, reason: String, errno: Int32? = nil) {
        self.path = path
        self.reason = reason
        self.errno = errno
    }

    public var description: String { "\(path): \(reason)" }
}

/// A destination for redacted frames. Not thread-safe: one sink belongs to one pipeline.
public protocol RedactedSink: AnyObject {
    /// Short name for reports and counters, e.g. "mjpeg".
    var name: String { get }
    /// Writes (or, for a sampling sink such as snapshots, considers) one frame.
    func write(_ frame: borrowing RedactedFrame) throws(SinkError)
    /// Flushes and closes; later writes fail.
    func close() throws(SinkError)
    /// Counters by name, for reports.
    var counters: [String: UInt64] { get }
}
