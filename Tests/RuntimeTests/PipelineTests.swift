// The pipeline end to end with real sources: the built-in pattern, the sample MJPEG footage,
// and an MJPEG stream with broken frames spliced in, which must be dropped and counted.

import Boards
import Capture
import Foundation
import Frames
import ObscuraRuntime
import Testing

func fixture(_ name: String) throws -> String {
    let path = packageRoot + "/Fixtures/" + name
    guard FileManager.default.fileExists(atPath: path) else {
        Issue.record("missing fixture \(path): run tools/bootstrap")
        throw CancellationError()
    }
    return path
}

func options(camera: String, board: String = "rpi-4b", pacing: Pacing = .freeRunning) -> RunOptions {
    var options = RunOptions()
    options.camera = camera
    options.board = board
    options.boardsDirectory = packageRoot + "/Boards"
    options.pacing = pacing
    return options
}

@Test func patternRunReportsEveryStage() throws {
    let session = try Session.open(options(camera: "pattern:640x480@30"))
    let report = try session.pipeline.run(frameLimit: 20)
    #expect(report.frames == 20)
    #expect(report.ended == "frame limit")
    #expect(report.stages.map(\.stage) == ["capture", "motion", "detect", "track", "redact", "total"])
    let analysis = try #require(report.stages.first { $0.stage == "motion" })
    #expect(analysis.frames == 20)
    #expect(analysis.p50Ms > 0 && analysis.p50Ms <= analysis.p99Ms && analysis.p99Ms <= analysis.maxMs)
    // The emulated board time is the host time times the Pi 4's pixel-kernel factor (4.4),
    // within the histograms' 3-digit precision.
    #expect(abs(analysis.emulatedP50Ms / analysis.p50Ms - 4.4) < 0.1)
    #expect(report.counters["source.delivered"] == 20)
    #expect(abs((report.budgetMs ?? 0) - (1000.0 / 30 - 7)) < 1e-9)
}

@Test func mjpegFootageIsDecodedThenAnalysed() throws {
    let path = try fixture("vtest_640x480.mjpeg")
    let session = try Session.open(options(camera: "file:\(path)?loop=false"))
    let report = try session.pipeline.run(frameLimit: 40)
    #expect(report.stages.map(\.stage) == ["capture", "decode", "motion", "detect", "track", "redact", "total"])
    #expect(report.counters["decode.decoded"] == 40)
    #expect(report.counters["motion.frames"] == 40)
    #expect(report.counters["detect.frames"] == 40)
    let decode = try #require(report.stages.first { $0.stage == "decode" })
    #expect(abs(decode.emulatedP50Ms / decode.p50Ms - 5.4) < 0.1, "the Pi 4's JPEG decode factor")
    let json = report.json()
    let decoded = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    #expect(decoded?["frames"] as? Int == 40)
    #expect((decoded?["stages"] as? [[String: Any]])?.count == 7)
}

/// Frames whose JPEG data is damaged but whose markers are intact reach the decoder, which must
/// drop them; the frames around them still come through.
@Test func damagedFramesAreDroppedAndCounted() throws {
    let path = try fixture("vtest_640x480.mjpeg")
    let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
    let frames = splitJPEGs(data, limit: 6)
    #expect(frames.count == 6)
    var stream = Data()
    for (index, frame) in frames.enumerated() {
        var bytes = Data(frame)  // rebased: a slice keeps the whole file's indices
        if index == 2 {
            // Overwrite the middle of the entropy-coded data with 0xFF 0xD0..: restart markers
            // where none belong, which libjpeg reports as corrupt data.
            let start = bytes.count / 2
            for offset in stride(from: 0, to: 64, by: 2) { bytes[start + offset] = 0xFF; bytes[start + offset + 1] = 0xD3 }
        }
        if index == 4 {
            // Zero the quantisation tables' reference: SOF says 3 components, cut them to 0.
            if let sof = bytes.firstRange(of: Data([0xFF, 0xC0])) { bytes[sof.lowerBound + 9] = 0 }
        }
        stream.append(bytes)
    }
    let damaged = FileManager.default.temporaryDirectory.appendingPathComponent("obscura-damaged-\(getpid()).mjpeg")
    try stream.write(to: damaged)
    defer { try? FileManager.default.removeItem(at: damaged) }
    let session = try Session.open(options(camera: "file:\(damaged.path)?loop=false"))
    let report = try session.pipeline.run(frameLimit: nil)
    #expect(report.ended == "end of stream")
    let delivered = report.counters["source.delivered"] ?? 0
    let decoded = report.counters["decode.decoded"] ?? 0
    let dropped = report.counters["decode.dropped"] ?? 0
    #expect(delivered + (report.counters["source.corrupt"] ?? 0) == 6)
    #expect(decoded == 4, "four intact frames decode")
    #expect(dropped == delivered - decoded, "every damaged frame that reached the decoder is dropped")
    #expect(report.counters["motion.frames"] == decoded, "nothing undecoded reaches analysis")
}

@Test func stopRequestEndsAPacedRunBetweenFrames() throws {
    let session = try Session.open(options(camera: "pattern:640x480@15?format=gray8", board: "generic", pacing: .nominal))
    let token = session.pipeline.stopToken
    let thread = Thread { Thread.sleep(forTimeInterval: 0.3); token.request() }
    thread.start()
    let report = try session.pipeline.run(frameLimit: 1000)
    #expect(report.ended == "stop requested")
    // 15 fps for about 0.3 s; a loose bound, the machine is shared.
    #expect(report.frames > 0 && report.frames < 30)
}

@Test func boardWithoutTheSourceModeIsRefused() {
    #expect {
        _ = try Session.open(options(camera: "pattern:800x600@30"))
    } throws: { error in
        String(describing: error).contains("no camera mode for")
    }
}

/// Splits concatenated baseline JPEGs at their EOI markers (enough for ffmpeg's output, which
/// has no embedded thumbnails).
func splitJPEGs(_ data: Data, limit: Int) -> [Data] {
    var frames: [Data] = []
    var start = data.startIndex
    var index = data.startIndex
    while index + 1 < data.endIndex, frames.count < limit {
        if data[index] == 0xFF && data[index + 1] == 0xD9 {
            frames.append(data[start...(index + 1)])
            start = index + 2
            index += 2
        } else {
            index += 1
        }
    }
    return frames
}
