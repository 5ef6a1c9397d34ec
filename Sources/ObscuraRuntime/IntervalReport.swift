// One counting interval as reports print it: crossings per line, class and direction, and zone
// occupancy and dwell, as aggregates. Nothing about an individual track is kept.

import Analysis
import Foundation

public struct IntervalReport: Sendable, Codable, Equatable {
    public struct LineCount: Sendable, Codable, Equatable {
        public var line: String
        public var objectClass: String
        public var positive: Int
        public var negative: Int
    }

    public struct ZoneCount: Sendable, Codable, Equatable {
        public var zone: String
        public var objectClass: String
        public var maximumOccupancy: Int
        public var meanOccupancy: Double
        public var dwells: Int
        public var meanDwellSeconds: Double
    }

    /// Classes with nothing to report are left out.
    /// Seconds from the first frame of the run to the interval's start and end.
    public var startSeconds: Double
    public var endSeconds: Double
    public var frames: Int
    public var lines: [LineCount]
    public var zones: [ZoneCount]

    init(_ counts: IntervalCounts, origin: ContinuousClock.Instant) {
        startSeconds = seconds(counts.start - origin)
        endSeconds = seconds(counts.end - origin)
        frames = counts.frames
        lines = []
        zones = []
        for line in counts.lines {
            let classes = Set(line.positive.keys).union(line.negative.keys).sorted { $0.rawValue < $1.rawValue }
            for objectClass in classes where (line.positive[objectClass] ?? 0) + (line.negative[objectClass] ?? 0) > 0 {
                lines.append(LineCount(line: line.name, objectClass: objectClass.rawValue,
                                       positive: line.positive[objectClass] ?? 0, negative: line.negative[objectClass] ?? 0))
            }
        }
        for zone in counts.zones {
            let classes = Set(zone.occupancy.keys).union(zone.dwell.keys).sorted { $0.rawValue < $1.rawValue }
            for objectClass in classes {
                let occupancy = zone.occupancy[objectClass]
                let dwell = zone.dwell[objectClass]
                guard (occupancy?.maximum ?? 0) > 0 || (dwell?.count ?? 0) > 0 else { continue }
                zones.append(ZoneCount(zone: zone.name, objectClass: objectClass.rawValue,
                                       maximumOccupancy: occupancy?.maximum ?? 0, meanOccupancy: occupancy?.mean ?? 0,
                                       dwells: dwell?.count ?? 0, meanDwellSeconds: dwell?.meanSeconds ?? 0))
            }
        }
    }

    /// One line of the text report.
    var line: String {
        var parts = ["interval \(String(format: "%.1f", startSeconds))-\(String(format: "%.1f", endSeconds)) s (\(frames) frames):"]
        if lines.isEmpty && zones.isEmpty { parts.append("no crossings, no zone occupancy") }
        for count in lines {
            parts.append("line \(count.line) \(count.objectClass) +\(count.positive)/-\(count.negative)")
        }
        for count in zones {
            parts.append("zone \(count.zone) \(count.objectClass) max \(count.maximumOccupancy) mean \(String(format: "%.2f", count.meanOccupancy)) dwells \(count.dwells)")
        }
        return parts.joined(separator: " ")
    }
}
