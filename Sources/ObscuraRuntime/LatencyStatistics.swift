// Per-stage latency histograms (HdrHistogram) and the report built from them, as a table or JSON.

public import Boards
import Foundation
import Histogram

/// Latency of one stage across frames, in nanoseconds, plus the emulated board time.
public struct StageStatistics: Sendable {
    public let name: String
    public let workKind: WorkKind
    /// Host time per frame.
    var host: Histogram<UInt64>
    /// Host time scaled by the board's cost factor for this stage's kind of work.
    var emulated: Histogram<UInt64>

    init(name: String, workKind: WorkKind) {
        self.name = name
        self.workKind = workKind
        // 1 ns to 60 s at 3 significant digits: a few tens of kB, allocated once.
        host = Histogram(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        emulated = host
    }

    mutating func record(hostNanoseconds: UInt64, factor: Double) {
        let clampedHost = min(max(hostNanoseconds, 1), 60_000_000_000)
        _ = host.record(clampedHost)
        let scaled = min(max(UInt64(Double(clampedHost) * factor), 1), 60_000_000_000)
        _ = emulated.record(scaled)
    }

    mutating func reset() {
        host.reset()
        emulated.reset()
    }

    var summary: StageSummary {
        StageSummary(
            stage: name, kind: workKind.rawValue, frames: Int(host.totalCount),
            p50Ms: milliseconds(host.valueAtPercentile(50)), p99Ms: milliseconds(host.valueAtPercentile(99)),
            maxMs: milliseconds(host.max),
            emulatedP50Ms: milliseconds(emulated.valueAtPercentile(50)), emulatedP99Ms: milliseconds(emulated.valueAtPercentile(99)),
            emulatedMaxMs: milliseconds(emulated.max))
    }
}

private func milliseconds(_ nanoseconds: UInt64) -> Double {
    (Double(nanoseconds) / 1_000).rounded() / 1_000
}

/// One stage's figures in a report.
public struct StageSummary: Sendable, Codable, Equatable {
    public var stage: String
    public var kind: String
    public var frames: Int
    public var p50Ms: Double
    public var p99Ms: Double
    public var maxMs: Double
    public var emulatedP50Ms: Double
    public var emulatedP99Ms: Double
    public var emulatedMaxMs: Double
}

/// What a run or a benchmark reports.
public struct RunReport: Sendable, Codable {
    public var camera: String
    public var mode: String
    public var board: String
    /// The per-frame budget; nil when analysis had no time limit (offline redaction).
    public var budgetMs: Double?
    public var pacing: String
    public var frames: Int
    public var elapsedSeconds: Double
    /// Frames whose emulated processing time exceeded the budget.
    public var budgetMisses: Int
    public var stages: [StageSummary]
    /// Counters from the source and the stages, by name.
    public var counters: [String: UInt64]
    /// Counts per interval: line crossings and zone occupancy, aggregates only.
    public var intervals: [IntervalReport]
    /// Why the run ended: "frame limit", "end of stream", "signal SIGINT", ...
    public var ended: String

    /// The report as pretty-printed JSON with sorted keys.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The report as a human-readable table.
    public func table() -> String {
        var lines: [String] = []
        lines.append("camera  \(camera) (\(mode))")
        lines.append("board   \(board), budget \(budgetMs.map { "\(format($0)) ms" } ?? "unlimited") per frame, \(pacing)")
        let rate = elapsedSeconds > 0 ? Double(frames) / elapsedSeconds : 0
        lines.append("frames  \(frames) in \(format(elapsedSeconds)) s (\(format(rate)) fps), ended: \(ended)")
        lines.append("")
        let header = ["stage", "frames", "p50 ms", "p99 ms", "max ms", "board p50", "board p99", "board max"]
        var rows = [header]
        for stage in stages {
            rows.append([stage.stage, String(stage.frames), format(stage.p50Ms), format(stage.p99Ms), format(stage.maxMs),
                         format(stage.emulatedP50Ms), format(stage.emulatedP99Ms), format(stage.emulatedMaxMs)])
        }
        var widths = Array(repeating: 0, count: header.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        for (rowIndex, row) in rows.enumerated() {
            let cells = row.enumerated().map { index, cell in
                index == 0 ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[index] - cell.count) + cell
            }
            lines.append(cells.joined(separator: "  "))
            if rowIndex == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        lines.append("")
        if let budgetMs {
            lines.append("budget misses (board time over \(format(budgetMs)) ms): \(budgetMisses) of \(frames)")
        }
        lines.append(contentsOf: coverageLines())
        for interval in intervals {
            lines.append(interval.line)
        }
        if !counters.isEmpty {
            lines.append("counters: " + counters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }

    /// Above this mean fraction of the frame left unexamined, the table says why and what to do.
    static let coverageHintPermille: UInt64 = 500

    /// How much of the frame the detectors examined and how much was masked, from the counters,
    /// and a hint when the budget left most of the frame unexamined: a fully masked stream is the
    /// fail-closed answer to a board that is too slow for the mode, and should not look like a
    /// fault.
    func coverageLines() -> [String] {
        let unverified = counters["detect.unverified_permille_mean"]
        let masked = counters["redact.masked_permille_mean"]
        var parts: [String] = []
        if let unverified { parts.append("\(permille(unverified)) of the frame left unexamined by the detectors") }
        if let masked { parts.append("\(permille(masked)) masked") }
        guard !parts.isEmpty else { return [] }
        var lines = ["coverage: " + parts.joined(separator: ", ") + " (means over \(frames) frames)"]
        guard let unverified, unverified >= Self.coverageHintPermille else { return lines }
        if counters["detect.work_units"] == nil {
            // The analysis ran without a scheduler: no detectors at all.
            lines.append("note: no detectors ran (the config's analysis.detectors is empty), so nothing could be verified and every frame was masked whole.")
        } else if budgetMs != nil {
            lines.append("""
                note: the detectors could not examine most of each frame within the budget, and what they \
                could not examine was masked (fail closed). This board needs a lower frame rate or a \
                smaller mode for them (e.g. pattern:640x480@10, or ?fps=10 on a file camera).
                """)
        }
        return lines
    }
}

private func permille(_ value: UInt64) -> String {
    String(format: "%.1f%%", Double(value) / 10)
}

func format(_ value: Double) -> String {
    if value >= 100 { return String(format: "%.1f", value) }
    if value >= 10 { return String(format: "%.2f", value) }
    return String(format: "%.3f", value)
}
