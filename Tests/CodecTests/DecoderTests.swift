// Decoder tests on real footage: headers, plane geometry, agreement with independent decoders
// (ffmpeg's own MJPEG decoder; djpeg for the DCT-scaled luma), scaled and odd sizes.

import Foundation
import Testing
import Codec
import Frames

@Suite("JPEG decoding")
struct DecoderTests {
    @Test("Fixtures are present (run tools/bootstrap if this fails)")
    func fixturesPresent() throws {
        for name in ["vtest_640x480.mjpeg", "vtest_640x480_422.mjpeg", "vtest_1280x720.mjpeg",
                     "stills/frame_001.jpg", "stills/frame_001.pgm", "stills/frame_001.ppm", "vtest_640x480.y4m"] {
            _ = try Fixtures.path(name)
        }
    }

    @Test("Header of a 4:2:0 and a 4:2:2 frame")
    func headers() throws {
        let decoder = JPEGDecoder()
        let frame420 = try Fixtures.mjpegFrames("vtest_640x480.mjpeg", count: 1)[0]
        let header420 = try decoder.readHeader(frame420)
        #expect(header420 == JPEGHeader(width: 640, height: 480, components: 3, colorSpace: .yCbCr,
                                        subsampling: .yuv420, isProgressive: false))
        let frame422 = try Fixtures.mjpegFrames("vtest_640x480_422.mjpeg", count: 1)[0]
        let header422 = try decoder.readHeader(frame422)
        #expect(header422.subsampling == .yuv422)
        #expect(try header422.pixelFormat(for: .yuv) == .i422)
        #expect(try header420.pixelFormat(for: .gray) == .gray8)
    }

    @Test("4:2:0 decodes to I420 matching ffmpeg's decoder", arguments: [0, 7, 150])
    func decode420MatchesFFmpeg(frameIndex: Int) throws {
        let jpeg = try Fixtures.mjpegFrames("vtest_640x480.mjpeg", count: frameIndex + 1)[frameIndex]
        try expectMatchesFFmpeg(jpeg, format: .i420, ffmpegFormat: "yuvj420p", width: 640, height: 480)
    }

    @Test("4:2:2 decodes to I422 matching ffmpeg's decoder")
    func decode422MatchesFFmpeg() throws {
        let jpeg = try Fixtures.mjpegFrames("vtest_640x480_422.mjpeg", count: 1)[0]
        try expectMatchesFFmpeg(jpeg, format: .i422, ffmpegFormat: "yuvj422p", width: 640, height: 480)
    }

    @Test("1280x720 4:2:0 decodes matching ffmpeg's decoder")
    func decode720MatchesFFmpeg() throws {
        let jpeg = try Fixtures.mjpegFrames("vtest_1280x720.mjpeg", count: 1)[0]
        try expectMatchesFFmpeg(jpeg, format: .i420, ffmpegFormat: "yuvj420p", width: 1280, height: 720)
    }

    @Test("Odd sizes (MCU padding) decode matching ffmpeg", arguments: [
        (641, 479, "yuvj420p", PixelFormat.i420), (641, 479, "yuvj422p", PixelFormat.i422),
        (17, 9, "yuvj420p", PixelFormat.i420), (333, 201, "yuvj422p", PixelFormat.i422),
    ])
    func oddSizes(width: Int, height: Int, ffmpegFormat: String, format: PixelFormat) throws {
        let jpeg = try makeJPEG(width: width, height: height, pixelFormat: ffmpegFormat)
        try expectMatchesFFmpeg(jpeg, format: format, ffmpegFormat: ffmpegFormat, width: width, height: height)
    }

    @Test("A greyscale JPEG decodes to GRAY8 matching ffmpeg")
    func grayJPEG() throws {
        let directory = try Tools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let jpegURL = directory.appendingPathComponent("gray.jpg")
        // cjpeg makes a true one-component JPEG from the PGM still.
        try Tools.write(try Tools.run("cjpeg", ["-grayscale", "-quality", "90", try Fixtures.path("stills/frame_001.pgm")]), to: jpegURL)
        let jpeg = try [UInt8](Data(contentsOf: jpegURL))
        let decoder = JPEGDecoder()
        let header = try decoder.readHeader(jpeg)
        #expect(header.subsampling == .grayscale)
        #expect(header.components == 1)
        let pool = makePool()
        for output in [JPEGOutput.yuv, .gray] {
            let frame = try decoder.decode(jpeg, pool: pool, output: output)
            #expect(frame.format == .gray8)
            #expect(frame.width == 640 && frame.height == 480)
            let reference = try Tools.ffmpegPlanes(jpegURL.path, pixelFormat: "gray")
            let difference = Difference(frame.samples(0), reference)
            #expect(difference.maximum <= 3 && difference.mean < 0.3, "\(output) against ffmpeg: \(difference)")
        }
    }

    @Test("Grey output of a colour JPEG is exactly the Y plane of the YUV decode")
    func grayEqualsLuma() throws {
        let jpeg = try Fixtures.mjpegFrames("vtest_640x480.mjpeg", count: 1)[0]
        let decoder = JPEGDecoder()
        let pool = makePool()
        let yuv = try decoder.decode(jpeg, pool: pool, output: .yuv)
        let gray = try decoder.decode(jpeg, pool: pool, output: .gray)
        #expect(gray.format == .gray8)
        #expect(gray.layout.planes.count == 1)
        #expect(gray.samples(0) == yuv.samples(0))
    }

    @Test("Plane geometry follows FrameLayout for every scale and output", arguments: JPEGScale.allCases)
    func scaledGeometry(scale: JPEGScale) throws {
        let decoder = JPEGDecoder()
        let pool = makePool()
        for (width, height, ffmpegFormat, format) in [(640, 480, "yuvj420p", PixelFormat.i420), (641, 479, "yuvj420p", .i420),
                                                       (641, 479, "yuvj422p", .i422), (23, 7, "yuvj420p", .i420)] {
            let jpeg = try makeJPEG(width: width, height: height, pixelFormat: ffmpegFormat)
            let expectedWidth = (width * scale.eighths + 7) / 8
            let expectedHeight = (height * scale.eighths + 7) / 8
            let yuv = try decoder.decode(jpeg, pool: pool, scale: scale, output: .yuv)
            #expect(yuv.format == format)
            #expect(yuv.width == expectedWidth && yuv.height == expectedHeight, "\(width)x\(height) at \(scale)")
            #expect(yuv.layout == FrameLayout(format: format, width: expectedWidth, height: expectedHeight))
            let chromaHeight = format == .i420 ? (expectedHeight + 1) / 2 : expectedHeight
            #expect(yuv.plane(1).width == (expectedWidth + 1) / 2 && yuv.plane(1).height == chromaHeight)
            let gray = try decoder.decode(jpeg, pool: pool, scale: scale, output: .gray)
            #expect(gray.layout == FrameLayout(format: .gray8, width: expectedWidth, height: expectedHeight))
            // Same transform for luma in both modes.
            #expect(gray.samples(0) == yuv.samples(0), "\(width)x\(height) at \(scale)")
        }
    }

    @Test("Scaled luma matches djpeg's scaled decode; scaled chroma matches the averaged full chroma",
          arguments: [JPEGScale.half, .quarter, .eighth])
    func scaledPixels(scale: JPEGScale) throws {
        let directory = try Tools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let decoder = JPEGDecoder()
        let pool = makePool(count: 3)
        for (width, height, ffmpegFormat) in [(640, 480, "yuvj420p"), (641, 479, "yuvj420p"), (641, 479, "yuvj422p")] {
            let jpeg = try makeJPEG(width: width, height: height, pixelFormat: ffmpegFormat)
            let url = directory.appendingPathComponent("\(width)x\(height)-\(ffmpegFormat).jpg")
            try Tools.write(jpeg, to: url)
            let scaled = try decoder.decode(jpeg, pool: pool, scale: scale)
            let reference = try PGM.parse(try Tools.run("djpeg", ["-grayscale", "-scale", "\(scale.eighths)/8", "-pnm", url.path]))
            #expect(reference.width == scaled.width && reference.height == scaled.height)
            let lumaDifference = Difference(scaled.samples(0), reference.samples)
            #expect(lumaDifference.maximum == 0, "luma \(width)x\(height) \(ffmpegFormat) at \(scale): \(lumaDifference)")

            // The reduced IDCT approximates the average of the full transform's output over
            // each scale x scale group: compare with the full-size chroma averaged that way.
            let full = try decoder.decode(jpeg, pool: pool, scale: .full)
            let factor = 8 / scale.eighths
            for planeIndex in 1...2 {
                let averaged = boxAverage(full.samples(planeIndex), width: full.plane(planeIndex).width,
                                          height: full.plane(planeIndex).height, factor: factor,
                                          outputWidth: scaled.plane(planeIndex).width, outputHeight: scaled.plane(planeIndex).height)
                let difference = Difference(scaled.samples(planeIndex), averaged)
                #expect(difference.maximum <= 2 && difference.mean < 0.3, "chroma \(planeIndex) \(width)x\(height) \(ffmpegFormat) at \(scale): \(difference)")
            }
        }
    }

    @Test("Progressive and baseline encodings of the same image decode identically, full and scaled")
    func progressive() throws {
        let directory = try Tools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ppm = try Fixtures.path("stills/frame_002.ppm")
        let baseline = try Tools.run("cjpeg", ["-quality", "85", "-sample", "2x2", ppm])
        let progressive = try Tools.run("cjpeg", ["-quality", "85", "-sample", "2x2", "-progressive", ppm])
        let decoder = JPEGDecoder()
        let header = try decoder.readHeader(progressive)
        #expect(header.isProgressive)
        let pool = makePool(count: 3)
        for scale in JPEGScale.allCases {
            let first = try decoder.decode(baseline, pool: pool, scale: scale)
            let second = try decoder.decode(progressive, pool: pool, scale: scale)
            #expect(first.layout == second.layout)
            for plane in 0..<3 {
                // Block smoothing of progressive decodes is off once all scans are in, so the
                // coefficients, and hence the pixels, are identical.
                #expect(first.samples(plane) == second.samples(plane), "plane \(plane) at \(scale)")
            }
        }
    }

    @Test("Restart markers and arithmetic coding change the bitstream, not the pixels")
    func entropyCodingVariants() throws {
        let ppm = try Fixtures.path("stills/frame_004.ppm")
        let plain = try Tools.run("cjpeg", ["-quality", "80", "-sample", "2x1", ppm])
        let restarts = try Tools.run("cjpeg", ["-quality", "80", "-sample", "2x1", "-restart", "1", ppm])
        let arithmetic = try Tools.run("cjpeg", ["-quality", "80", "-sample", "2x1", "-arithmetic", ppm])
        let decoder = JPEGDecoder()
        let pool = makePool(count: 3)
        for scale in [JPEGScale.full, .half] {
            let reference = try decoder.decode(plain, pool: pool, scale: scale)
            #expect(reference.format == .i422)
            for variant in [restarts, arithmetic] {
                let frame = try decoder.decode(variant, pool: pool, scale: scale)
                for plane in 0..<3 {
                    #expect(frame.samples(plane) == reference.samples(plane), "plane \(plane) at \(scale)")
                }
            }
        }
        #expect(decoder.counters.failed == 0)
    }

    @Test("MJPEG without Huffman tables (as many UVC webcams send) decodes with the standard tables")
    func missingHuffmanTables() throws {
        // cjpeg without -optimize codes with the standard tables, so dropping its DHT segments
        // leaves exactly what a webcam sends; the pixels must not change.
        let complete = try Tools.run("cjpeg", ["-quality", "75", "-sample", "2x1", try Fixtures.path("stills/frame_005.ppm")])
        var stripped: [UInt8] = [0xFF, 0xD8]
        var index = 2
        while index + 4 <= complete.count, complete[index] == 0xFF {
            let marker = complete[index + 1]
            if marker == 0xDA { stripped += complete[index...]; break }
            let length = Int(complete[index + 2]) << 8 | Int(complete[index + 3])
            if marker != 0xC4 { stripped += complete[index..<(index + 2 + length)] }
            index += 2 + length
        }
        #expect(stripped.count < complete.count - 100, "the DHT segments were removed")
        let decoder = JPEGDecoder()
        let pool = makePool(count: 3)
        let reference = try decoder.decode(complete, pool: pool)
        let frame = try decoder.decode(stripped, pool: pool)
        for plane in 0..<3 { #expect(frame.samples(plane) == reference.samples(plane), "plane \(plane)") }
    }

    @Test("Decodes write nothing past the planes (odd sizes, every scale)", arguments: JPEGScale.allCases)
    func noWritesOutsidePlanes(scale: JPEGScale) throws {
        // libjpeg writes whole blocks (row padding inside the stride is expected) and whole MCU
        // rows (the shim sends rows below a plane to scratch). Fill the buffer with a sentinel
        // and check the gaps between planes and everything after the last one.
        let decoder = JPEGDecoder()
        for (width, height, ffmpegFormat) in [(641, 479, "yuvj420p"), (333, 201, "yuvj422p"), (17, 9, "yuvj420p")] {
            let jpeg = try makeJPEG(width: width, height: height, pixelFormat: ffmpegFormat)
            for output in [JPEGOutput.yuv, .gray] {
                let pool = FramePool(count: 1, bufferCapacity: 1 << 20)
                var frame = try acquire(pool, FrameLayout(format: .gray8, width: 0, height: 0))
                frame.buffer.bytes.initializeMemory(as: UInt8.self, repeating: 0xA5)
                try jpeg.withUnsafeBytes { payload in try decoder.decode(payload, into: &frame, scale: scale, output: output) }
                let bytes = frame.buffer.bytes
                let planes = frame.layout.planes
                for (index, plane) in planes.enumerated() {
                    let end = plane.offset + plane.stride * plane.height
                    let next = index + 1 < planes.count ? planes[index + 1].offset : bytes.count
                    let untouched = bytes[end..<next].allSatisfy { $0 == 0xA5 }
                    #expect(untouched, "\(width)x\(height) \(ffmpegFormat) \(output) at \(scale): write after plane \(index)")
                }
            }
        }
    }

    @Test("4:4:4 to YUV is rejected with a clear error; grey output works")
    func yuv444() throws {
        let jpeg = try makeJPEG(width: 64, height: 48, pixelFormat: "yuvj444p")
        let decoder = JPEGDecoder()
        let pool = makePool()
        guard case .unsupported(let message)? = decoder.decodeError(jpeg, pool: pool, output: .yuv) else {
            Issue.record("4:4:4 to YUV should be .unsupported")
            return
        }
        #expect(message.contains("4:4:4"))
        #expect(decoder.counters.unsupported == 1)
        let gray = try decoder.decode(jpeg, pool: pool, output: .gray)
        #expect(gray.width == 64 && gray.height == 48)
    }

    @Test("Every frame of the 4:2:2 clip and the first 100 of the 4:2:0 clip decode")
    func wholeClips() throws {
        let decoder = JPEGDecoder()
        let pool = makePool()
        let clip422 = try Fixtures.mjpegFrames("vtest_640x480_422.mjpeg")
        let clip420 = try Fixtures.mjpegFrames("vtest_640x480.mjpeg", count: 100)
        for jpeg in clip422 + clip420 {
            let frame = try decoder.decode(jpeg, pool: pool)
            #expect(frame.width == 640)
        }
        #expect(clip422.count == 30)
        #expect(decoder.counters.decoded == clip422.count + clip420.count)
        #expect(decoder.counters.failed == 0)
    }

    @Test("Decoding from a pool: sizes, pool exhaustion and a frame too small")
    func poolBehaviour() throws {
        let jpeg = try Fixtures.mjpegFrames("vtest_640x480.mjpeg", count: 1)[0]
        let decoder = JPEGDecoder()
        let pool = FramePool(count: 1, layout: FrameLayout(format: .i420, width: 640, height: 480))
        try jpeg.withUnsafeBytes { payload in
            let held = try decoder.decode(payload, from: pool, sequence: 42)
            #expect(held.sequence == 42 && held.format == .i420)
            #expect(throws: JPEGError.poolExhausted) { _ = try decoder.decode(payload, from: pool) }
        }
        #expect(decoder.counters.poolExhausted == 1)
        #expect(pool.available == 1)

        let smallPool = FramePool(count: 1, layout: FrameLayout(format: .i420, width: 320, height: 240))
        let error = decoder.decodeError(jpeg, pool: smallPool)
        guard case .frameTooSmall(let needed, let capacity)? = error else {
            Issue.record("expected .frameTooSmall, got \(String(describing: error))")
            return
        }
        #expect(needed == FrameLayout(format: .i420, width: 640, height: 480).byteCount)
        #expect(capacity == smallPool.bufferCapacity)
        #expect(decoder.counters.frameTooSmall == 1)
        #expect(smallPool.available == 1, "the buffer goes back to the pool after a failed decode")
        // The same pool fits a quarter-scale decode.
        let quarter = try decoder.decode(jpeg, pool: smallPool, scale: .quarter)
        #expect(quarter.width == 160 && quarter.height == 120)
    }
}

// MARK: Helpers

/// Makes a JPEG of the given size from the first still with ffmpeg (its own MJPEG encoder).
func makeJPEG(width: Int, height: Int, pixelFormat: String) throws -> [UInt8] {
    try Tools.ffmpeg(["-i", try Fixtures.path("stills/frame_001.ppm"), "-vf", "scale=\(width):\(height)",
                      "-pix_fmt", pixelFormat, "-q:v", "3", "-frames:v", "1", "-f", "mjpeg", "-"])
}

/// Decodes `jpeg` with JPEGDecoder and with ffmpeg, and compares every plane.
func expectMatchesFFmpeg(_ jpeg: [UInt8], format: PixelFormat, ffmpegFormat: String, width: Int, height: Int,
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
    let directory = try Tools.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("frame.jpg")
    try Tools.write(jpeg, to: url)
    let decoder = JPEGDecoder()
    let frame = try decoder.decode(jpeg, pool: makePool())
    #expect(frame.format == format, sourceLocation: sourceLocation)
    #expect(frame.width == width && frame.height == height, sourceLocation: sourceLocation)
    #expect(frame.layout == FrameLayout(format: format, width: width, height: height), sourceLocation: sourceLocation)
    let reference = try Tools.ffmpegPlanes(url.path, pixelFormat: ffmpegFormat)
    var offset = 0
    for index in 0..<3 {
        let plane = frame.plane(index)
        let count = plane.width * plane.height
        #expect(offset + count <= reference.count, sourceLocation: sourceLocation)
        guard offset + count <= reference.count else { return }
        let difference = Difference(frame.samples(index), Array(reference[offset..<(offset + count)]))
        // Two IDCT implementations (libjpeg's ISLOW and ffmpeg's) differ by rounding only
        // (measured: max 1, mean about 0.02).
        #expect(difference.maximum <= 2 && difference.mean < 0.1,
                "plane \(index) of \(width)x\(height) \(format): \(difference)", sourceLocation: sourceLocation)
        offset += count
    }
    #expect(offset == reference.count, "ffmpeg produced \(reference.count) bytes, planes hold \(offset)", sourceLocation: sourceLocation)
}

/// Averages `factor` x `factor` groups (clipped at the edges) of a plane.
func boxAverage(_ samples: [UInt8], width: Int, height: Int, factor: Int, outputWidth: Int, outputHeight: Int) -> [UInt8] {
    var result = [UInt8](repeating: 0, count: outputWidth * outputHeight)
    for row in 0..<outputHeight {
        for column in 0..<outputWidth {
            var total = 0, count = 0
            for y in (row * factor)..<min((row + 1) * factor, height) {
                for x in (column * factor)..<min((column + 1) * factor, width) {
                    total += Int(samples[y * width + x])
                    count += 1
                }
            }
            result[row * outputWidth + column] = UInt8(count == 0 ? 0 : (total + count / 2) / count)
        }
    }
    return result
}
