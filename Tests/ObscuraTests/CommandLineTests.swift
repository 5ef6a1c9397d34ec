// The `obscura` command as a user meets it: help text, argument errors, and real runs of the
// built binary, including Ctrl-C (SIGINT) mid-run.

import Foundation
import Testing

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The `obscura` binary `swift build` put beside this test bundle.
let obscuraPath: String = {
    let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    return bundleFolder.appendingPathComponent("obscura").path
}()

struct Outcome {
    var status: Int32
    var output: String
    var errors: String
}

/// Runs obscura from the package root; `interruptAfter` sends SIGINT after that many seconds.
/// A run still going after `timeLimit` seconds is killed and recorded as a failure.
/// `environment` entries are added to (or replace) this process's environment.
func obscura(_ arguments: [String], interruptAfter: Double? = nil, timeLimit: Double = 120,
             environment: [String: String] = [:]) throws -> Outcome {
    #expect(FileManager.default.isExecutableFile(atPath: obscuraPath), "build obscura first: \(obscuraPath)")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: obscuraPath)
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    process.currentDirectoryURL = URL(fileURLWithPath: packageRoot)
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    if let interruptAfter {
        Thread.sleep(forTimeInterval: interruptAfter)
        kill(process.processIdentifier, SIGINT)
    }
    let pid = process.processIdentifier
    let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeLimit, execute: watchdog)
    defer { watchdog.cancel() }
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL {
        Issue.record("obscura \(arguments.joined(separator: " ")) did not finish within \(timeLimit) s")
    }
    return Outcome(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                   errors: String(decoding: errorData, as: UTF8.self))
}

@Test func helpListsEverySubcommand() throws {
    let result = try obscura(["--help"])
    #expect(result.status == 0)
    for command in ["run", "redact", "bench", "cameras", "boards", "version"] {
        #expect(result.output.contains("  \(command) "), "help lacks \(command)")
    }
    let runHelp = try obscura(["run", "--help"])
    #expect(runHelp.output.contains("--camera <spec>"))
    #expect(runHelp.output.contains("--board <name>"))
    #expect(runHelp.output.contains("--frames <count>"))
    #expect(runHelp.output.contains("--config <file>"))
}

@Test func versionPrints() throws {
    let result = try obscura(["version"])
    #expect(result.status == 0)
    #expect(result.output.hasPrefix("obscura 0."))
}

@Test func runOnThePatternPrintsPerStageFigures() throws {
    let result = try obscura(["run", "--camera", "pattern:640x480@30", "--board", "rpi-4b", "--frames", "15"])
    #expect(result.status == 0, "\(result.errors)")
    #expect(result.output.contains("detect"))
    #expect(result.output.contains("p99 ms"))
    #expect(result.output.contains("frames  15 in"))
}

@Test func benchJSONCarriesTheSameStages() throws {
    let result = try obscura(["bench", "--camera", "pattern:640x480@30", "--frames", "20", "--warmup", "2", "--json"])
    #expect(result.status == 0, "\(result.errors)")
    let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
    let stages = (object?["stages"] as? [[String: Any]])?.compactMap { $0["stage"] as? String }
    #expect(stages == ["capture", "motion", "detect", "track", "redact", "encode", "total"])
    #expect(object?["frames"] as? Int == 20)
    let first = (object?["stages"] as? [[String: Any]])?.first
    #expect(first?["p50Ms"] is Double && first?["p99Ms"] is Double && first?["maxMs"] is Double)
}

@Test func userErrorsAreOneClearLineAndExitOne() throws {
    let missing = try obscura(["run", "--camera", "file:no/such.mjpeg", "--frames", "1"])
    #expect(missing.status == 1)
    #expect(missing.errors.contains("obscura: camera: no/such.mjpeg: no such file or folder"))
    let board = try obscura(["run", "--board", "rpi-9", "--frames", "1"])
    #expect(board.status == 1)
    #expect(board.errors.contains("unknown board 'rpi-9'"))
    let frames = try obscura(["run", "--frames", "0"])
    #expect(frames.status != 0)
    #expect(frames.errors.contains("--frames must be a positive number"))
    let control = try obscura(["run", "--camera", "pattern:640x480@30", "--control", "brightness=128", "--frames", "1"])
    #expect(control.status == 1)
    #expect(control.errors.contains("apply only to V4L2 devices"))
    let spec = try obscura(["run", "--camera", "pattern:640x@30", "--frames", "1"])
    #expect(spec.status == 1)
    #expect(spec.errors.contains("invalid camera spec"))
}

@Test func sigintFinishesTheFrameAndPrintsTheReport() throws {
    // Started with a frame limit it would take 100 s to reach, and interrupted after 2 s.
    let result = try obscura(["run", "--camera", "pattern:640x480@30", "--board", "generic", "--frames", "3000"],
                             interruptAfter: 2.0, timeLimit: 60)
    #expect(result.status == 0, "\(result.errors)")
    #expect(result.output.contains("ended: signal SIGINT"))
}

@Test func boardsListAndShow() throws {
    let list = try obscura(["boards"])
    #expect(list.status == 0)
    #expect(list.output.contains("rpi-zero-2w"))
    let show = try obscura(["boards", "show", "rpi-5", "--json"])
    let object = try JSONSerialization.jsonObject(with: Data(show.output.utf8)) as? [String: Any]
    #expect(object?["soc"] as? String == "BCM2712")
}

@Test func camerasListsTheVirtualSpecs() throws {
    let result = try obscura(["cameras"])
    #expect(result.status == 0)
    #expect(result.output.contains("pattern:640x480@30"))
    #expect(result.output.contains("V4L2 devices"))
}
