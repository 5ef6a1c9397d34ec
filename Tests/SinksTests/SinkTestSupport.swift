// Shared helpers for the sink tests: redacted frames made the only way other modules can make
// them (a pooled Frame through `Redactor.redact`), their pixels as plain arrays, temporary
// folders, file reading, JPEG decoding and PNM parsing.

import Analysis
import Codec
import Foundation
import Frames
import Redaction
import Sinks
import Testing

#if canImport(Glibc)
import Glibc
#endif

struct SinkTestSetupError: Error, CustomStringConvertible {
    var description: String
}

/// The package root, from this file's path (Tests/SinksTests/SinkTestSupport.swift).
let sinkPackageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A fixture made by tools/bootstrap; missing fails the test with what to do.
func sinkFixture(_ name: String) throws -> String {
    let path = sinkPackageRoot.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    guard FileManager.default.fileExists(atPath: path) else {
        throw SinkTestSetupError(description: "fixture \(path) is missing: run tools/bootstrap to make the sample footage")
    }
    return path
}

/// A fresh folder under the temporary folder, removed when the value is destroyed.
final class SinkTemporaryFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("obscura-sinks-tests-\(UUID().uuidString)", isDirectory: true).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    func names() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }
}

/// The box the test redactor fills: a fixed rectangle in every frame, so tests can see that what
/// reached the file is the redacted image.
func maskedBox(width: Int, height: Int) -> DetectionBox {
    DetectionBox(x: width / 4, y: height / 4, width: max(1, width / 4), height: max(1, height / 4))
}

/// A redactor that fills `maskedBox` with grey (128) and leaves the rest alone.
func boxRedactor() -> Redactor {
    Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0), method: .fill))
}

/// Frame `index` of the moving test pattern in `format`, redacted: the box filled.
func redactedPattern(_ pool: FramePool, format: PixelFormat, width: Int, height: Int, index: UInt64,
                     captureTime: ContinuousClock.Instant = .now, redactor: Redactor = boxRedactor()) -> RedactedFrame {
    let layout = FrameLayout(format: format, width: width, height: height)
    guard let frame = pool.makeFrame(layout: layout, sequence: index, captureTime: captureTime) else {
        fatalError("test pool exhausted: a test keeps too many frames alive")
    }
    renderTestPattern(index: index, layout: layout, into: frame.buffer.baseAddress)
    return redactor.redact(frame, analysis: RedactionInput(unverified: [maskedBox(width: width, height: height)]))
}

/// A smooth I420 image in the middle of the colour range (no colour that RGB would clip), with
/// the box filled.
func redactedGradient(_ pool: FramePool, width: Int, height: Int, index: UInt64) -> RedactedFrame {
    let layout = FrameLayout(format: .i420, width: width, height: height)
    guard let frame = pool.makeFrame(layout: layout, sequence: index, captureTime: .now) else {
        fatalError("test pool exhausted: a test keeps too many frames alive")
    }
    let bytes = frame.buffer.bytes
    let shift = Int(index) * 5
    for (number, plane) in layout.planes.enumerated() {
        for row in 0..<plane.height {
            for column in 0..<plane.width {
                let value: Int
                switch number {
                case 0: value = 60 + (row * 3 + column * 2 + shift) % 136
                case 1: value = 112 + (row + column) % 32
                default: value = 144 - (row * 2 + column + shift) % 32
                }
                bytes[plane.offset + row * plane.stride + column] = UInt8(value)
            }
        }
    }
    return boxRedactor().redact(frame, analysis: RedactionInput(unverified: [maskedBox(width: width, height: height)]))
}

/// A pool big enough for any raw format at this size.
func testPool(width: Int, height: Int, count: Int = 2) -> FramePool {
    let sizes = [PixelFormat.gray8, .i420, .i422, .nv12, .yuyv].map { FrameLayout(format: $0, width: width, height: height).byteCount }
    return FramePool(count: count, bufferCapacity: sizes.max() ?? 0)
}

/// The rows of one plane without padding.
func planeRows(_ bytes: UnsafeRawBufferPointer, _ plane: Plane) -> [UInt8] {
    var result: [UInt8] = []
    result.reserveCapacity(plane.rowBytes * plane.height)
    for row in 0..<plane.height {
        let start = plane.offset + row * plane.stride
        result.append(contentsOf: bytes[start..<(start + plane.rowBytes)])
    }
    return result
}

/// A redacted frame's planes without padding, as it would be written planar: NV12 as I420 and
/// YUYV as I422, deinterleaved here independently of the Frames kernels.
func planarSamples(_ frame: borrowing RedactedFrame) -> [[UInt8]] {
    let layout = frame.layout
    let bytes = frame.bytes
    let width = layout.width, height = layout.height, chromaWidth = (width + 1) / 2
    switch layout.format {
    case .nv12:
        let interleaved = planeRows(bytes, layout.planes[1])
        return [planeRows(bytes, layout.planes[0]),
                stride(from: 0, to: interleaved.count, by: 2).map { interleaved[$0] },
                stride(from: 1, to: interleaved.count, by: 2).map { interleaved[$0] }]
    case .yuyv:
        let packed = planeRows(bytes, layout.planes[0])
        var luma: [UInt8] = [], blue: [UInt8] = [], red: [UInt8] = []
        for row in 0..<height {
            for column in 0..<width { luma.append(packed[row * chromaWidth * 4 + (column / 2) * 4 + (column % 2) * 2]) }
            for pair in 0..<chromaWidth {
                blue.append(packed[row * chromaWidth * 4 + pair * 4 + 1])
                red.append(packed[row * chromaWidth * 4 + pair * 4 + 3])
            }
        }
        return [luma, blue, red]
    default:
        return layout.planes.map { planeRows(bytes, $0) }
    }
}

func fileBytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

/// Decodes a JPEG (YUV as coded) and returns its format, size and planes without padding.
func decodeJPEG(_ bytes: [UInt8]) throws -> (format: PixelFormat, width: Int, height: Int, planes: [[UInt8]]) {
    let decoder = JPEGDecoder()
    let header = try bytes.withUnsafeBytes { try decoder.readHeader($0) }
    let layout = try header.frameLayout()
    let pool = FramePool(count: 1, layout: layout)
    guard var frame = pool.makeFrame(layout: layout, sequence: 0, captureTime: .now) else {
        throw SinkTestSetupError(description: "decode pool exhausted")
    }
    try bytes.withUnsafeBytes { _ = try decoder.decode($0, into: &frame) }
    let whole = UnsafeRawBufferPointer(frame.buffer.bytes)
    return (frame.format, frame.width, frame.height, frame.layout.planes.map { planeRows(whole, $0) })
}

/// Peak signal-to-noise ratio between two equally long sample arrays, in dB.
func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
    guard a.count == b.count, !a.isEmpty else { return 0 }
    var sum = 0.0
    for (x, y) in zip(a, b) {
        let difference = Double(x) - Double(y)
        sum += difference * difference
    }
    guard sum > 0 else { return .infinity }
    return 10 * log10(255 * 255 / (sum / Double(a.count)))
}

/// A binary PNM (P5 or P6) parsed: kind, size and pixel bytes.
func parsePNM(_ bytes: [UInt8]) throws -> (kind: String, width: Int, height: Int, maximum: Int, pixels: [UInt8]) {
    guard bytes.count > 2 else { throw SinkTestSetupError(description: "PNM too short") }
    var fields: [Int] = []
    var index = 2
    var current = -1
    while fields.count < 3 && index < bytes.count {
        let byte = bytes[index]
        if byte >= 48 && byte <= 57 {
            current = max(current, 0) * 10 + Int(byte - 48)
        } else if current >= 0 {
            fields.append(current)
            current = -1
        }
        index += 1
    }
    guard fields.count == 3 else { throw SinkTestSetupError(description: "PNM header incomplete") }
    return (String(decoding: bytes[0..<2], as: UTF8.self), fields[0], fields[1], fields[2], Array(bytes[index...]))
}

/// The permission bits of a file.
func permissions(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

/// Whether a file's mode is what sinks promise: the owner reads and writes, the group may read,
/// no one else has anything (0640, or stricter by the umask, but never looser).
func isSinkFileMode(_ mode: Int) -> Bool {
    mode & ~0o640 == 0 && mode & 0o600 == 0o600
}

/// A path this process cannot open for writing even as root: a read-only sysfs attribute for
/// root (root ignores permission bits on ordinary files), a 0444 file otherwise.
func unwritableFile(in folder: SinkTemporaryFolder) throws -> String {
    if geteuid() == 0 {
        let path = "/sys/kernel/uevent_seqnum"
        guard FileManager.default.fileExists(atPath: path) else {
            throw SinkTestSetupError(description: "running as root without /sys mounted: no read-only file to test with")
        }
        return path
    }
    let path = folder.file("read-only.mjpeg")
    _ = FileManager.default.createFile(atPath: path, contents: Data([1]), attributes: [.posixPermissions: 0o444])
    return path
}
