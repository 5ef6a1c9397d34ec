// MotionDetector on real footage: the bootstrap's vtest clip (pedestrians in a mall, 10 fps),
// read from its Y4M file (the Analysis tests depend only on Analysis and Frames, so no JPEG
// decoder), Y plane downscaled by 4 as AnalysisInputStage does. Also a timing figure.

import Foundation
import Testing
import Frames
import Analysis

/// The repository root, found from this file's path (Tests/AnalysisTests/<file>).
let motionRepositoryRoot: String = {
    var path = #filePath
    for _ in 0..<3 {
        guard let slash = path.lastIndex(of: "/") else { break }
        path = String(path[..<slash])
    }
    return path
}()

struct MotionFixtureMissing: Error, CustomStringConvertible {
    var description: String
}

/// Reads the Y planes of the first `count` frames of a 4:2:0 Y4M file, downscaled by `factor`.
func readDownscaledY4MFrames(path: String, count: Int, factor: Int) throws -> (width: Int, height: Int, frames: [[UInt8]]) {
    guard let file = FileHandle(forReadingAtPath: path) else {
        throw MotionFixtureMissing(description: "fixture \(path) is missing: run tools/bootstrap to make the sample footage")
    }
    defer { try? file.close() }
    // Enough for the header line; the rest is parsed from what follows it.
    var buffer = try file.read(upToCount: 4096) ?? Data()
    guard let headerEnd = buffer.firstIndex(of: 0x0A) else { throw MotionFixtureMissing(description: "\(path): no Y4M header line") }
    let header = String(decoding: buffer[..<headerEnd], as: UTF8.self).split(separator: " ")
    guard header.first == "YUV4MPEG2",
          let width = header.first(where: { $0.hasPrefix("W") }).flatMap({ Int($0.dropFirst()) }),
          let height = header.first(where: { $0.hasPrefix("H") }).flatMap({ Int($0.dropFirst()) }) else {
        throw MotionFixtureMissing(description: "\(path): not a Y4M file")
    }
    buffer = buffer.subdata(in: (headerEnd + 1)..<buffer.count)
    let frameBytes = width * height * 3 / 2
    let output = downscaledSize(width: width, height: height, factor: factor)
    var frames: [[UInt8]] = []
    while frames.count < count {
        // "FRAME" plus optional parameters, then a newline, then the planes.
        while buffer.firstIndex(of: 0x0A) == nil || buffer.count < frameBytes + 64 {
            guard let more = try file.read(upToCount: frameBytes), !more.isEmpty else { break }
            buffer.append(more)
        }
        guard let lineEnd = buffer.firstIndex(of: 0x0A), buffer.starts(with: Array("FRAME".utf8)),
              buffer.count >= lineEnd + 1 + frameBytes else { break }
        var image = [UInt8](repeating: 0, count: output.width * output.height)
        buffer.withUnsafeBytes { bytes in
            image.withUnsafeMutableBytes { destination in
                downscaleBox(source: bytes.baseAddress! + lineEnd + 1 - buffer.startIndex, width: width, height: height, stride: width,
                             factor: factor, destination: destination.baseAddress!, destinationStride: output.width)
            }
        }
        frames.append(image)
        buffer = buffer.subdata(in: (lineEnd + 1 + frameBytes)..<buffer.count)
    }
    return (output.width, output.height, frames)
}

// Serialized so the timing is not shared with the footage test's decoding.
@Suite("Motion on footage", .serialized)
struct MotionFootageTests {
    @Test("pedestrians in vtest: regions on most frames, none covering half the frame, no lighting changes")
    func pedestrians() throws {
        let path = motionRepositoryRoot + "/Fixtures/vtest_640x480.y4m"
        let footage = try readDownscaledY4MFrames(path: path, count: 150, factor: 4)
        #expect(footage.width == 160 && footage.height == 120)
        try #require(footage.frames.count == 150, "the fixture should hold at least 150 frames")
        var configuration = MotionConfiguration()
        // Report everything so the test sees a frame-sized region if one were found.
        configuration.maximumAreaFraction = 1
        let detector = MotionDetector(width: footage.width, height: footage.height, configuration: configuration)
        for frame in footage.frames[0..<30] { _ = detector.update(image: frame) }
        var framesWithRegions = 0, largestArea = 0, regionTotal = 0
        var largestChangedFraction = 0.0
        for frame in footage.frames[30...] {
            let result = detector.update(image: frame)
            if !result.regions.isEmpty { framesWithRegions += 1 }
            regionTotal += result.regions.count
            for region in result.regions { largestArea = max(largestArea, region.box.area) }
            largestChangedFraction = max(largestChangedFraction, result.changedFraction)
        }
        let analysed = footage.frames.count - 30
        print("vtest 160x120: \(framesWithRegions)/\(analysed) frames with regions, \(regionTotal) regions, largest box \(largestArea) px, largest changed fraction \(largestChangedFraction)")
        #expect(framesWithRegions * 10 >= analysed * 9, "regions on \(framesWithRegions) of \(analysed) frames")
        // Several people walk through the scene; a handful of regions per frame, not hundreds.
        #expect(regionTotal <= analysed * 15)
        #expect(largestArea < footage.width * footage.height / 2)
        #expect(largestChangedFraction < 0.25)
        #expect(detector.counters.lightingChanges == 0)
    }

    @Test("time per frame at 160x120 and 320x180 (figures printed; run with -c release for real numbers)")
    func timing() {
        for (width, height) in [(160, 120), (320, 180)] {
            var scene = MotionTestScene(width: width, height: height, noise: 6)
            // Pre-made frames so the measurement is the detector alone.
            var frames: [[UInt8]] = []
            for step in 0..<64 {
                frames.append(scene.frame(squares: [
                    DetectionBox(x: (step * 3) % (width - 20), y: height / 4, width: 12, height: 24),
                    DetectionBox(x: width - 20 - (step * 2) % (width - 20), y: height / 2, width: 14, height: 28),
                ]))
            }
            let detector = MotionDetector(width: width, height: height)
            for frame in frames { _ = detector.update(image: frame) }
            let clock = ContinuousClock()
            let rounds = 4
            var regions = 0
            let elapsed = clock.measure {
                for _ in 0..<rounds {
                    for frame in frames { regions &+= detector.update(image: frame, frozen: [DetectionBox(x: 0, y: 0, width: 10, height: 10)]).regions.count }
                }
            }
            let perFrame = elapsed / (rounds * frames.count)
            let microseconds = Double(perFrame.components.seconds) * 1e6 + Double(perFrame.components.attoseconds) / 1e12
            print("MotionDetector \(width)x\(height): \(Int(microseconds.rounded())) µs per frame (\(regions) regions)")
            #expect(regions > 0)
        }
    }
}
