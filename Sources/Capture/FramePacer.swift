// Pacing for the virtual cameras: frame due times on ContinuousClock scheduled from the start,
// skipping forward (and counting) when the consumer is late, plus the blocking sleep and the
// wait-for-a-free-buffer helper every source shares.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Frames

/// Decides when each frame is due.
///
/// Frame `k` is due at `start + k * interval`, where `start` is when the first frame was
/// delivered: the schedule never drifts with the time spent sleeping or reading. A consumer that
/// falls behind by more than one interval does not get a burst of frames to catch up: the due
/// time jumps forward past the missed slots, which are counted as skipped. (File content is not
/// skipped: the next frame in the file is delivered, late slots just are not replayed.)
public struct FramePacer: Sendable {
    public let pacing: Pacing
    public let interval: Duration
    private var nextDue: ContinuousClock.Instant?

    public init(pacing: Pacing, fps: Double) {
        precondition(fps > 0 && fps.isFinite, "fps must be positive")
        self.pacing = pacing
        self.interval = .seconds(1 / fps)
    }

    /// Blocks until the next frame is due (nominal pacing) and returns how many due times were
    /// skipped because the caller was late by more than a frame. Free-running returns at once.
    public mutating func waitForNextFrame() -> UInt64 {
        guard pacing.isPaced else { return 0 }
        let now = ContinuousClock.now
        guard var due = nextDue else {
            nextDue = now + interval
            return 0
        }
        var skipped: UInt64 = 0
        if now < due {
            if pacing == .nominalBusy {
                while ContinuousClock.now < due {}
            } else {
                sleepUntil(due)
            }
        } else if now - due > interval {
            // Late by more than a frame: move to the latest slot not after now.
            let missed = Int((now - due) / interval)
            due += interval * missed
            skipped = UInt64(missed)
        }
        nextDue = due + interval
        return skipped
    }

    /// Forgets the schedule; the next frame is delivered at once and starts a new one.
    public mutating func restart() {
        nextDue = nil
    }
}

/// Sleeps the calling thread until `deadline`. Sources are pulled from their own capture task,
/// so blocking that thread is the point; re-checks the clock after each wake-up.
func sleepUntil(_ deadline: ContinuousClock.Instant) {
    while true {
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else { return }
        let (seconds, attoseconds) = remaining.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        _ = nanosleep(&request, nil)
    }
}

/// How long a source waits for the pipeline to return a buffer before giving up. A consumer
/// that holds every buffer for this long has stalled; the source reports it rather than hang.
let poolWaitLimit: Duration = .seconds(2)

extension FramePool {
    /// Takes a frame from the pool, waiting (1 ms naps) while every buffer is held by the
    /// pipeline. Each frame that had to wait counts once in `poolExhausted`. Throws ENOBUFS
    /// after `poolWaitLimit`.
    func waitForFrame(layout: FrameLayout, sequence: UInt64, counters: inout SourceCounters,
                      name: String) throws(CaptureError) -> Frame {
        if let frame = makeFrame(layout: layout, sequence: sequence, captureTime: .now) { return frame }
        counters.poolExhausted &+= 1
        let giveUp = ContinuousClock.now + poolWaitLimit
        while ContinuousClock.now < giveUp {
            sleepUntil(.now + .milliseconds(1))
            if let frame = makeFrame(layout: layout, sequence: sequence, captureTime: .now) { return frame }
        }
        throw .system(call: "FramePool.acquireBuffer", path: name, errno: ENOBUFS)
    }
}
