// The runtime: pulls frames from a source, runs the stages in order (decode, motion, detect,
// track), redacts the frame, hands the RedactedFrame to the sinks, times each step on the host
// and as the emulated board, and reports. The stages before redaction see raw frames and write
// no pixels anywhere; the sinks take only RedactedFrame (DESIGN.md, invariant 2).

public import Boards
public import Capture
public import Frames
public import Logging
public import Redaction
public import Sinks
import Synchronization

/// Asks one pipeline to stop between frames, from any thread (tests, an embedding service).
public final class StopToken: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func request() { flag.store(true, ordering: .relaxed) }
    public var isRequested: Bool { flag.load(ordering: .relaxed) }
}

/// One step of per-frame processing.
public protocol PipelineStage: AnyObject {
    /// Short name for reports, e.g. "decode".
    var name: String { get }
    /// The kind of work, which selects the board's cost factor.
    var workKind: WorkKind { get }
    /// Processes a frame and returns the frame to pass on, or `nil` when the frame is dropped
    /// (the stage counts why). Dropping is the fail-closed answer to bad input.
    func process(_ frame: consuming Frame) -> Frame?
    /// The stage's counters, by name, for reports.
    var counters: [String: UInt64] { get }
}

/// Wires a source, the stages and the board, and runs them.
public final class Pipeline {
    public let source: any FrameSource
    public let stages: [any PipelineStage]
    /// Turns each analysed frame into a RedactedFrame; every frame that survives the stages
    /// goes through it.
    public let redaction: RedactStep
    /// Where redacted frames go (none: statistics only).
    public let sinks: [any RedactedSink]
    public let board: BoardProfile
    public let budgetMs: Double
    public let pacing: Pacing
    /// Stops this pipeline alone; SIGINT and SIGTERM stop every pipeline (see `Shutdown`).
    public let stopToken = StopToken()
    let logger: Logger
    private var captureStatistics: StageStatistics
    private var stageStatistics: [StageStatistics]
    private var redactStatistics: StageStatistics
    private var sinkStatistics: [StageStatistics]
    private var sinkErrors: [UInt64]
    private var totalStatistics: StageStatistics
    private var budgetMisses = 0
    private var frames = 0
    private let clock = ContinuousClock()

    public init(source: any FrameSource, stages: [any PipelineStage], redaction: RedactStep, sinks: [any RedactedSink] = [],
                board: BoardProfile, budgetMs: Double, pacing: Pacing, logger: Logger = ObscuraLogging.logger()) {
        self.source = source
        self.stages = stages
        self.redaction = redaction
        self.sinks = sinks
        self.board = board
        self.budgetMs = budgetMs
        self.pacing = pacing
        self.logger = logger
        captureStatistics = StageStatistics(name: "capture", workKind: .io)
        stageStatistics = stages.map { StageStatistics(name: $0.name, workKind: $0.workKind) }
        redactStatistics = StageStatistics(name: "redact", workKind: .pixelKernels)
        sinkStatistics = sinks.map { StageStatistics(name: $0.name, workKind: .jpegEncode) }
        sinkErrors = sinks.map { _ in 0 }
        totalStatistics = StageStatistics(name: "total", workKind: .io)
    }

    /// Runs until `frameLimit` frames have been processed, the source ends, or a shutdown
    /// signal arrives. `statsInterval` > 0 logs interim figures that often.
    public func run(frameLimit: Int?, statsInterval: Duration = .zero) throws(CaptureError) -> RunReport {
        let start = clock.now
        var lastStats = start
        var ended = "end of stream"
        var processed = 0
        while true {
            if let limit = frameLimit, processed >= limit { ended = "frame limit"; break }
            if let signal = Shutdown.requestedBy { ended = "signal \(signal == 2 ? "SIGINT" : signal == 15 ? "SIGTERM" : String(signal))"; break }
            if stopToken.isRequested { ended = "stop requested"; break }
            guard try step() else {
                if Shutdown.requestedBy != nil || stopToken.isRequested { continue }
                break
            }
            processed += 1
            if statsInterval > .zero {
                let now = clock.now
                if now - lastStats >= statsInterval {
                    lastStats = now
                    logInterim()
                }
            }
        }
        closeSinks()
        return report(elapsed: clock.now - start, ended: ended)
    }

    /// Flushes and closes every sink (the end of `run` does this). A failure is logged and
    /// counted; the other sinks still close.
    public func closeSinks() {
        for index in sinks.indices {
            do { try sinks[index].close() } catch {
                sinkErrors[index] &+= 1
                logger.error("closing an output failed", metadata: ["sink": "\(sinks[index].name)", "error": "\(error)"])
            }
        }
    }

    /// Takes one frame from the source through every stage and records its timings. Returns
    /// false when the source has no frame (end of stream). Allocates nothing in steady state.
    public func step() throws(CaptureError) -> Bool {
        let captureStart = clock.now
        guard let captured = try source.nextFrame() else { return false }
        let captureEnd = clock.now
        // A paced source spends most of nextFrame waiting for the due time: only the
        // free-running figure is the capture path's cost.
        if pacing == .freeRunning {
            captureStatistics.record(hostNanoseconds: nanoseconds(captureEnd - captureStart), factor: 1)
        }
        var frame: Frame? = consume captured
        var emulatedTotal = 0.0
        var hostTotal: UInt64 = 0
        var stageStart = captureEnd
        for index in stages.indices {
            guard let current = frame.take() else { break }
            if let budgeted = stages[index] as? any BudgetedStage {
                budgeted.setRemainingBudget(boardMilliseconds: budgetMs - emulatedTotal / 1_000_000)
            }
            frame = stages[index].process(current)
            let stageEnd = clock.now
            let host = nanoseconds(stageEnd - stageStart)
            let factor = board.costFactors.factor(for: stages[index].workKind)
            stageStatistics[index].record(hostNanoseconds: host, factor: factor)
            hostTotal &+= host
            emulatedTotal += Double(host) * factor
            stageStart = stageEnd
        }
        if let analysed = frame.take() {
            let redacted = redaction.redact(analysed)
            var stageEnd = clock.now
            var host = nanoseconds(stageEnd - stageStart)
            var factor = board.costFactors.factor(for: .pixelKernels)
            redactStatistics.record(hostNanoseconds: host, factor: factor)
            hostTotal &+= host
            emulatedTotal += Double(host) * factor
            stageStart = stageEnd
            for index in sinks.indices {
                do {
                    try sinks[index].write(redacted)
                } catch {
                    // Keep running: counting goes on, and what was written stays valid.
                    sinkErrors[index] &+= 1
                    if sinkErrors[index] == 1 || sinkErrors[index] % 100 == 0 {
                        logger.error("output failed", metadata: ["sink": "\(sinks[index].name)", "error": "\(error)",
                                                                 "failures": "\(sinkErrors[index])"])
                    }
                }
                stageEnd = clock.now
                host = nanoseconds(stageEnd - stageStart)
                factor = board.costFactors.factor(for: .jpegEncode)
                sinkStatistics[index].record(hostNanoseconds: host, factor: factor)
                hostTotal &+= host
                emulatedTotal += Double(host) * factor
                stageStart = stageEnd
            }
        }
        totalStatistics.record(hostNanoseconds: hostTotal, factor: hostTotal == 0 ? 1 : emulatedTotal / Double(hostTotal))
        if emulatedTotal > budgetMs * 1_000_000 { budgetMisses += 1 }
        frames += 1
        return true
    }

    private func logInterim() {
        var metadata: Logger.Metadata = ["frames": "\(frames)", "budget_misses": "\(budgetMisses)"]
        for statistics in [captureStatistics] + stageStatistics + [redactStatistics] + sinkStatistics + [totalStatistics] where statistics.host.totalCount > 0 {
            let summary = statistics.summary
            metadata["\(summary.stage)_p50_ms"] = "\(summary.p50Ms)"
            metadata["\(summary.stage)_p99_ms"] = "\(summary.p99Ms)"
            metadata["\(summary.stage)_board_p99_ms"] = "\(summary.emulatedP99Ms)"
        }
        logger.info("statistics", metadata: metadata)
    }

    func report(elapsed: Duration, ended: String) -> RunReport {
        var summaries: [StageSummary] = []
        if captureStatistics.host.totalCount > 0 { summaries.append(captureStatistics.summary) }
        summaries += stageStatistics.map(\.summary)
        if redactStatistics.host.totalCount > 0 { summaries.append(redactStatistics.summary) }
        summaries += sinkStatistics.filter { $0.host.totalCount > 0 }.map(\.summary)
        summaries.append(totalStatistics.summary)
        var counters: [String: UInt64] = [:]
        let sourceCounters = source.counters
        counters["source.delivered"] = sourceCounters.delivered
        counters["source.corrupt"] = sourceCounters.corrupt
        counters["source.pool_exhausted"] = sourceCounters.poolExhausted
        counters["source.skipped"] = sourceCounters.skipped
        counters["source.loops"] = sourceCounters.loops
        counters["source.device_lost"] = sourceCounters.deviceLost
        if let camera = source as? V4L2Camera {
            // A real device has more to say: driver drops, flagged buffers and the outage.
            let v4l2 = camera.v4l2Counters
            counters["v4l2.dequeued"] = v4l2.dequeued
            counters["v4l2.driver_drops"] = v4l2.driverDrops
            counters["v4l2.error_flagged"] = v4l2.errorFlagged
            counters["v4l2.truncated_jpeg"] = v4l2.truncatedJPEG
            counters["v4l2.short_frames"] = v4l2.shortFrames
            counters["v4l2.reconnects"] = v4l2.reconnects
            counters["v4l2.reopen_failures"] = v4l2.reopenFailures
            counters["v4l2.outage_ms"] = UInt64(max(0, v4l2.outageSeconds * 1000))
        }
        for stage in stages {
            for (key, value) in stage.counters { counters["\(stage.name).\(key)"] = value }
        }
        for (key, value) in redaction.counters { counters["redact.\(key)"] = value }
        for (index, sink) in sinks.enumerated() {
            for (key, value) in sink.counters { counters["\(sink.name).\(key)"] = value }
            counters["\(sink.name).write_failures"] = sinkErrors[index]
        }
        var intervals: [IntervalReport] = []
        for stage in stages {
            guard let reporting = stage as? any IntervalReportingStage else { continue }
            let closed = reporting.finishIntervals(at: clock.now)
            let origin = reporting.runStart ?? clock.now
            intervals += closed.map { IntervalReport($0, origin: origin) }
        }
        return RunReport(
            camera: source.name, mode: source.mode.description, board: board.name, budgetMs: budgetMs.isInfinite ? nil : budgetMs,
            pacing: pacing == .freeRunning ? "free-running"
                : "paced at \(source.mode.fps) fps" + (pacing == .nominalBusy ? ", busy-waiting" : ""),
            frames: frames, elapsedSeconds: seconds(elapsed), budgetMisses: budgetMisses,
            stages: summaries, counters: counters, intervals: intervals, ended: ended)
    }
}

func nanoseconds(_ duration: Duration) -> UInt64 {
    let (seconds, attoseconds) = duration.components
    return UInt64(max(0, seconds)) &* 1_000_000_000 &+ UInt64(max(0, attoseconds / 1_000_000_000))
}

func seconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) + Double(attoseconds) / 1e18
}
