// Shared helpers for the Codec tests: fixture lookup, external reference tools (ffmpeg, djpeg,
// cjpeg), MJPEG splitting, Y4M reading and plane comparison.

import Foundation
import Testing
import Codec
import Frames

/// Why a helper could not produce what a test needs. Tests fail with this message, never skip.
struct TestSetupError: Error, CustomStringConvertible {
    var description: String
}

enum Fixtures {
    /// The package root, found from this file's path (Tests/CodecTests/TestSupport.swift).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let directory = packageRoot.appendingPathComponent("Fixtures")

    /// The path of a fixture, or a failure telling the reader to run tools/bootstrap.
    static func path(_ name: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TestSetupError(description: "fixture \(url.path) is missing: run tools/bootstrap to prepare Fixtures/")
        }
        return url.path
    }

    static func data(_ name: String) throws -> [UInt8] {
        let path = try path(name)
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else {
            throw TestSetupError(description: "fixture \(path) is empty or unreadable: run tools/bootstrap again")
        }
        return [UInt8](data)
    }

    /// The first `count` JPEGs of a concatenated MJPEG fixture.
    static func mjpegFrames(_ name: String, count: Int = .max) throws -> [[UInt8]] {
        let frames = MJPEG.split(try data(name), limit: count)
        guard !frames.isEmpty else { throw TestSetupError(description: "no JPEG frames found in \(name)") }
        return frames
    }
}

enum MJPEG {
    /// Splits concatenated JPEGs at each EOI that is followed by an SOI (or the end). Inside
    /// entropy-coded data 0xFF is always stuffed, so FF D9 only appears as a marker.
    static func split(_ bytes: [UInt8], limit: Int = .max) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var start = 0
        var index = 0
        while index + 1 < bytes.count, frames.count < limit {
            if bytes[index] == 0xFF && bytes[index + 1] == 0xD9 {
                let end = index + 2
                if end == bytes.count || (end + 1 < bytes.count && bytes[end] == 0xFF && bytes[end + 1] == 0xD8) {
                    frames.append(Array(bytes[start..<end]))
                    start = end
                }
                index = end
            } else {
                index += 1
            }
        }
        return frames
    }
}

/// Runs the reference tools. They are Debian packages installed by tools/bootstrap.
enum Tools {
    static func run(_ tool: String, _ arguments: [String]) throws -> [UInt8] {
        let path = "/usr/bin/\(tool)"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSetupError(description: "\(path) not found: run tools/bootstrap to install the reference tools")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read before waiting so a large output cannot fill the pipe and block the tool.
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestSetupError(description: "\(tool) \(arguments.joined(separator: " ")) failed: \(errorText)")
        }
        return [UInt8](data)
    }

    static func ffmpeg(_ arguments: [String]) throws -> [UInt8] {
        try run("ffmpeg", ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"] + arguments)
    }

    /// Decodes a JPEG file with ffmpeg's own (non-libjpeg) decoder to raw full-range planes.
    static func ffmpegPlanes(_ path: String, pixelFormat: String) throws -> [UInt8] {
        try ffmpeg(["-i", path, "-f", "rawvideo", "-pix_fmt", pixelFormat, "-"])
    }

    /// A fresh temporary directory for generated files.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("obscura-codec-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func write(_ bytes: [UInt8], to url: URL) throws {
        try Data(bytes).write(to: url)
    }
}

/// Reads the raw P5 (PGM) image djpeg writes: header "P5\nW H\n255\n" then the samples.
enum PGM {
    static func parse(_ bytes: [UInt8]) throws -> (width: Int, height: Int, samples: [UInt8]) {
        var fields: [Int] = []
        var index = 2 // after "P5"
        guard bytes.count > 2, bytes[0] == UInt8(ascii: "P"), bytes[1] == UInt8(ascii: "5") else {
            throw TestSetupError(description: "not a binary PGM")
        }
        while fields.count < 3, index < bytes.count {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 { index += 1 }
            var value = 0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { value = value * 10 + Int(bytes[index] - 0x30); index += 1 }
            fields.append(value)
        }
        index += 1 // the single whitespace after maxval
        let width = fields[0], height = fields[1]
        guard bytes.count - index >= width * height else { throw TestSetupError(description: "short PGM") }
        return (width, height, Array(bytes[index..<(index + width * height)]))
    }
}

/// The first frame of a Y4M file (read without loading the whole file).
struct Y4MFrame {
    var width: Int
    var height: Int
    var colorSpace: String
    var bytes: [UInt8]

    static func first(_ name: String) throws -> Y4MFrame {
        let path = try Fixtures.path(name)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TestSetupError(description: "cannot open \(path): run tools/bootstrap")
        }
        defer { try? handle.close() }
        let head = [UInt8](handle.readData(ofLength: 512))
        guard let headerEnd = head.firstIndex(of: 0x0A) else { throw TestSetupError(description: "bad Y4M header in \(name)") }
        let header = String(decoding: head[..<headerEnd], as: UTF8.self).split(separator: " ")
        var width = 0, height = 0, colorSpace = "420jpeg"
        for field in header {
            if field.hasPrefix("W") { width = Int(field.dropFirst()) ?? 0 }
            if field.hasPrefix("H") { height = Int(field.dropFirst()) ?? 0 }
            if field.hasPrefix("C") { colorSpace = String(field.dropFirst()) }
        }
        guard let frameLineEnd = head[(headerEnd + 1)...].firstIndex(of: 0x0A) else {
            throw TestSetupError(description: "no FRAME in \(name)")
        }
        let chroma = (width + 1) / 2
        let size: Int = switch colorSpace {
        case "mono": width * height
        case "422": width * height + 2 * chroma * height
        default: width * height + 2 * chroma * ((height + 1) / 2)
        }
        try handle.seek(toOffset: UInt64(frameLineEnd + 1))
        let bytes = [UInt8](handle.readData(ofLength: size))
        guard bytes.count == size else { throw TestSetupError(description: "short first frame in \(name)") }
        return Y4MFrame(width: width, height: height, colorSpace: colorSpace, bytes: bytes)
    }
}

/// A small deterministic generator, so that corruption tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// Plane access for tests.
extension Frame {
    /// The samples of one plane without row padding.
    func samples(_ index: Int) -> [UInt8] {
        let plane = self.plane(index)
        let bytes = planeBytes(index)
        var result: [UInt8] = []
        result.reserveCapacity(plane.width * plane.height)
        for row in 0..<plane.height {
            let start = row * plane.stride
            result.append(contentsOf: bytes[start..<(start + plane.width)])
        }
        return result
    }

    /// Fills the frame's planes from tightly packed planar samples (Y, then U, then V).
    mutating func fill(from packed: [UInt8]) {
        var offset = 0
        for index in 0..<layout.planes.count {
            let plane = self.plane(index)
            let bytes = planeBytes(index)
            for row in 0..<plane.height {
                for column in 0..<plane.width {
                    bytes[row * plane.stride + column] = packed[offset + row * plane.width + column]
                }
            }
            offset += plane.width * plane.height
        }
    }
}

/// How far apart two planes are.
struct Difference: CustomStringConvertible {
    var maximum: Int
    var mean: Double

    init(_ first: [UInt8], _ second: [UInt8]) {
        precondition(first.count == second.count, "planes of different sizes: \(first.count) and \(second.count)")
        var maximum = 0
        var total = 0
        for index in first.indices {
            let difference = abs(Int(first[index]) - Int(second[index]))
            maximum = max(maximum, difference)
            total += difference
        }
        self.maximum = maximum
        self.mean = first.isEmpty ? 0 : Double(total) / Double(first.count)
    }

    var description: String { "max \(maximum), mean \(String(format: "%.3f", mean))" }
}

/// Peak signal-to-noise ratio of 8-bit samples, in dB.
func psnr(_ first: [UInt8], _ second: [UInt8]) -> Double {
    precondition(first.count == second.count)
    var squared = 0.0
    for index in first.indices {
        let difference = Double(Int(first[index]) - Int(second[index]))
        squared += difference * difference
    }
    let meanSquared = squared / Double(first.count)
    return meanSquared == 0 ? .infinity : 10 * log10(255 * 255 / meanSquared)
}

/// A pool big enough for any test image up to 1280x720 YUV.
func makePool(count: Int = 2) -> FramePool {
    FramePool(count: count, layout: FrameLayout(format: .i422, width: 1288, height: 728))
}

extension JPEGDecoder {
    /// Decodes a byte array into a pooled frame (test convenience).
    func decode(_ bytes: [UInt8], pool: FramePool, scale: JPEGScale = .full,
                output: JPEGOutput = .yuv) throws(JPEGError) -> Frame {
        var result: Result<Void, JPEGError> = .success(())
        guard var frame = pool.makeFrame(layout: FrameLayout(format: .gray8, width: 0, height: 0), sequence: 0,
                                         captureTime: .now) else { throw .poolExhausted }
        bytes.withUnsafeBytes { payload in
            do throws(JPEGError) {
                try self.decode(payload, into: &frame, scale: scale, output: output)
            } catch {
                result = .failure(error)
            }
        }
        try result.get()
        return frame
    }

    /// Reads the header of a byte array (test convenience).
    func readHeader(_ bytes: [UInt8]) throws -> JPEGHeader {
        try bytes.withUnsafeBytes { payload in try readHeader(payload) }
    }

    /// The error a decode of `bytes` throws, or nil if it succeeds.
    func decodeError(_ bytes: [UInt8], pool: FramePool, scale: JPEGScale = .full, output: JPEGOutput = .yuv) -> JPEGError? {
        do throws(JPEGError) {
            _ = try decode(bytes, pool: pool, scale: scale, output: output)
            return nil
        } catch {
            return error
        }
    }
}

/// A frame from `pool` (#require cannot unwrap a noncopyable optional).
func acquire(_ pool: FramePool, _ layout: FrameLayout, sequence: UInt64 = 0) throws -> Frame {
    guard let frame = pool.makeFrame(layout: layout, sequence: sequence, captureTime: .now) else {
        throw TestSetupError(description: "test frame pool exhausted or too small for \(layout.format) \(layout.width)x\(layout.height)")
    }
    return frame
}
