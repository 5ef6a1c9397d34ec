// The redaction step inside the pipeline: every frame that survives the stages is redacted,
// it fails closed when analysis is off or incomplete, and the outputs receive only what the
// redactor returned.

import Boards
import Capture
import Foundation
import ObscuraRuntime
import Testing

@Test func analysisSwitchedOffMasksEveryFrameWhole() throws {
    let config = try writeConfig("analysis:\n  enabled: false\n")
    defer { try? FileManager.default.removeItem(atPath: config) }
    var runOptions = options(camera: "pattern:320x240@30", board: "generic")
    runOptions.configFile = config
    runOptions.requireBoardMode = false
    let report = try Session.open(runOptions).pipeline.run(frameLimit: 10)
    #expect(report.stages.map(\.stage) == ["capture", "redact", "total"])
    #expect(report.counters["redact.frames"] == 10)
    #expect(report.counters["redact.whole_frame_masks"] == 10)
    #expect(report.counters["redact.analysis_missing"] == 10)
    #expect(report.counters["redact.masked_permille_mean"] == 1000)
}

@Test func withoutDetectorsTheWholeFrameIsUnverifiedAndMasked() throws {
    let config = try writeConfig("analysis:\n  detectors: []\n")
    defer { try? FileManager.default.removeItem(atPath: config) }
    var runOptions = options(camera: "pattern:640x480@30", board: "generic")
    runOptions.configFile = config
    let report = try Session.open(runOptions).pipeline.run(frameLimit: 6)
    #expect(report.counters["redact.frames"] == 6)
    #expect(report.counters["redact.analysis_missing"] == 0)
    // Analysis ran, but nothing could be verified: every pixel is masked, frame by frame.
    #expect(report.counters["redact.masked_permille_mean"] == 1000)
}

@Test func unlimitedBudgetVerifiesTheFrameAndMasksLittleOfAnEmptyScene() throws {
    var runOptions = options(camera: "pattern:320x240@30", board: "generic")
    runOptions.unlimitedBudget = true
    runOptions.requireBoardMode = false
    let session = try Session.open(runOptions)
    #expect(session.budgetMs.isInfinite)
    let report = try session.pipeline.run(frameLimit: 10)
    #expect(report.budgetMs == nil)
    // Only the warm-up frames, before the background model tells the empty scene apart, are
    // masked whole under the foreground policy.
    #expect(report.counters["redact.whole_frame_masks"] == UInt64(MotionStage.warmUpFrames))
    #expect(report.counters["redact.no_background"] == UInt64(MotionStage.warmUpFrames))
    #expect(report.counters["detect.whole_frame_passes"] == 10)
    // The pattern has no people: with time to scan everything, little is left masked.
    #expect((report.counters["detect.unverified_permille_mean"] ?? 1000) < 100, "\(report.counters)")
    #expect(report.table().contains("budget unlimited per frame"))
}

@Test func detectionsPolicyKeepsTheFirstFramesAndForegroundMasksThem() throws {
    func firstFramesMasked(policy: String) throws -> UInt64? {
        var runOptions = options(camera: "pattern:320x240@30", board: "generic")
        runOptions.policy = policy
        runOptions.requireBoardMode = false
        return try Session.open(runOptions).pipeline.run(frameLimit: 2).counters["redact.whole_frame_masks"]
    }
    #expect(try firstFramesMasked(policy: "foreground") == 2)
    #expect(try firstFramesMasked(policy: "detections") == 0)
}
