// V4L2Camera: a FrameSource over a V4L2 device with mmap streaming. The capture loop follows
// ustreamer's: poll with a timeout, dequeue, check the buffer (error flag, truncated JPEG),
// drain to the newest frame when behind, copy into a pooled Frame and re-queue at once. A lost
// device (ENODEV, EIO) is closed, logged once, and reopened with the same format under a bounded
// exponential backoff while the caller keeps getting answers; the outage shows in the counters.

public import Frames
import Synchronization
#if canImport(Glibc)
internal import Glibc
#endif

/// Counters of one V4L2 camera. Read them while it runs (they are safe to read from any task),
/// report them at the end.
public struct V4L2Counters: Sendable, Equatable, Codable {
    /// Frames handed to the pipeline.
    public var delivered: UInt64 = 0
    /// Buffers taken from the driver, whatever became of them.
    public var dequeued: UInt64 = 0
    /// Good frames passed over because a newer one was waiting (drain to newest).
    public var skipped: UInt64 = 0
    /// Frames the driver never delivered, from gaps in its sequence numbers.
    public var driverDrops: UInt64 = 0
    /// Buffers the driver flagged V4L2_BUF_FLAG_ERROR; discarded.
    public var errorFlagged: UInt64 = 0
    /// MJPEG payloads without SOI at the start or EOI at the end; discarded.
    public var truncatedJPEG: UInt64 = 0
    /// Raw buffers shorter than one image; discarded.
    public var shortFrames: UInt64 = 0
    /// Frames dropped because every pooled frame was still held by the pipeline.
    public var poolExhausted: UInt64 = 0
    /// Times the device was lost (ENODEV, EIO).
    public var deviceLost: UInt64 = 0
    /// Times it was reopened and streaming again.
    public var reconnects: UInt64 = 0
    /// Reopen attempts that failed (the device still absent, or refusing to stream).
    public var reopenFailures: UInt64 = 0
    /// Time without a device in seconds, over all outages including one going on now.
    public var outageSeconds: Double = 0
    /// Time spent from a readable poll to the frame being ready in the pool (dequeue, checks,
    /// copy, re-queue), summed over delivered frames: divide by `delivered` for the per-frame
    /// cost of the capture path.
    public var captureSeconds: Double = 0
    /// Whether the device is lost right now.
    public var isLost: Bool = false
    /// The error that caused the last loss or the last failed reopen.
    public var lastError: String?

    public init() {}

    /// The subset every source reports.
    public var source: SourceCounters {
        var counters = SourceCounters()
        counters.delivered = delivered
        counters.corrupt = errorFlagged &+ truncatedJPEG &+ shortFrames
        counters.poolExhausted = poolExhausted
        counters.skipped = skipped
        counters.deviceLost = deviceLost
        return counters
    }
}

/// What one bounded wait for a frame produced.
public enum V4L2CaptureResult: ~Copyable {
    case frame(Frame)
    /// Nothing arrived within the wait (the device is slow, or every buffer was discarded).
    case noFrame
    /// The device is lost and being reopened; `since` is when it was lost.
    case deviceUnavailable(since: ContinuousClock.Instant)
}

/// A camera on a V4L2 device node.
///
/// `nextFrame()` waits until a frame arrives or `stop()` is called, and keeps waiting through a
/// device loss (reopening in the background of the same call), so a pipeline built on
/// `FrameSource` keeps running. Callers that want to show a placeholder meanwhile use
/// `capture(timeout:)`, which returns after at most `timeout` either way.
public final class V4L2Camera: FrameSource, @unchecked Sendable {
    // @unchecked: the capture state (stream, tracker, outage) is touched only by the one task
    // that calls nextFrame/capture, as FrameSource requires; what other tasks may touch (the
    // counters, the stop flag) sits behind a Mutex and an Atomic.

    public let path: String
    public let options: V4L2Options
    public var name: String { path }
    public private(set) var mode: SourceMode
    /// What the driver granted at open; every reopen asks for exactly this again.
    public let granted: V4L2GrantedFormat

    private var stream: (any V4L2Streaming)?
    /// Opens the device and starts streaming: `V4L2Stream` on a real device, a scripted stream
    /// in the host tests.
    private let openStream: (V4L2FormatProposal?) throws(CaptureError) -> any V4L2Streaming
    private let pool: FramePool
    private let layout: FrameLayout
    private var tracker = V4L2SequenceTracker()
    /// Stream position of the next frame: frames delivered, skipped and dropped all advance it,
    /// so gaps in Frame.sequence show loss.
    private var position: UInt64 = 0
    private var outage: (since: ContinuousClock.Instant, failures: Int, nextAttempt: ContinuousClock.Instant)?
    private var knownControls: [V4L2ControlInfo]?
    private let shared = Mutex(V4L2Counters())
    /// Start of the outage going on now, for counting its time while it lasts.
    private let lostSince = Mutex<ContinuousClock.Instant?>(nil)
    private let stopRequested = Atomic<Bool>(false)
    private let log: @Sendable (String) -> Void

    /// Opens the device, negotiates the format (the options' choices, else chosen from what the
    /// device offers), maps the buffers, sets the options' controls and starts streaming.
    /// Throws when the device is absent or refuses (errors name the call and errno).
    /// `log` receives one line when the device is lost and one when it is back; by default they
    /// go to standard error, so they never mix with a report printed on standard output.
    public convenience init(path: String, options: V4L2Options = V4L2Options(),
                            log: @escaping @Sendable (String) -> Void = logV4L2ToStandardError) throws(CaptureError) {
        try self.init(path: path, options: options, log: log) { proposal throws(CaptureError) in
            try V4L2Stream(path: path, proposal: proposal, options: options)
        }
    }

    init(path: String, options: V4L2Options, log: @escaping @Sendable (String) -> Void,
         openStream: @escaping (V4L2FormatProposal?) throws(CaptureError) -> any V4L2Streaming) throws(CaptureError) {
        self.path = path
        self.openStream = openStream
        self.options = options
        self.log = log
        let proposal: V4L2FormatProposal?
        if let pixelFormat = options.pixelFormat, let width = options.width, let height = options.height {
            proposal = V4L2FormatProposal(pixelFormat: pixelFormat, width: width, height: height, fps: options.fps)
        } else {
            proposal = nil
        }
        let stream = try openStream(proposal)
        let granted = stream.granted
        guard let pixelFormat = granted.pixelFormat.pixelFormat else {
            throw .unsupported(path: path, reason: "granted format \(granted.pixelFormat) cannot be delivered")
        }
        let layout = pixelFormat == .mjpeg
            ? FrameLayout(format: .mjpeg, width: granted.width, height: granted.height, payloadCapacity: granted.sizeImage)
            : FrameLayout(format: pixelFormat, width: granted.width, height: granted.height)
        self.granted = granted
        self.layout = layout
        self.pool = FramePool(count: max(1, options.poolSize), layout: layout)
        self.mode = SourceMode(width: granted.width, height: granted.height, format: pixelFormat, fps: granted.fps)
        self.stream = stream
        try applyControls(stream)
    }

    public var counters: SourceCounters { shared.withLock { $0.source } }

    /// All V4L2 counters, including outage time so far when the device is lost right now.
    public var v4l2Counters: V4L2Counters {
        var counters = shared.withLock { $0 }
        if let since = lostSince.withLock({ $0 }) {
            counters.outageSeconds += seconds(ContinuousClock.now - since)
        }
        return counters
    }

    /// Makes a waiting `nextFrame()` return nil (end of source) within one poll timeout. Safe to
    /// call from any task.
    public func stop() { stopRequested.store(true, ordering: .relaxed) }

    /// Waits for the next frame, through timeouts and device losses, until `stop()` is called.
    public func nextFrame() throws(CaptureError) -> Frame? {
        while !stopRequested.load(ordering: .relaxed) {
            let result = try capture(timeout: options.pollTimeout)
            switch consume result {
            case .frame(let frame): return frame
            case .noFrame: continue
            case .deviceUnavailable: continue
            }
        }
        return nil
    }

    /// Waits at most `timeout` for a frame. Handles a lost device here: closes it, backs off and
    /// reopens it across calls, answering `.deviceUnavailable` meanwhile. Throws only for
    /// conditions a reopen cannot cure (a driver breaking the buffer protocol).
    public func capture(timeout: Duration) throws(CaptureError) -> V4L2CaptureResult {
        let deadline = ContinuousClock.now + timeout
        while true {
            guard let stream else {
                if let since = try reopenIfDue(deadline: deadline) { return .deviceUnavailable(since: since) }
                continue
            }
            let remaining = deadline - ContinuousClock.now
            let milliseconds = max(0, Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000))
            do {
                switch try stream.waitForFrame(timeoutMilliseconds: milliseconds) {
                case .timedOut:
                    return .noFrame
                case .readable, .failed:
                    // On failure DQBUF reports the reason (EIO, ENODEV), handled below.
                    if let frame = try takeNewest(stream) { return .frame(frame) }
                    if ContinuousClock.now >= deadline { return .noFrame }
                }
            } catch {
                guard case let .system(call, _, code) = error, isDeviceLoss(code) else { throw error }
                lose(reason: "\(call) failed: \(errnoDescription(code)) (errno \(code))")
                if ContinuousClock.now >= deadline { return .deviceUnavailable(since: outage?.since ?? .now) }
            }
        }
    }

    /// Dequeues every waiting buffer, keeps the newest good one (re-queuing the rest at once),
    /// copies it into a pooled frame and re-queues it.
    private func takeNewest(_ stream: any V4L2Streaming) throws(CaptureError) -> Frame? {
        let started = ContinuousClock.now
        var newest: V4L2DequeuedBuffer?
        var tally = V4L2Counters()
        defer {
            var tally = tally
            if tally.delivered > 0 { tally.captureSeconds = seconds(ContinuousClock.now - started) }
            shared.withLock { counters in
                counters.captureSeconds += tally.captureSeconds
                counters.dequeued &+= tally.dequeued
                counters.skipped &+= tally.skipped
                counters.driverDrops &+= tally.driverDrops
                counters.errorFlagged &+= tally.errorFlagged
                counters.truncatedJPEG &+= tally.truncatedJPEG
                counters.shortFrames &+= tally.shortFrames
                counters.poolExhausted &+= tally.poolExhausted
                counters.delivered &+= tally.delivered
            }
        }
        do {
            while let buffer = try stream.dequeue() {
                tally.dequeued &+= 1
                let gap = tracker.record(buffer.sequence)
                tally.driverDrops &+= gap
                position &+= gap
                let bufferPosition = position
                position &+= 1
                if let problem = check(buffer, in: stream) {
                    switch problem {
                    case .errorFlag: tally.errorFlagged &+= 1
                    case .truncatedJPEG: tally.truncatedJPEG &+= 1
                    case .short: tally.shortFrames &+= 1
                    }
                    try stream.requeue(buffer.index)
                    continue
                }
                if let older = newest {
                    tally.skipped &+= 1
                    try stream.requeue(older.index)
                }
                newest = buffer
                newestPosition = bufferPosition
                if !options.drainToNewest { break }
            }
        } catch {
            // The kept buffer is lost with the stream; nothing to hand back.
            throw error
        }
        guard let buffer = newest else { return nil }
        // The frame is stamped on the ContinuousClock rather than with the buffer's timestamp:
        // V4L2 stamps with CLOCK_MONOTONIC, which Swift's clocks on Linux do not expose as an
        // Instant, and the pipeline's budget is measured on ContinuousClock.
        let captureTime = ContinuousClock.now
        var delivered: Frame? = nil
        if var frame = pool.makeFrame(layout: layout, sequence: newestPosition, captureTime: captureTime) {
            let bytes = stream.bytes(of: buffer)
            let copied = layout.format == .mjpeg ? frame.setPayload(bytes)
                                                 : copyV4L2Image(from: bytes, format: granted, into: &frame)
            if copied {
                tally.delivered &+= 1
                delivered = consume frame
            } else {
                tally.shortFrames &+= 1
            }
        } else {
            tally.poolExhausted &+= 1
        }
        try stream.requeue(buffer.index)
        return delivered
    }

    private var newestPosition: UInt64 = 0

    private enum BufferProblem { case errorFlag, truncatedJPEG, short }

    private func check(_ buffer: V4L2DequeuedBuffer, in stream: any V4L2Streaming) -> BufferProblem? {
        if buffer.hasErrorFlag { return .errorFlag }
        if layout.format == .mjpeg {
            return isCompleteJPEG(stream.bytes(of: buffer)) ? nil : .truncatedJPEG
        }
        let needed = v4l2ImageBytes(granted.pixelFormat, bytesPerLine: granted.bytesPerLine, height: granted.height)
        // Some drivers leave bytesused at 0 for raw formats; the buffer length is then the size.
        if buffer.bytesUsed != 0 && buffer.bytesUsed < needed { return .short }
        return nil
    }

    /// Closes the device and starts an outage; logged once per outage.
    private func lose(reason: String) {
        stream = nil
        tracker.reset()
        let now = ContinuousClock.now
        outage = (since: now, failures: 0, nextAttempt: now + options.backoff.delay(afterFailures: 0))
        lostSince.withLock { $0 = now }
        shared.withLock { counters in
            counters.deviceLost &+= 1
            counters.isLost = true
            counters.lastError = reason
        }
        log("\(path): device lost: \(reason); reopening with backoff (\(options.backoff.initial) doubling to \(options.backoff.maximum))")
    }

    /// During an outage: sleeps until the next attempt or the deadline, whichever is first, and
    /// tries to reopen when due. Returns the outage start when the deadline came first or the
    /// attempt failed, nil once streaming again.
    private func reopenIfDue(deadline: ContinuousClock.Instant) throws(CaptureError) -> ContinuousClock.Instant? {
        guard var current = outage else {
            // No stream and no outage cannot happen after init; treat it as a fresh loss.
            lose(reason: "no stream")
            return outage?.since
        }
        let now = ContinuousClock.now
        if now < current.nextAttempt {
            if deadline <= now { return current.since }
            sleepFor(min(current.nextAttempt, deadline) - now)
            if ContinuousClock.now < current.nextAttempt { return current.since }
        }
        let proposal = V4L2FormatProposal(pixelFormat: granted.pixelFormat, width: granted.width, height: granted.height,
                                          fps: granted.fps > 0 ? granted.fps : nil)
        do throws(CaptureError) {
            let reopened = try openStream(proposal)
            let again = reopened.granted
            guard again.pixelFormat == granted.pixelFormat, again.width == granted.width, again.height == granted.height,
                  again.bytesPerLine == granted.bytesPerLine else {
                throw CaptureError.unsupported(path: path, reason: "came back as \(again.pixelFormat) \(again.width)x\(again.height), not \(granted.pixelFormat) \(granted.width)x\(granted.height)")
            }
            try applyControls(reopened)
            stream = reopened
            outage = nil
            let lost = ContinuousClock.now - current.since
            lostSince.withLock { $0 = nil }
            shared.withLock { counters in
                counters.reconnects &+= 1
                counters.outageSeconds += seconds(lost)
                counters.isLost = false
            }
            log("\(path): device back after \(lost) and \(current.failures) failed attempt(s); streaming \(mode)")
            return nil
        } catch {
            current.failures += 1
            current.nextAttempt = ContinuousClock.now + options.backoff.delay(afterFailures: current.failures)
            outage = current
            shared.withLock { counters in
                counters.reopenFailures &+= 1
                counters.lastError = error.description
            }
            return current.since
        }
    }

    private func applyControls(_ stream: any V4L2Streaming) throws(CaptureError) {
        guard !options.controls.isEmpty else { return }
        if knownControls == nil { knownControls = try stream.listControls() }
        for setting in options.controls {
            _ = try stream.setControl(named: setting.name, to: setting.value, known: knownControls)
        }
    }

    // MARK: Controls on the open device

    /// The device's controls with their current values. Throws while the device is lost.
    public func controls() throws(CaptureError) -> [V4L2ControlInfo] {
        try requireStream().listControls()
    }

    /// The current value of a control, by name or alias ("exposure", "white_balance").
    public func controlValue(named name: String) throws(CaptureError) -> Int64 {
        let stream = try requireStream()
        let controls = try stream.listControls()
        guard let control = findV4L2Control(named: name, in: controls) else {
            throw .unsupported(path: path, reason: "no control named '\(name)'; this device has: \(controls.map(\.key).joined(separator: ", "))")
        }
        return try stream.readControl(id: control.id)
    }

    /// Sets a control by name or alias from text; returns the value the driver holds afterwards
    /// (nil for buttons). Call it from the capturing task, like nextFrame.
    @discardableResult
    public func setControl(named name: String, to value: String) throws(CaptureError) -> Int64? {
        let stream = try requireStream()
        if knownControls == nil { knownControls = try stream.listControls() }
        return try stream.setControl(named: name, to: value, known: knownControls)
    }

    private func requireStream() throws(CaptureError) -> any V4L2Streaming {
        // While the device is lost there is no descriptor to ask; say so as the kernel would.
        guard let stream else { throw .system(call: "open", path: path, errno: ENODEV) }
        return stream
    }
}

private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// The default sink for a camera's loss and recovery lines: standard error, one write per line.
@Sendable public func logV4L2ToStandardError(_ line: String) {
    let text = line + "\n"
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
}
