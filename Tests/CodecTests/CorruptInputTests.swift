// Bad input: every case must end in the right typed error and a counter, never a crash, a hang
// or a grey-filled "success"; and the decoder must keep working afterwards.

import Foundation
import Testing
import Codec
import Frames

@Suite("JPEG decoding of bad input")
struct CorruptInputTests {
    let pool = makePool()

    func firstFrame() throws -> [UInt8] {
        try Fixtures.mjpegFrames("vtest_640x480.mjpeg", count: 1)[0]
    }

    @Test("Empty input, a few garbage bytes, a lone SOI")
    func tinyInputs() throws {
        let decoder = JPEGDecoder()
        #expect(decoder.decodeError([], pool: pool) == .empty)
        #expect(decoder.decodeError([0x00, 0x01, 0x02, 0x03], pool: pool) == .notJPEG)
        #expect(decoder.decodeError([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], pool: pool) == .notJPEG) // a PNG
        #expect(decoder.decodeError([0xFF, 0xD8], pool: pool) == .truncated)
        #expect(decoder.decodeError([0xFF, 0xD8, 0xFF, 0xD9], pool: pool) != nil) // no image at all
        let counters = decoder.counters
        #expect(counters.empty == 1 && counters.notJPEG == 2 && counters.truncated == 1)
        #expect(counters.failed == 5 && counters.decoded == 0)
    }

    @Test("Truncation at many offsets is .truncated, and the decoder keeps working")
    func truncation() throws {
        let jpeg = try firstFrame()
        let decoder = JPEGDecoder()
        let reference = try decoder.decode(jpeg, pool: pool).samples(0)
        var offsets = Array(stride(from: 1, to: jpeg.count, by: 211))
        offsets += [jpeg.count - 1, jpeg.count - 2, jpeg.count - 3, 2, 3, 100]
        for offset in offsets {
            let error = decoder.decodeError(Array(jpeg[..<offset]), pool: pool)
            #expect(error == .truncated, "cut at \(offset) of \(jpeg.count): \(String(describing: error))")
        }
        #expect(decoder.counters.truncated == offsets.count)
        #expect(decoder.counters.corruptDataWarnings >= UInt64(offsets.count - 5))
        // A bad frame then a good one: the decoder is unaffected.
        #expect(try decoder.decode(jpeg, pool: pool).samples(0) == reference)
        #expect(decoder.counters.decoded == 2)
    }

    @Test("Random bytes after an SOI fail with a typed error")
    func randomAfterSOI() throws {
        let decoder = JPEGDecoder()
        var generator = SplitMix64(state: 0x0B5C_0DEC)
        for trial in 0..<200 {
            let length = Int.random(in: 1...4000, using: &generator)
            let body = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let error = decoder.decodeError([0xFF, 0xD8] + body, pool: pool)
            #expect(error != nil, "trial \(trial) decoded random bytes")
            #expect(decoder.counters.failed == trial + 1)
        }
        let jpeg = try firstFrame()
        #expect(throws: Never.self) { _ = try decoder.decode(jpeg, pool: pool) }
    }

    @Test("Bit flips in the entropy-coded data never crash; most are caught; the decoder recovers")
    func bitFlips() throws {
        let jpeg = try firstFrame()
        let decoder = JPEGDecoder()
        let reference = try decoder.decode(jpeg, pool: pool).samples(0)
        let scanStart = try #require(startOfScanData(jpeg))
        var generator = SplitMix64(state: 42)
        var failures = 0
        let trials = 300
        for _ in 0..<trials {
            var damaged = jpeg
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let index = Int.random(in: scanStart..<(jpeg.count - 2), using: &generator)
                damaged[index] ^= UInt8(1) << UInt8.random(in: 0...7, using: &generator)
            }
            let scale = JPEGScale.allCases.randomElement(using: &generator)!
            let output: JPEGOutput = Bool.random(using: &generator) ? .yuv : .gray
            if let error = decoder.decodeError(damaged, pool: pool, scale: scale, output: output) {
                failures += 1
                switch error {
                case .corrupt, .truncated: break
                default: Issue.record("unexpected error for flipped entropy data: \(error)")
                }
            }
        }
        // A flip can turn one valid Huffman code into another, which no decoder can detect
        // (these frames have no restart markers to resynchronise on). Measured: 116 of 300
        // caught as a bad code, data running into the EOI, or bytes left over before it.
        #expect(failures > trials / 4, "only \(failures) of \(trials) damaged frames were detected")
        #expect(decoder.counters.failed == failures)
        #expect(decoder.counters.corrupt + decoder.counters.truncated == failures)
        #expect(try decoder.decode(jpeg, pool: pool).samples(0) == reference)
    }

    @Test("Damaged headers never crash and always end in a typed error or a decode")
    func headerDamage() throws {
        let jpeg = try firstFrame()
        let decoder = JPEGDecoder()
        let scanStart = try #require(startOfScanData(jpeg))
        var generator = SplitMix64(state: 7)
        var outcomes = 0
        for _ in 0..<400 {
            var damaged = jpeg
            let index = Int.random(in: 2..<scanStart, using: &generator)
            damaged[index] = UInt8.random(in: 0...255, using: &generator)
            _ = decoder.decodeError(damaged, pool: pool, scale: .quarter)
            outcomes += 1
        }
        #expect(decoder.counters.decoded + decoder.counters.failed == outcomes)
        #expect(throws: Never.self) { _ = try decoder.decode(jpeg, pool: pool) }
    }

    @Test("Huge declared dimensions are rejected before allocating")
    func hugeDimensions() throws {
        let jpeg = try firstFrame()
        let decoder = JPEGDecoder()
        #expect(decoder.decodeError(withDimensions(jpeg, width: 20000, height: 20000), pool: pool)
                == .tooLarge(width: 20000, height: 20000, limit: 16384))
        #expect(decoder.decodeError(withDimensions(jpeg, width: 640, height: 16385), pool: pool)
                == .tooLarge(width: 640, height: 16385, limit: 16384))
        // Beyond libjpeg's own 65500-pixel limit: libjpeg rejects it while reading the header.
        let beyondLibjpeg = decoder.decodeError(withDimensions(jpeg, width: 65535, height: 65535), pool: pool)
        guard case .unsupported(let message)? = beyondLibjpeg else {
            Issue.record("expected .unsupported, got \(String(describing: beyondLibjpeg))")
            return
        }
        #expect(message.contains("dimension"))
        #expect(decoder.counters.tooLarge == 2 && decoder.counters.unsupported == 1)

        let strict = JPEGDecoder(maximumDimension: 320)
        #expect(strict.decodeError(jpeg, pool: pool) == .tooLarge(width: 640, height: 480, limit: 320))
        #expect(strict.counters.tooLarge == 1)
    }

    @Test("Zero height, 12-bit precision and lossless JPEGs give the right errors")
    func structuralErrors() throws {
        let jpeg = try firstFrame()
        let decoder = JPEGDecoder()
        let sof = try #require(markerOffset(jpeg, 0xC0))
        if case .corrupt(let message)? = decoder.decodeError(withDimensions(jpeg, width: 640, height: 0), pool: pool) {
            #expect(message.lowercased().contains("empty"))
        } else {
            Issue.record("zero height should be .corrupt")
        }
        var twelveBit = jpeg
        twelveBit[sof + 4] = 12
        guard case .unsupported? = decoder.decodeError(twelveBit, pool: pool) else {
            Issue.record("12-bit should be .unsupported")
            return
        }
        var lossless = jpeg
        lossless[sof + 1] = 0xC3
        guard case .unsupported? = decoder.decodeError(lossless, pool: pool) else {
            Issue.record("lossless should be .unsupported")
            return
        }
        #expect(decoder.counters.corrupt == 1 && decoder.counters.unsupported == 2)
    }

    @Test("Extraneous bytes before a marker are corrupt data, not a warning to ignore")
    func extraneousBytes() throws {
        let jpeg = try firstFrame()
        let decoder = JPEGDecoder()
        var damaged = jpeg
        damaged.insert(contentsOf: [0x12, 0x34, 0x56], at: 2) // between SOI and the next marker
        guard case .corrupt(let message)? = decoder.decodeError(damaged, pool: pool) else {
            Issue.record("extraneous bytes should be .corrupt")
            return
        }
        #expect(message.contains("extraneous"))
        #expect(decoder.counters.corrupt == 1 && decoder.counters.corruptDataWarnings == 1)
    }

    @Test("Progressive scan and working-memory limits")
    func resourceLimits() throws {
        let progressive = try Tools.run("cjpeg", ["-progressive", "-quality", "80", try Fixtures.path("stills/frame_003.ppm")])
        let fewScans = JPEGDecoder(maximumScans: 3)
        guard case .limitExceeded(let message)? = fewScans.decodeError(progressive, pool: pool) else {
            Issue.record("a progressive JPEG with more than 3 scans should exceed the limit")
            return
        }
        #expect(message.contains("scans"))
        #expect(fewScans.counters.limitExceeded == 1)

        // Progressive decoding buffers every coefficient (about 900 KB for 640x480 4:2:0).
        let littleMemory = JPEGDecoder(maximumMemory: 100_000)
        guard case .limitExceeded? = littleMemory.decodeError(progressive, pool: pool) else {
            Issue.record("a 100 KB memory cap should stop a 640x480 progressive decode")
            return
        }
        #expect(throws: Never.self) { _ = try JPEGDecoder().decode(progressive, pool: pool) }
    }

    @Test("Each failure kind bumps exactly its own counter")
    func countersByKind() throws {
        let jpeg = try firstFrame()
        let decoder = JPEGDecoder()
        let cases: [[UInt8]] = [[], [1, 2, 3], Array(jpeg[..<5000]), withDimensions(jpeg, width: 30000, height: 10), jpeg]
        var expected = JPEGDecoderCounters()
        for bytes in cases {
            if let error = decoder.decodeError(bytes, pool: pool) {
                switch error {
                case .empty: expected.empty += 1
                case .notJPEG: expected.notJPEG += 1
                case .truncated: expected.truncated += 1
                case .tooLarge: expected.tooLarge += 1
                default: Issue.record("unexpected \(error)")
                }
            } else {
                expected.decoded += 1
            }
        }
        var actual = decoder.counters
        expected.corruptDataWarnings = actual.corruptDataWarnings
        expected.otherWarnings = actual.otherWarnings
        #expect(actual == expected)
        #expect(actual.empty == 1 && actual.notJPEG == 1 && actual.truncated == 1 && actual.tooLarge == 1 && actual.decoded == 1)
        actual = decoder.counters
        #expect(actual.failed == 4)
    }
}

// MARK: Byte surgery on JPEGs

/// Offset of the first marker FF `code` (searching the header segments only).
func markerOffset(_ jpeg: [UInt8], _ code: UInt8) -> Int? {
    var index = 2
    while index + 4 <= jpeg.count, jpeg[index] == 0xFF {
        if jpeg[index + 1] == code { return index }
        if jpeg[index + 1] == 0xDA { return nil }
        let length = Int(jpeg[index + 2]) << 8 | Int(jpeg[index + 3])
        index += 2 + length
    }
    return nil
}

/// Offset of the first entropy-coded byte (just after the SOS header).
func startOfScanData(_ jpeg: [UInt8]) -> Int? {
    var index = 2
    while index + 4 <= jpeg.count, jpeg[index] == 0xFF {
        let length = Int(jpeg[index + 2]) << 8 | Int(jpeg[index + 3])
        if jpeg[index + 1] == 0xDA { return index + 2 + length }
        index += 2 + length
    }
    return nil
}

/// A copy of a baseline JPEG whose SOF0 declares another size.
func withDimensions(_ jpeg: [UInt8], width: Int, height: Int) -> [UInt8] {
    var copy = jpeg
    guard let sof = markerOffset(jpeg, 0xC0) else { return copy }
    copy[sof + 5] = UInt8(height >> 8 & 0xFF)
    copy[sof + 6] = UInt8(height & 0xFF)
    copy[sof + 7] = UInt8(width >> 8 & 0xFF)
    copy[sof + 8] = UInt8(width & 0xFF)
    return copy
}
