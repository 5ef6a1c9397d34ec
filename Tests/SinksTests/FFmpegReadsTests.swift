// An independent reader: ffmpeg (from tools/bootstrap's Debian packages) plays what the sinks
// write. The Y4M stream decodes to exactly the samples written, with the size, rate and chroma
// layout of the header; the MJPEG stream has every frame; a PPM decodes to the RGB written.

import Foundation
import Frames
import Redaction
import Sinks
import Testing

/// Runs ffmpeg or ffprobe and returns standard output; a missing tool fails with what to do.
private func runTool(_ tool: String, _ arguments: [String]) throws -> Data {
    let path = "/usr/bin/\(tool)"
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw SinkTestSetupError(description: "\(tool) is not installed: run tools/bootstrap")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw SinkTestSetupError(description: "\(tool) \(arguments.joined(separator: " ")) failed: \(errorText)")
    }
    return data
}

/// ffprobe's view of the first video stream, as key=value pairs.
private func probe(_ path: String, format: String? = nil) throws -> [String: String] {
    var arguments = ["-v", "error", "-count_frames", "-select_streams", "v:0",
                     "-show_entries", "stream=width,height,pix_fmt,r_frame_rate,nb_read_frames",
                     "-of", "default=noprint_wrappers=1"]
    if let format { arguments += ["-f", format] }
    let text = String(decoding: try runTool("ffprobe", arguments + [path]), as: UTF8.self)
    var result: [String: String] = [:]
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: "=", maxSplits: 1)
        if parts.count == 2 { result[String(parts[0])] = String(parts[1]) }
    }
    return result
}

@Suite struct FFmpegReadsTests {
    @Test(arguments: [(PixelFormat.i420, "yuv420p"), (.yuyv, "yuv422p"), (.gray8, "gray")])
    func ffmpegDecodesTheY4MToTheSamplesWritten(format: PixelFormat, ffmpegFormat: String) throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("out.y4m")
        let width = 33, height = 17
        let pool = testPool(width: width, height: height)
        let writer = try Y4MWriter(path: path, fps: 29.97)
        var samples: [UInt8] = []
        for index in 0..<3 {
            let frame = redactedPattern(pool, format: format, width: width, height: height, index: UInt64(index * 5))
            samples += planarSamples(frame).flatMap { $0 }
            try writer.write(frame)
        }
        try writer.close()
        let stream = try probe(path)
        #expect(stream["width"] == "33" && stream["height"] == "17")
        #expect(stream["r_frame_rate"] == "30000/1001")
        #expect(stream["nb_read_frames"] == "3")
        // Full range is tagged, so ffmpeg keeps the samples as they are (no range conversion).
        let raw = try runTool("ffmpeg", ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", ffmpegFormat, "-"])
        #expect([UInt8](raw) == samples)
    }

    @Test func ffprobeCountsEveryFrameOfTheMJPEGStream() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("out.mjpeg")
        let pool = testPool(width: 160, height: 120)
        let writer = try MJPEGStreamWriter(path: path)
        for index in 0..<7 {
            try writer.write(redactedPattern(pool, format: .yuyv, width: 160, height: 120, index: UInt64(index)))
        }
        try writer.close()
        let stream = try probe(path, format: "mjpeg")
        #expect(stream["width"] == "160" && stream["height"] == "120")
        #expect(stream["nb_read_frames"] == "7")
        #expect(stream["pix_fmt"]?.contains("422") == true, "YUYV is written as 4:2:2 JPEG: \(stream)")
    }

    @Test func ffmpegDecodesThePPMToTheRGBWritten() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("still.ppm")
        let pool = testPool(width: 31, height: 9)
        try ImageWriter(path: path).write(redactedPattern(pool, format: .i422, width: 31, height: 9, index: 4))
        let image = try parsePNM(try fileBytes(path))
        let raw = try runTool("ffmpeg", ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        #expect([UInt8](raw) == image.pixels)
        #expect(raw.count == 31 * 9 * 3)
    }
}
