// Encoder tests: round trips from real raw footage (Y4M fixtures) with honest PSNR floors,
// interoperability with ffmpeg's decoder, odd sizes, and the fixed output buffer's limits.

import Foundation
import Testing
import Codec
import Frames

@Suite("JPEG encoding")
struct EncoderTests {
    let pool = makePool(count: 5)

    /// The first frame of a Y4M fixture as a pooled frame, cropped to `width` x `height`.
    func rawFrame(_ name: String, format: PixelFormat, width: Int? = nil, height: Int? = nil) throws -> Frame {
        let source = try Y4MFrame.first(name)
        let width = width ?? source.width, height = height ?? source.height
        let layout = FrameLayout(format: format, width: width, height: height)
        var frame = try acquire(pool, layout, sequence: 5)
        // Crop each source plane to the target plane size.
        let sourceLayout = FrameLayout(format: format, width: source.width, height: source.height)
        var packed: [UInt8] = []
        var offset = 0
        for (index, sourcePlane) in sourceLayout.planes.enumerated() {
            let plane = layout.planes[index]
            for row in 0..<plane.height {
                let start = offset + row * sourcePlane.width
                packed.append(contentsOf: source.bytes[start..<(start + plane.width)])
            }
            offset += sourcePlane.width * sourcePlane.height
        }
        frame.fill(from: packed)
        return frame
    }

    // Floors about 2 dB under what was measured on this frame (q95: 46.1, q90: 43.3, q75: 39.1,
    // q50: 36.3 dB luma; chroma higher), so a real regression fails and noise does not.
    @Test("I420 round trip: PSNR floors by quality, 4:2:0 header, ffmpeg decodes it the same",
          arguments: [(95, 44.0), (90, 41.0), (75, 37.0), (50, 34.5)])
    func roundTrip420(quality: Int, minimumLumaPSNR: Double) throws {
        let source = try rawFrame("vtest_640x480.y4m", format: .i420)
        let encoder = JPEGEncoder()
        let jpeg = try encoder.encode(source, quality: quality)
        let decoder = JPEGDecoder()
        let header = try decoder.readHeader(jpeg)
        #expect(header.subsampling == .yuv420 && header.width == 640 && header.height == 480)
        let decoded = try decoder.decode(jpeg, pool: pool)
        #expect(decoded.format == .i420)
        let lumaPSNR = psnr(source.samples(0), decoded.samples(0))
        #expect(lumaPSNR > minimumLumaPSNR, "quality \(quality): luma PSNR \(lumaPSNR) dB")
        for plane in 1...2 {
            let chromaPSNR = psnr(source.samples(plane), decoded.samples(plane))
            #expect(chromaPSNR > minimumLumaPSNR, "quality \(quality): chroma \(plane) PSNR \(chromaPSNR) dB")
        }
        // Interoperability: an independent decoder reads the same pixels.
        let directory = try Tools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("encoded.jpg")
        try Tools.write(jpeg, to: url)
        let reference = try Tools.ffmpegPlanes(url.path, pixelFormat: "yuvj420p")
        let lumaCount = 640 * 480
        #expect(Difference(decoded.samples(0), Array(reference[..<lumaCount])).maximum <= 2)
    }

    @Test("Lower quality gives smaller files")
    func qualityOrdersSize() throws {
        let source = try rawFrame("vtest_640x480.y4m", format: .i420)
        let encoder = JPEGEncoder()
        let sizes = try [30, 60, 90].map { quality in try encoder.encode(source, quality: quality).count }
        #expect(sizes[0] < sizes[1] && sizes[1] < sizes[2], "\(sizes)")
        #expect(encoder.encodedCount == 3)
    }

    @Test("I422 and GRAY8 round trips keep their subsampling")
    func roundTrip422AndGray() throws {
        let encoder = JPEGEncoder()
        let decoder = JPEGDecoder()
        let source422 = try rawFrame("vtest_640x480_422.y4m", format: .i422)
        let jpeg422 = try encoder.encode(source422, quality: 90)
        #expect(try decoder.readHeader(jpeg422).subsampling == .yuv422)
        let decoded422 = try decoder.decode(jpeg422, pool: pool)
        #expect(decoded422.format == .i422)
        for plane in 0..<3 {
            let value = psnr(source422.samples(plane), decoded422.samples(plane))
            #expect(value > 41, "4:2:2 plane \(plane): \(value) dB")
        }

        let sourceGray = try rawFrame("vtest_640x480_mono.y4m", format: .gray8)
        let jpegGray = try encoder.encode(sourceGray, quality: 90)
        let header = try decoder.readHeader(jpegGray)
        #expect(header.subsampling == .grayscale && header.components == 1)
        let decodedGray = try decoder.decode(jpegGray, pool: pool)
        #expect(decodedGray.format == .gray8)
        let value = psnr(sourceGray.samples(0), decodedGray.samples(0))
        #expect(value > 40, "grey: \(value) dB")
    }

    @Test("Odd sizes are padded by edge replication and round-trip", arguments: [
        (333, 201, PixelFormat.i420), (639, 479, .i420), (17, 9, .i422), (333, 201, .gray8), (1, 1, .i420),
    ])
    func oddSizes(width: Int, height: Int, format: PixelFormat) throws {
        let name = format == .gray8 ? "vtest_640x480_mono.y4m" : format == .i422 ? "vtest_640x480_422.y4m" : "vtest_640x480.y4m"
        let cropWidth = min(width, 640), cropHeight = min(height, 480)
        let source = try rawFrame(name, format: format, width: cropWidth, height: cropHeight)
        let jpeg = try JPEGEncoder().encode(source, quality: 90)
        let decoded = try JPEGDecoder().decode(jpeg, pool: pool)
        #expect(decoded.width == cropWidth && decoded.height == cropHeight && decoded.format == format)
        for plane in 0..<source.layout.planes.count {
            let value = psnr(source.samples(plane), decoded.samples(plane))
            #expect(value > 40, "\(cropWidth)x\(cropHeight) \(format) plane \(plane): \(value) dB")
        }
    }

    @Test("Output buffer limits: too small is a typed error, an exact fit succeeds")
    func outputBuffer() throws {
        let source = try rawFrame("vtest_640x480.y4m", format: .i420)
        let encoder = JPEGEncoder()
        let jpeg = try encoder.encode(source, quality: 80)
        let exact = UnsafeMutableRawBufferPointer.allocate(byteCount: jpeg.count, alignment: 16)
        defer { exact.deallocate() }
        #expect(try encoder.encode(source, quality: 80, into: exact) == jpeg.count)
        #expect(Array(exact) == jpeg, "the same input and settings give the same bytes")
        let short = UnsafeMutableRawBufferPointer(rebasing: exact[..<(jpeg.count - 1)])
        #expect(throws: JPEGError.outputTooSmall(capacity: jpeg.count - 1)) {
            _ = try encoder.encode(source, quality: 80, into: short)
        }
        let tiny = UnsafeMutableRawBufferPointer(rebasing: exact[..<100])
        #expect(throws: JPEGError.outputTooSmall(capacity: 100)) { _ = try encoder.encode(source, quality: 80, into: tiny) }
        #expect(encoder.failedCount == 2)
        // The encoder is unaffected by the failures.
        #expect(try encoder.encode(source, quality: 80) == jpeg)
    }

    @Test("maximumEncodedSize holds for noise at quality 100, the worst case")
    func worstCaseBound() throws {
        let layout = FrameLayout(format: .i420, width: 320, height: 240)
        var frame = try acquire(pool, layout)
        var generator = SplitMix64(state: 99)
        frame.fill(from: (0..<(320 * 240 * 3 / 2)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let bound = JPEGEncoder.maximumEncodedSize(width: 320, height: 240, format: .i420)
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: bound, alignment: 16)
        defer { output.deallocate() }
        let written = try JPEGEncoder(dctMethod: .accurate).encode(frame, quality: 100, into: output)
        #expect(written > 0 && written <= bound)
    }

    @Test("Encoding into a pooled MJPEG frame sets its payload, sequence and time")
    func encodeIntoFrame() throws {
        let source = try rawFrame("vtest_640x480.y4m", format: .i420)
        let payloadPool = FramePool(count: 1, layout: FrameLayout(format: .mjpeg, width: 0, height: 0, payloadCapacity: 300_000))
        var destination = try acquire(payloadPool, FrameLayout(format: .mjpeg, width: 0, height: 0, payloadCapacity: 300_000))
        try JPEGEncoder().encode(source, quality: 85, into: &destination)
        #expect(destination.payloadSize > 1000 && destination.sequence == source.sequence)
        let decoder = JPEGDecoder()
        var decoded = try acquire(pool, FrameLayout(format: .gray8, width: 0, height: 0))
        try decoder.decode(destination.payload, into: &decoded)
        #expect(decoded.width == 640 && decoded.format == .i420)
    }

    @Test("Invalid quality and unsupported frame formats are typed errors")
    func invalidArguments() throws {
        let source = try rawFrame("vtest_640x480.y4m", format: .i420)
        let encoder = JPEGEncoder()
        #expect(throws: JPEGError.invalidQuality(0)) { _ = try encoder.encode(source, quality: 0) }
        #expect(throws: JPEGError.invalidQuality(101)) { _ = try encoder.encode(source, quality: 101) }
        let yuyv = try acquire(pool, FrameLayout(format: .yuyv, width: 64, height: 48))
        #expect(throws: JPEGError.unsupportedFrameFormat(.yuyv)) { _ = try encoder.encode(yuyv, quality: 80) }
        #expect(encoder.failedCount == 3 && encoder.encodedCount == 0)
    }
}
