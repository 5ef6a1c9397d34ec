// Analysis inside the pipeline on the sample footage: people crossing a configured line are
// counted per interval, and a tiny budget leaves more of the frame unverified (fail closed)
// instead of letting detection overrun.

import Boards
import Capture
import Foundation
import ObscuraRuntime
import Testing

func writeConfig(_ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("obscura-config-\(getpid())-\(UUID().uuidString).yaml").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Test func movingPeopleCrossingALineAreCountedPerInterval() throws {
    let footage = try fixture("vtest_640x480.mjpeg")
    // Motion-only tracking keeps this fast in a debug build; detectors are covered below.
    let config = try writeConfig("""
        analysis:
          detectors: []
          counting:
            intervalSeconds: 3600
            lines:
              - { name: plaza, from: [0, 240], to: [640, 240] }
        """)
    defer { try? FileManager.default.removeItem(atPath: config) }
    var runOptions = options(camera: "file:\(footage)", board: "generic")
    runOptions.configFile = config
    let report = try Session.open(runOptions).pipeline.run(frameLimit: 300)
    #expect(report.intervals.count == 1)
    let plaza = report.intervals.first?.lines.filter { $0.line == "plaza" } ?? []
    let crossings = plaza.reduce(0) { $0 + $1.positive + $1.negative }
    // Pedestrians walk across the middle of the plaza in the first 30 s of vtest.avi.
    #expect(crossings >= 2, "\(plaza)")
    #expect(crossings < 100, "counts should be people, not jitter: \(plaza)")
    #expect((report.counters["track.tracks_confirmed"] ?? 0) > 0)
    // Without detectors nothing can be verified: the whole frame is unverified, and the report
    // says why (not that the budget was too small).
    #expect(report.counters["detect.unverified_permille_mean"] == 1000)
    #expect(report.table().contains("note: no detectors ran"), "\(report.table())")
    #expect(!report.table().contains("within the budget"))
}

@Test func tinyBudgetLeavesMoreUnverifiedAndStaysBounded() throws {
    let footage = try fixture("vtest_640x480.mjpeg")
    func run(budgetMs: Double) throws -> RunReport {
        var runOptions = options(camera: "file:\(footage)", board: "generic")
        runOptions.budgetMs = budgetMs
        return try Session.open(runOptions).pipeline.run(frameLimit: 12)
    }
    let generous = try run(budgetMs: 60_000)
    let tiny = try run(budgetMs: 0.5)
    let generousUnverified = generous.counters["detect.unverified_permille_mean"] ?? 0
    let tinyUnverified = tiny.counters["detect.unverified_permille_mean"] ?? 0
    #expect(generousUnverified < 500, "with a minute per frame most of the frame is scanned")
    #expect(tinyUnverified > generousUnverified)
    #expect(tinyUnverified >= 800)
    let tinyDetect = try #require(tiny.stages.first { $0.stage == "detect" })
    let generousDetect = try #require(generous.stages.first { $0.stage == "detect" })
    // Bounded: a tiny budget stops detection early instead of running the full scan late.
    #expect(tinyDetect.p50Ms * 2 < generousDetect.p50Ms, "tiny \(tinyDetect.p50Ms) ms vs generous \(generousDetect.p50Ms) ms")
    #expect((tiny.counters["detect.deadline_misses"] ?? 0) <= 12)
    // The table says how much was examined, and explains a mostly masked stream only when it is one.
    let tinyTable = tiny.table(), generousTable = generous.table()
    let tinyPercent = String(format: "%.1f%%", Double(tinyUnverified) / 10)
    #expect(tinyTable.contains("coverage: \(tinyPercent) of the frame left unexamined by the detectors"), "\(tinyTable)")
    #expect(tinyTable.contains("could not examine most of each frame within the budget"), "\(tinyTable)")
    #expect(generousTable.contains("coverage: "), "\(generousTable)")
    #expect(!generousTable.contains("could not examine most of each frame"), "\(generousTable)")
}

@Test func missingCascadeIsAClearError() throws {
    let config = try writeConfig("""
        analysis:
          detectors:
            - { class: face, cascade: /nonexistent/face.xml }
        """)
    defer { try? FileManager.default.removeItem(atPath: config) }
    var runOptions = options(camera: "pattern:640x480@30", board: "generic")
    runOptions.configFile = config
    #expect {
        _ = try Session.open(runOptions)
    } throws: { error in
        String(describing: error).contains("analysis: detector cascade /nonexistent/face.xml")
    }
}
