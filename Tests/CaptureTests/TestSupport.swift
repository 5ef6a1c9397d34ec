// Shared helpers for the capture tests: the package root and its Fixtures (made by
// tools/bootstrap), temporary folders for generated bad files, and running ffmpeg/ffprobe.

import Foundation
import Testing
@testable import Capture
import Frames

/// Why a test could not run: the message says what to do.
struct TestSetupError: Error, CustomStringConvertible {
    var description: String
}

/// The package root, found from this file's path (Tests/CaptureTests/TestSupport.swift).
let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The path of a sample file in Fixtures/. A missing fixture fails the test (never a silent
/// skip): the footage is generated, not committed.
func fixture(_ name: String) throws -> String {
    let path = packageRoot.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    guard FileManager.default.fileExists(atPath: path) else {
        throw TestSetupError(description: "fixture \(path) is missing: run tools/bootstrap to make the sample footage")
    }
    return path
}

/// A fresh folder under the system temporary folder, removed when the value is destroyed.
final class TemporaryFolder {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("obscura-capture-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `data` to `name` inside the folder and returns its path.
    @discardableResult
    func write(_ name: String, _ data: Data) throws -> String {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
        return file.path
    }

    func file(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// Runs a tool (ffprobe, ffmpeg) and returns its standard output; a missing tool or a failure
/// fails the test with a message.
func run(_ tool: String, _ arguments: [String]) throws -> String {
    let candidates = ["/usr/bin/\(tool)", "/usr/local/bin/\(tool)"]
    guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw TestSetupError(description: "\(tool) is not installed: run tools/bootstrap")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw TestSetupError(description: "\(tool) \(arguments.joined(separator: " ")) failed: "
            + (String(data: errorData, encoding: .utf8) ?? ""))
    }
    return String(data: data, encoding: .utf8) ?? ""
}

/// Frames ffprobe decodes from a file (`-count_frames`): an independent count to hold the
/// sources to.
func ffprobeFrameCount(_ path: String) throws -> Int {
    let text = try run("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0",
                                   "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path])
    guard let count = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        throw TestSetupError(description: "ffprobe gave no frame count for \(path): '\(text)'")
    }
    return count
}

/// Pulls frames until the source ends (or `limit`), handing each to `body`; returns the count.
@discardableResult
func drain(_ source: any FrameSource, limit: Int = .max,
           _ body: (borrowing Frame) throws -> Void = { _ in }) throws -> Int {
    var count = 0
    while count < limit, let frame = try source.nextFrame() {
        try body(frame)
        count += 1
    }
    return count
}

/// The bytes of a file, for building bad variants of the fixtures.
func contents(_ path: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: path))
}

/// The bytes of one plane's visible samples, row padding removed.
func planeSamples(_ frame: borrowing Frame, _ index: Int) -> [UInt8] {
    let plane = frame.plane(index)
    let bytes = frame.planeBytes(index)
    var result: [UInt8] = []
    result.reserveCapacity(plane.rowBytes * plane.height)
    for row in 0..<plane.height {
        result.append(contentsOf: bytes[(row * plane.stride)..<(row * plane.stride + plane.rowBytes)])
    }
    return result
}

/// Expects `body` to throw a CaptureError and returns it (nil, with a recorded issue, if not).
func expectCaptureError(_ body: () throws(CaptureError) -> Void,
                        sourceLocation: SourceLocation = #_sourceLocation) -> CaptureError? {
    do {
        try body()
    } catch {
        return error
    }
    Issue.record("expected a CaptureError, got none", sourceLocation: sourceLocation)
    return nil
}

/// The next frame, or a thrown failure: `#require` cannot hold a noncopyable value.
func requireFrame(_ source: any FrameSource, sourceLocation: SourceLocation = #_sourceLocation) throws -> Frame {
    guard let frame = try source.nextFrame() else {
        Issue.record("expected a frame from \(source.name), got the end", sourceLocation: sourceLocation)
        throw TestSetupError(description: "no frame from \(source.name)")
    }
    return frame
}

/// Whether the source gives one more frame (which is dropped at once).
func gotFrame(_ source: any FrameSource) throws -> Bool {
    try source.nextFrame() != nil
}
