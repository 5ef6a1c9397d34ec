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

            Every frame goes through the firmware's own stages: motion, the detectors (the config's, \
            else people and faces by OpenCV's frontal and profile cascades), tracking, and redaction. Detectors run without a time limit \
            unless --budget-ms is given, so the whole frame is examined. The default policy, \
            foreground, masks everything that differs from the background model, so the first frame \
            of a recording (no model yet) is masked whole. A single still has no background at all: \
            for one still the policy is detections unless --policy says otherwise.

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
        try validateRedactionChoice(policy: policy, method: method)
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
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isFolder) else {
            try fail("\(input): no such file or folder")
        }
        var results: [RunReport] = []
        if isFolder.boolValue {
            // Photos in a folder are unrelated images, of any size: each is redacted as a still.
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: input)) ?? [])
                .filter { !$0.hasPrefix(".") && Self.isStill($0) }.sorted()
            guard !names.isEmpty else { try fail("\(input): the folder has no .jpg, .jpeg, .pgm or .ppm files") }
            do {
                try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: false,
                                                        attributes: [.posixPermissions: 0o750])
            } catch CocoaError.fileWriteFileExists {
                // An existing folder is fine: files of the same names are replaced.
            } catch {
                try fail("\(output): cannot create the folder (\(error.localizedDescription))")
            }
            for name in names {
                let source = (input as NSString).appendingPathComponent(name)
                results.append(try redactOne(input: source, output: (output as NSString).appendingPathComponent(name), still: true))
                if Shutdown.requestedBy != nil { break }
            }
        } else {
            results.append(try redactOne(input: input, output: output, still: Self.isStill(input)))
        }
        var failures: UInt64 = 0
        for report in results {
            failures += report.counters.filter { $0.key.hasSuffix(".write_failures") }.map(\.value).reduce(0, +)
        }
        if json {
            print(results.count == 1 ? results[0].json() : "[\n" + results.map { $0.json() }.joined(separator: ",\n") + "\n]")
        } else {
            let frameCount = results.reduce(0) { $0 + $1.frames }
            let maskedSum = results.reduce(0.0) { $0 + Double($1.counters["redact.masked_permille_mean"] ?? 0) / 10 * Double($1.frames) }
            let whole = results.reduce(0) { $0 + ($1.counters["redact.whole_frame_masks"] ?? 0) }
            let dropped = results.reduce(0) { $0 + $1.counters["decode.dropped", default: 0] + $1.counters["motion.dropped", default: 0]
                + $1.counters["source.corrupt", default: 0] }
            var line = "redacted \(frameCount) frame\(frameCount == 1 ? "" : "s") of \(input) into \(output): on average "
                + String(format: "%.1f", frameCount == 0 ? 0 : maskedSum / Double(frameCount)) + "% of each frame masked, \(whole) masked whole"
            if dropped > 0 { line += ", \(dropped) unreadable frame\(dropped == 1 ? "" : "s") left out" }
            print(line)
        }
        if failures > 0 {
            FileHandle.standardError.write(Data("obscura: writing \(output) failed \(failures) time(s); see the errors above\n".utf8))
            throw ExitCode(1)
        }
    }

    static func isStill(_ path: String) -> Bool {
        let lowered = path.lowercased()
        return [".jpg", ".jpeg", ".pgm", ".ppm"].contains { lowered.hasSuffix($0) }
    }

    /// Redacts one recording or one still into `output`.
    private func redactOne(input: String, output: String, still: Bool) throws -> RunReport {
        var options = RunOptions()
        options.camera = "file:\(input)?loop=false"
        options.configFile = config
        options.pacing = .freeRunning
        options.policy = policy
        if still && policy == nil {
            // Nothing to learn a background from: mask what the detectors find.
            options.policy = "detections"
        }
        options.method = method.flatMap(RedactionMethod.init(rawValue:))
        options.budgetMs = budgetMs
        options.unlimitedBudget = budgetMs == nil
        options.requireBoardMode = false
        var loaded = try orExit { () throws(SessionError) in try Session.loadConfig(options) }
        if let quality { loaded.output.quality = quality }
        if config == nil {
            // No device config: time is not limited, so use every face cascade, both ways round.
            loaded.analysis.detectors = AnalysisSettings.thoroughDetectors
        }
        // A config's camera, board and outputs describe a device, not this job.
        loaded.camera = nil
        loaded.board = nil
        let quality = loaded.output.quality
        loaded.output = OutputSettings()
        loaded.output.quality = quality
        let config = loaded
        let session = try orExit { () throws(SessionError) in
            try Session.open(options, config: config) { source throws(SinkError) in
                if still { return [try ImageWriter(path: output, quality: config.output.quality)] }
                if source is Y4MFileSource { return [try Y4MWriter(path: output, fps: source.mode.fps)] }
                return [try MJPEGStreamWriter(path: output, quality: config.output.quality)]
            }
        }
        return try orExit { () throws(CaptureError) in try session.pipeline.run(frameLimit: frames) }
    }

    private func fail(_ message: String) throws -> Never {
        FileHandle.standardError.write(Data("obscura: \(message)\n".utf8))
        throw ExitCode(1)
    }
}
