// `obscura redact INPUT OUTPUT`: offline redaction of a file, with the firmware's own stages
// (decode, motion, detectors, tracking, redaction) and no time limit, into the same kind of file.

import ArgumentParser
import Capture
import Foundation
import ObscuraRuntime
import Redaction
import Sinks

struct RedactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redact",
        abstract: "Redact a recording or still images offline, into the same kind of file.",
        discussion: """
            INPUT is an MJPEG stream (.mjpeg, .mjpg), a Y4M file (.y4m), a folder of .jpg, .pgm or .ppm \
            images, or one such still. OUTPUT is written as the same kind: an MJPEG stream (with \
            OUTPUT.index beside it), a Y4M file, a folder holding the redacted images under the input's \
            file names, or one still (its format chosen by OUTPUT's extension).

            Every frame goes through the firmware's own stages: motion, the detectors of the config \
            (default: people and faces), tracking, and redaction. Detectors run without a time limit \
            unless --budget-ms is given, so the whole frame is examined. With the default policy \
            (foreground) a still has no background to compare with, so on stills only what the \
            detectors find is masked; in a recording everything that moves is masked too.

            Examples:
              obscura redact Fixtures/vtest_640x480.mjpeg /tmp/redacted.mjpeg
              obscura redact photo.jpg photo-redacted.jpg --method blur
              obscura redact frames/ frames-redacted/ --policy detections
            """
    )

    @Argument(help: ArgumentHelp("The recording or image(s) to redact.", valueName: "input"))
    var input: String

    @Argument(help: ArgumentHelp("Where to write the redacted result (the same kind as the input).", valueName: "output"))
    var output: String

    @Option(help: ArgumentHelp("What to mask: foreground (everything that moves, plus detections; the default) or detections.", valueName: "policy"))
    var policy: String?

    @Option(help: ArgumentHelp("How to mask: \(RedactionMethod.allCases.map(\.rawValue).joined(separator: ", ")). Default: the config's, else pixelate.", valueName: "method"))
    var method: String?

    @Option(help: ArgumentHelp("Config file (YAML) for detectors, redaction and privacy zones; its camera, board and output are ignored.", valueName: "file"))
    var config: String?

    @Option(name: .customLong("budget-ms"), help: ArgumentHelp("Give analysis this many milliseconds per frame, as the firmware would on a device. Default: no limit.", valueName: "ms"))
    var budgetMs: Double?

    @Option(help: ArgumentHelp("Stop after this many frames.", valueName: "count"))
    var frames: Int?

    @Option(help: ArgumentHelp("JPEG quality of re-encoded frames, 1 to 100. Default: the config's, else 85.", valueName: "quality"))
    var quality: Int?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if let policy, RedactionSettings.policy(named: policy, margin: 0.3) == nil {
            throw ValidationError("--policy must be \(RedactionSettings.policyNames.joined(separator: " or ")), not '\(policy)'.")
        }
        if let method, RedactionMethod(rawValue: method) == nil {
            throw ValidationError("--method must be one of \(RedactionMethod.allCases.map(\.rawValue).joined(separator: ", ")), not '\(method)'.")
        }
        if let frames, frames <= 0 { throw ValidationError("--frames must be a positive number, not \(frames).") }
        if let budgetMs, !(budgetMs > 0) { throw ValidationError("--budget-ms must be a positive number of milliseconds.") }
        if let quality, !(1...100).contains(quality) { throw ValidationError("--quality must be from 1 to 100, not \(quality).") }
    }

    func run() throws {
        ObscuraLogging.bootstrap(level: "warning")
        Shutdown.install()
        let inputURL = URL(fileURLWithPath: input).standardizedFileURL
        let outputURL = URL(fileURLWithPath: output).standardizedFileURL
        guard inputURL.path != outputURL.path else {
            try fail("the output must not be the input (\(input)): redaction never overwrites what it reads")
        }
        guard !input.contains("?") else {
            try fail("\(input): a path with '?' cannot be read as a camera; rename or link it")
        }
        var options = RunOptions()
        options.camera = "file:\(input)?loop=false"
        options.configFile = config
        options.pacing = .freeRunning
        options.policy = policy
        options.method = method.flatMap(RedactionMethod.init(rawValue:))
        options.budgetMs = budgetMs
        options.unlimitedBudget = budgetMs == nil
        options.requireBoardMode = false
        var loaded = try orExit { () throws(SessionError) in try Session.loadConfig(options) }
        if let quality { loaded.output.quality = quality }
        // A config's camera, board and outputs describe a device, not this job.
        loaded.camera = nil
        loaded.board = nil
        let quality = loaded.output.quality
        loaded.output = OutputSettings()
        loaded.output.quality = quality
        let config = loaded
        let outputPath = output
        let inputPath = input
        let session = try orExit { () throws(SessionError) in
            try Session.open(options, config: config) { source throws(SinkError) in
                try RedactCommand.makeOutput(for: source, input: inputPath, output: outputPath, quality: config.output.quality)
            }
        }
        let report = try orExit { () throws(CaptureError) in try session.pipeline.run(frameLimit: frames) }
        let failures = report.counters.filter { $0.key.hasSuffix(".write_failures") }.map(\.value).reduce(0, +)
        if json {
            print(report.json())
        } else {
            let masked = Double(report.counters["redact.masked_permille_mean"] ?? 0) / 10
            let whole = report.counters["redact.whole_frame_masks"] ?? 0
            let dropped = report.counters["decode.dropped", default: 0] + report.counters["motion.dropped", default: 0]
            var line = "redacted \(report.frames) frame\(report.frames == 1 ? "" : "s") of \(input) into \(output): "
                + "on average \(String(format: "%.1f", masked))% of each frame masked, \(whole) masked whole"
            if dropped > 0 { line += ", \(dropped) unreadable frame\(dropped == 1 ? "" : "s") left out" }
            print(line)
        }
        if failures > 0 {
            FileHandle.standardError.write(Data("obscura: writing \(output) failed \(failures) time(s); see the errors above\n".utf8))
            throw ExitCode(1)
        }
    }

    private func fail(_ message: String) throws -> Never {
        FileHandle.standardError.write(Data("obscura: \(message)\n".utf8))
        throw ExitCode(1)
    }

    /// The writer of the same kind as the input.
    static func makeOutput(for source: any FrameSource, input: String, output: String, quality: Int) throws(SinkError) -> [any RedactedSink] {
        let mode = source.mode
        switch source {
        case let folder as ImageFolderSource:
            if folder.files == [input] {
                return [try ImageWriter(path: output, quality: quality)]
            }
            // Each output keeps its input's name (with the input's extension: the same kind out).
            let fileExtension = URL(fileURLWithPath: folder.files[0]).pathExtension
            return [try ImageFolderWriter(folder: output, extension: fileExtension, naming: .custom { sequence in
                folder.file(forSequence: sequence).map { URL(fileURLWithPath: $0).lastPathComponent } ?? "frame-\(sequence)"
            }, quality: quality)]
        case is Y4MFileSource:
            return [try Y4MWriter(path: output, fps: mode.fps)]
        default:
            let lowered = input.lowercased()
            if lowered.hasSuffix(".jpg") || lowered.hasSuffix(".jpeg") {
                // One JPEG still in, one still out.
                return [try ImageWriter(path: output, quality: quality)]
            }
            return [try MJPEGStreamWriter(path: output, quality: quality)]
        }
    }
}
