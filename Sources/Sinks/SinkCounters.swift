// The counters every file sink keeps, and their names in reports.

/// What a sink has done so far. Every error a sink throws is also counted here, so a caller that
/// logs only now and then still sees how many frames were lost.
public struct SinkCounters: Sendable, Equatable {
    /// Frames (or snapshots, or stills) written whole.
    public var framesWritten: UInt64 = 0
    /// Bytes that reached files: frames, headers and index lines.
    public var bytesWritten: UInt64 = 0
    /// Frames not written because of an error (a failed write, open or rename, an encode
    /// failure, a frame whose size or format does not fit the stream); each was thrown.
    public var errors: UInt64 = 0
    /// Compressed frames the redactor dropped whole (empty payload, `wholeFrameMasked`): there is
    /// nothing to write, so they are left out (an index shows the gap in sequence numbers).
    public var droppedFrames: UInt64 = 0
    /// Frames a sampling sink looked at but did not write because none was due (snapshots).
    public var framesNotDue: UInt64 = 0
    /// Old files deleted to keep the newest (snapshots).
    public var filesDeleted: UInt64 = 0
    /// Times the sink allocated frame-sized memory: once per larger frame size, so a number that
    /// grows with the frames written would mean allocation per frame.
    public var bufferAllocations: UInt64 = 0

    public init() {}

    /// By name, as `RedactedSink.counters` reports them.
    public var dictionary: [String: UInt64] {
        ["framesWritten": framesWritten, "bytesWritten": bytesWritten, "errors": errors,
         "droppedFrames": droppedFrames, "framesNotDue": framesNotDue, "filesDeleted": filesDeleted,
         "bufferAllocations": bufferAllocations]
    }
}
