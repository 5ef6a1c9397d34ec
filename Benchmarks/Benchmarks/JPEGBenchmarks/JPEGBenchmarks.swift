// JPEG decode and encode benchmarks on the first frames of the sample footage, at 640x480 and
// 1280x720: time per frame (compare with tjbench via tools/compare-tjbench) and mallocs per
// frame (libjpeg's per-image working memory is the only allocation expected).

import Benchmark
import Codec
import Foundation
import Frames

/// The repository root, from this file's path (Benchmarks/Benchmarks/JPEGBenchmarks/...).
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

/// Everything one benchmark needs, made once in setup so the measured loop only decodes.
final class DecodeContext {
    let decoder = JPEGDecoder()
    let payload: UnsafeMutableRawBufferPointer
    let pool: FramePool
    var frame: Frame
    let scale: JPEGScale
    let output: JPEGOutput

    init(fixture: String, scale: JPEGScale, output: JPEGOutput) throws {
        let jpeg = firstJPEG(fixture)
        payload = .allocate(byteCount: jpeg.count, alignment: 64)
        payload.copyBytes(from: jpeg)
        let header = try decoder.readHeader(UnsafeRawBufferPointer(payload))
        pool = FramePool(count: 1, layout: try header.frameLayout(scale: .full, output: .yuv))
        guard let frame = pool.makeFrame(layout: FrameLayout(format: .gray8, width: 0, height: 0),
                                         sequence: 0, captureTime: .now) else { fatalError("empty pool") }
        self.frame = frame
        self.scale = scale
        self.output = output
        // One decode outside the measurement: the decoder's first image grows its scratch rows
        // and libjpeg's permanent tables; later frames reuse them.
        try decode()
    }

    deinit { payload.deallocate() }

    func decode() throws {
        try decoder.decode(UnsafeRawBufferPointer(payload), into: &frame, scale: scale, output: output)
    }
}

final class EncodeContext {
    let encoder = JPEGEncoder()
    let output: UnsafeMutableRawBufferPointer
    let pool: FramePool
    let source: Frame
    let quality: Int

    init(fixture: String, quality: Int) throws {
        let jpeg = firstJPEG(fixture)
        let decoder = JPEGDecoder()
        let header = try jpeg.withUnsafeBytes { try decoder.readHeader($0) }
        let layout = try header.frameLayout()
        pool = FramePool(count: 1, layout: layout)
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: jpeg.count, alignment: 64)
        defer { payload.deallocate() }
        payload.copyBytes(from: jpeg)
        source = try decoder.decode(UnsafeRawBufferPointer(payload), from: pool)
        output = .allocate(byteCount: JPEGEncoder.maximumEncodedSize(width: layout.width, height: layout.height,
                                                                    format: layout.format), alignment: 64)
        self.quality = quality
        _ = try encode()
    }

    deinit { output.deallocate() }

    func encode() throws -> Int {
        try encoder.encode(source, quality: quality, into: output)
    }
}

/// Quality of the encode benchmarks; tools/compare-tjbench runs tjbench at the same value.
let encodeQuality = 85

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .microseconds,
        warmupIterations: 20,
        maxDuration: .seconds(3),
        maxIterations: 20_000
    )

    for (fixture, size) in [("vtest_640x480.mjpeg", "640x480"), ("vtest_1280x720.mjpeg", "1280x720")] {
        for (label, scale, output) in [("YUV", JPEGScale.full, JPEGOutput.yuv), ("grey", .full, .gray),
                                       ("YUV 1/4", .quarter, .yuv)] {
            Benchmark("Decode \(label) \(size)", closure: { benchmark, context in
                for _ in benchmark.scaledIterations {
                    do { try context.decode() } catch { fatalError("decode failed: \(error)") }
                }
            }, setup: {
                try DecodeContext(fixture: fixture, scale: scale, output: output)
            })
        }
        Benchmark("Encode I420 q\(encodeQuality) \(size)", closure: { benchmark, context in
            for _ in benchmark.scaledIterations {
                do { blackHole(try context.encode()) } catch { fatalError("encode failed: \(error)") }
            }
        }, setup: {
            try EncodeContext(fixture: fixture, quality: encodeQuality)
        })
    }
}
