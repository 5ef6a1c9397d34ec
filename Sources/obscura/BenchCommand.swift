// `obscura bench`: the pipeline free-running on a camera, per-stage p50, p99 and max.

import ArgumentParser
import Capture
import ObscuraRuntime

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure per-stage latency per frame (p50, p99, max): decode, analysis, redaction, encode.",
        discussion: """
            Frames are processed as fast as possible, ignoring the camera's rate, and each stage is timed \
            on this host and, scaled by the board's cost factors, as the board: decode, motion, detect, \
            track, redact, and a JPEG encode of each redacted frame (in memory; nothing is written). \
            The counters give the fraction of each frame left unverified by the detectors \
            (detect.unverified_permille_mean) and masked (redact.masked_permille_mean). Build with \
            -c release for meaningful figures.

            Examples:
              obscura bench --camera pattern:640x480@30 --frames 500
              obscura bench --camera file:Fixtures/vtest_640x480.mjpeg --board rpi-4b --json
            """
    )

    @OptionGroup var pipeline: PipelineOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(help: ArgumentHelp("Frames to run before measuring, so caches and pools are warm.", valueName: "count"))
    var warmup = 30

    func run() throws {
        ObscuraLogging.bootstrap(level: "warning")
        Shutdown.install()
        var options = pipeline.runOptions(pacing: .freeRunning)
        if options.camera == nil { options.camera = Session.defaultCamera }
        options.measureEncode = true
        let frames = pipeline.frames ?? 300
        if warmup > 0 {
            let warm = try orExit { () throws(SessionError) in try Session.open(options) }
            _ = try orExit { () throws(CaptureError) in try warm.pipeline.run(frameLimit: warmup) }
        }
        let session = try orExit { () throws(SessionError) in try Session.open(options) }
        let report = try orExit { () throws(CaptureError) in try session.pipeline.run(frameLimit: frames) }
        print(json ? report.json() : report.table())
    }
}
