// Redaction of one frame of the sample footage with three person-sized detections (60x120 at
// 640x480, grown by the default 30% margin; doubled at 1280x720), three ways:
//   - the pixel path alone, on an already decoded I420 frame (what a raw camera costs);
//   - the coefficient path on the MJPEG frame (entropy decode, edit blocks, entropy encode);
//   - decode + pixel path + encode at quality 85 (what an MJPEG camera would cost without the
//     coefficient path);
//   - a grey decode (the analysis copy) + the coefficient path, two entropy decodes;
//   - prepareCompressed (luma for the analysis from the same read) + the coefficient path: one.
// Time per frame and mallocs per frame (libjpeg's per-image pools are the expected ones).

import Analysis
import Benchmark
import Codec
import Foundation
import Frames
import Redaction

/// The repository root, from this file's path (Benchmarks/Benchmarks/RedactionBenchmarks/...).
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The first JPEG of a concatenated-MJPEG fixture.
func firstJPEG(_ name: String) -> [UInt8] {
    let path = repositoryRoot.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    guard let handle = FileHandle(forReadingAtPath: path) else {
        fatalError("fixture \(path) is missing: run tools/bootstrap")
    }
    defer { try? handle.close() }
    let bytes = [UInt8](handle.readData(ofLength: 4 << 20))
    var index = 2
    while index + 1 < bytes.count {
        if bytes[index] == 0xFF && bytes[index + 1] == 0xD9 {
            let end = index + 2
            if end == bytes.count || (end + 1 < bytes.count && bytes[end] == 0xFF && bytes[end + 1] == 0xD8) {
                return Array(bytes[..<end])
            }
        }
        index += 1
    }
    fatalError("no complete JPEG at the start of \(path)")
}

/// Three standing people, scaled with the frame.
func typicalAnalysis(width: Int) -> RedactionInput {
    let scale = width / 640
    let boxes = [DetectionBox(x: 100, y: 100, width: 60, height: 120), DetectionBox(x: 300, y: 200, width: 60, height: 120),
                 DetectionBox(x: 500, y: 300, width: 60, height: 120)]
        .map { DetectionBox(x: $0.x * scale, y: $0.y * scale, width: $0.width * scale, height: $0.height * scale) }
    return RedactionInput(detections: boxes.map { Observation(box: $0, objectClass: .person) })
}

/// Everything one benchmark needs, made once in setup so the measured loop only redacts.
final class RedactionContext {
    let jpeg: [UInt8]
    let header: JPEGHeader
    let analysis: RedactionInput
    let redactor: Redactor
    // The MJPEG input: one pooled buffer holding the payload; each iteration wraps it again.
    let inputPool: FramePool
    let inputLayout: FrameLayout
    let outputPool: FramePool
    // The decoded input for the pixel path and the decode + encode comparison.
    let decodedPool: FramePool
    let decodedLayout: FrameLayout
    let decoder = JPEGDecoder()
    let encoder = JPEGEncoder()
    let encoded: UnsafeMutableRawBufferPointer

    init(fixture: String, method: RedactionMethod) throws {
        jpeg = firstJPEG(fixture)
        header = try jpeg.withUnsafeBytes { try JPEGDecoder().readHeader($0) }
        analysis = typicalAnalysis(width: header.width)
        redactor = Redactor(configuration: RedactionConfiguration(policy: .detections(margin: 0.3), method: method))
        inputLayout = FrameLayout(format: .mjpeg, width: header.width, height: header.height, payloadCapacity: jpeg.count + 64)
        inputPool = FramePool(count: 1, layout: inputLayout)
        outputPool = FramePool(count: 1, layout: Redactor.compressedOutputLayout(width: header.width, height: header.height,
                                                                                 subsampling: header.subsampling))
        decodedLayout = try header.frameLayout()
        decodedPool = FramePool(count: 1, layout: decodedLayout)
        encoded = .allocate(byteCount: JPEGEncoder.maximumEncodedSize(width: header.width, height: header.height,
                                                                      format: decodedLayout.format), alignment: 64)
        // Fill the input buffer and decode once; later iterations reuse both buffers.
        guard var input = inputPool.makeFrame(layout: inputLayout, sequence: 0, captureTime: .now),
              var decoded = decodedPool.makeFrame(layout: decodedLayout, sequence: 0, captureTime: .now) else { fatalError("empty pool") }
        guard jpeg.withUnsafeBytes({ input.setPayload($0) }) else { fatalError("payload does not fit") }
        try decoder.decode(input.payload, into: &decoded)
        // One of each outside the measurement: first-frame growth of scratch and tables.
        _ = consume input
        _ = consume decoded
        try coefficientPath()
        pixelPath()
        try decodeRedactEncode()
        try greyDecodeThenCoefficientPath()
        try preparedCoefficientPath()
    }

    deinit { encoded.deallocate() }

    private func inputFrame() -> Frame {
        guard var frame = inputPool.makeFrame(layout: inputLayout, sequence: 1, captureTime: .now) else { fatalError("input pool empty") }
        frame.payloadSize = jpeg.count
        return frame
    }

    /// The GRAY8 plane of an analysis copy, as the pipeline hands it to `redactCompressed` for
    /// level matching.
    private func lumaPlane(_ frame: borrowing Frame) -> SamplePlane {
        SamplePlane(base: frame.planeBytes(0).baseAddress!, width: frame.width, height: frame.height, stride: frame.plane(0).stride)
    }

    /// The coefficient path with no analysis copy given: with pixelate it decodes the luma
    /// itself for level matching (one luma transform more than the pipeline pays).
    func coefficientPath() throws {
        let redacted = redactor.redactCompressed(inputFrame(), analysis: analysis, outputPool: outputPool)
        guard !redacted.payload.isEmpty else { fatalError("coefficient path dropped the frame: \(redactor.compressedJPEGCounters)") }
        blackHole(redacted.payload.count)
    }

    /// The pixel path on the decoded frame (already redacted by earlier iterations, which costs
    /// the same: the kernels do not look at the values).
    func pixelPath() {
        guard let frame = decodedPool.makeFrame(layout: decodedLayout, sequence: 1, captureTime: .now) else { fatalError("decoded pool empty") }
        let redacted = redactor.redact(frame, analysis: analysis)
        blackHole(redacted.maskedFraction)
    }

    /// What an MJPEG camera costs with the coefficient path in a pipeline: a grey decode for
    /// the analysis (luma only, no chroma transform), then the coefficient path on the original.
    func greyDecodeThenCoefficientPath() throws {
        let input = inputFrame()
        guard var frame = decodedPool.makeFrame(layout: decodedLayout, sequence: 1, captureTime: .now) else { fatalError("decoded pool empty") }
        try decoder.decode(input.payload, into: &frame, output: .gray)
        blackHole(frame.width)
        let redacted = redactor.redactCompressed(input, analysis: analysis, outputPool: outputPool, luma: lumaPlane(frame))
        guard !redacted.payload.isEmpty else { fatalError("coefficient path dropped the frame") }
    }

    /// The same with one entropy decode: `prepareCompressed` gives the analysis luma from the
    /// coefficients that `redactCompressed` then edits.
    func preparedCoefficientPath() throws {
        let input = inputFrame()
        guard var luma = decodedPool.makeFrame(layout: decodedLayout, sequence: 1, captureTime: .now) else { fatalError("decoded pool empty") }
        try redactor.prepareCompressed(input, lumaInto: &luma)
        blackHole(luma.width)
        let redacted = redactor.redactCompressed(input, analysis: analysis, outputPool: outputPool, luma: lumaPlane(luma))
        guard !redacted.payload.isEmpty else { fatalError("coefficient path dropped the frame") }
    }

    func decodeRedactEncode() throws {
        let input = inputFrame()
        guard var frame = decodedPool.makeFrame(layout: decodedLayout, sequence: 1, captureTime: .now) else { fatalError("decoded pool empty") }
        try decoder.decode(input.payload, into: &frame)
        let redacted = redactor.redact(frame, analysis: analysis)
        let written = try encoder.encode(layout: redacted.layout, bytes: redacted.bytes, quality: 85, into: encoded)
        blackHole(written)
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .microseconds,
        warmupIterations: 20,
        maxDuration: .seconds(3),
        maxIterations: 20_000
    )

    for (fixture, size) in [("vtest_640x480.mjpeg", "640x480"), ("vtest_1280x720.mjpeg", "1280x720")] {
        for method in [RedactionMethod.pixelate, .fill] {
            Benchmark("Pixel path \(method) \(size) I420 (3 boxes)", closure: { benchmark, context in
                for _ in benchmark.scaledIterations { context.pixelPath() }
            }, setup: {
                try RedactionContext(fixture: fixture, method: method)
            })
            Benchmark("Coefficient path \(method) \(size) MJPEG (3 boxes)", closure: { benchmark, context in
                for _ in benchmark.scaledIterations {
                    do { try context.coefficientPath() } catch { fatalError("\(error)") }
                }
            }, setup: {
                try RedactionContext(fixture: fixture, method: method)
            })
            Benchmark("Grey decode + coefficient path \(method) \(size) MJPEG (3 boxes)", closure: { benchmark, context in
                for _ in benchmark.scaledIterations {
                    do { try context.greyDecodeThenCoefficientPath() } catch { fatalError("\(error)") }
                }
            }, setup: {
                try RedactionContext(fixture: fixture, method: method)
            })
            Benchmark("Prepared (luma for analysis) + coefficient path \(method) \(size) MJPEG (3 boxes)", closure: { benchmark, context in
                for _ in benchmark.scaledIterations {
                    do { try context.preparedCoefficientPath() } catch { fatalError("\(error)") }
                }
            }, setup: {
                try RedactionContext(fixture: fixture, method: method)
            })
            Benchmark("Decode + pixel \(method) + encode q85 \(size) (3 boxes)", closure: { benchmark, context in
                for _ in benchmark.scaledIterations {
                    do { try context.decodeRedactEncode() } catch { fatalError("\(error)") }
                }
            }, setup: {
                try RedactionContext(fixture: fixture, method: method)
            })
        }
    }
}
