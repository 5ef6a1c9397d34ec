// The Y4M writer: every raw format written and read back by Capture's Y4M source with identical
// pixels (NV12 as I420, YUYV as I422), the header's tags, frame rates as fractions, and frames
// that do not fit the stream.

import Capture
import Foundation
import Frames
import Redaction
import Sinks
import Testing

@Suite struct Y4MWriterTests {
    @Test(arguments: [(PixelFormat.i420, "420jpeg", PixelFormat.i420), (.nv12, "420jpeg", .i420),
                      (.i422, "422", .i422), (.yuyv, "422", .i422), (.gray8, "mono", .gray8)])
    func readsBackWithIdenticalPixels(format: PixelFormat, colourSpace: String, readFormat: PixelFormat) throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("out.y4m")
        let width = 33, height = 17  // odd: chroma rounds up, YUYV has a padding luma byte
        let pool = testPool(width: width, height: height)
        let writer = try Y4MWriter(path: path, fps: 15)
        var expected: [[[UInt8]]] = []
        for index in 0..<3 {
            let frame = redactedPattern(pool, format: format, width: width, height: height, index: UInt64(index * 7))
            expected.append(planarSamples(frame))
            try writer.write(frame)
        }
        try writer.close()
        #expect(writer.statistics.framesWritten == 3)

        let source = try Y4MFileSource(path: path, pacing: .freeRunning)
        #expect(source.header.width == width && source.header.height == height)
        #expect(source.header.colourSpace == colourSpace)
        #expect(source.header.colourRange == "FULL")
        #expect(source.mode.format == readFormat)
        #expect(source.mode.fps == 15)
        var read = 0
        while let frame = try source.nextFrame() {
            let whole = UnsafeRawBufferPointer(frame.buffer.bytes)
            let planes = frame.layout.planes.map { planeRows(whole, $0) }
            #expect(planes == expected[read], "frame \(read)")
            read += 1
        }
        #expect(read == 3)
        #expect(source.counters.corrupt == 0)
        // Header, then per frame "FRAME\n" and the samples: nothing else in the file.
        let headerLength = source.header.byteCount
        let samples = expected[0].reduce(0) { $0 + $1.count }
        #expect(try fileBytes(path).count == headerLength + 3 * (6 + samples))
        #expect(writer.statistics.bytesWritten == UInt64(headerLength + 3 * (6 + samples)))
    }

    @Test(arguments: [(15.0, 15, 1), (29.97, 30000, 1001), (23.976, 24000, 1001), (12.5, 25, 2), (0.25, 1, 4)])
    func frameRateBecomesAFraction(fps: Double, numerator: Int, denominator: Int) throws {
        let folder = try SinkTemporaryFolder()
        let writer = try Y4MWriter(path: folder.file("rate.y4m"), fps: fps)
        #expect(writer.frameRateNumerator == numerator && writer.frameRateDenominator == denominator)
        let pool = testPool(width: 8, height: 8)
        try writer.write(redactedPattern(pool, format: .gray8, width: 8, height: 8, index: 0))
        try writer.close()
        let header = String(decoding: try fileBytes(folder.file("rate.y4m")).prefix(while: { $0 != 0x0A }), as: UTF8.self)
        #expect(header == "YUV4MPEG2 W8 H8 F\(numerator):\(denominator) Ip A1:1 Cmono XCOLORRANGE=FULL")
    }

    @Test(arguments: [0.0, -5.0, Double.nan, Double.infinity])
    func badFrameRatesAreRefused(fps: Double) throws {
        let folder = try SinkTemporaryFolder()
        #expect(throws: SinkError.self) { try Y4MWriter(path: folder.file("bad.y4m"), fps: fps) }
    }

    @Test func framesThatDoNotFitTheStreamAreErrors() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("out.y4m")
        let writer = try Y4MWriter(path: path, fps: 10)
        let pool = testPool(width: 32, height: 24)
        try writer.write(redactedPattern(pool, format: .i420, width: 32, height: 24, index: 0))
        // Another size, another chroma layout: both refused, counted, and the file stays a valid
        // stream of the frames that fit. NV12 is I420 once converted, so it fits.
        #expect(throws: SinkError.self) { try writer.write(redactedPattern(pool, format: .i420, width: 30, height: 24, index: 1)) }
        #expect(throws: SinkError.self) { try writer.write(redactedPattern(pool, format: .i422, width: 32, height: 24, index: 2)) }
        try writer.write(redactedPattern(pool, format: .nv12, width: 32, height: 24, index: 3))
        try writer.close()
        #expect(writer.statistics.errors == 2)
        #expect(writer.statistics.framesWritten == 2)
        let source = try Y4MFileSource(path: path, pacing: .freeRunning)
        var count = 0
        while try source.nextFrame() != nil { count += 1 }
        #expect(count == 2)
    }

    @Test func aMissingFolderFailsAtOpen() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("missing/out.y4m")
        #expect {
            try Y4MWriter(path: path, fps: 10)
        } throws: { error in
            (error as? SinkError)?.path == path
        }
    }
}
