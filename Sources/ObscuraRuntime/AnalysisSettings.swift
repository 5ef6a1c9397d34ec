// The `analysis:` block of the config: which cascades find what (to mask it), and the lines and
// zones whose counts the device reports. Detectors only ever locate regions; nothing here
// identifies anyone (DESIGN.md, invariant 1).

public import Analysis
public import Boards

/// One detector: an OpenCV cascade file and the class of region it finds.
public struct DetectorSetting: Sendable, Equatable {
    public var objectClass: ObjectClass
    /// Path of the cascade XML; relative paths are taken from `cascadesDirectory`.
    public var cascade: String
    public var scaleFactor: Double
    public var minNeighbors: Int
    public var minWidth: Int
    public var minHeight: Int
    /// Run the cascade on the mirror image (for one-sided cascades such as the profile face).
    public var mirrored: Bool

    public init(objectClass: ObjectClass, cascade: String, scaleFactor: Double, minNeighbors: Int, minWidth: Int, minHeight: Int,
                mirrored: Bool = false) {
        self.mirrored = mirrored
        self.objectClass = objectClass
        self.cascade = cascade
        self.scaleFactor = scaleFactor
        self.minNeighbors = minNeighbors
        self.minWidth = minWidth
        self.minHeight = minHeight
    }
}

/// A counting line or zone in full-frame pixels.
public struct LineSetting: Sendable, Equatable {
    public var name: String
    public var from: Point
    public var to: Point
}

public struct ZoneSetting: Sendable, Equatable {
    public var name: String
    public var polygon: [Point]
}

public struct AnalysisSettings: Sendable, Equatable {
    /// Motion, detection and tracking run when true; `false` leaves only decoding (benchmarks
    /// of the capture path).
    public var enabled = true
    /// Where relative cascade paths are looked up: Debian's opencv-data.
    public var cascadesDirectory = "/usr/share/opencv4"
    public var detectors: [DetectorSetting] = AnalysisSettings.defaultDetectors
    public var lines: [LineSetting] = []
    public var zones: [ZoneSetting] = []
    /// Seconds of capture time per counting interval.
    public var countIntervalSeconds: Double = 10
    /// Equalise the luma histogram before the detectors run, as OpenCV's face detection sample
    /// does: the cascades were trained on contrast-normalised faces and miss more in flat light.
    public var equalizeHistogram = true
    /// A tile that motion touched stays verified when this frame's detectors examined that
    /// motion (the moving region's own pass). Off: any motion voids the tile's scan until it is
    /// scanned again, which on busy footage re-scans most tiles every frame.
    public var trustExaminedMotion = true

    public init() {}

    /// People (whole bodies) and faces, with OpenCV's usual parameters for VGA-sized frames.
    ///
    /// People start at 24x48 pixels rather than the cascade's own 14x28. A person 48 pixels tall
    /// has a face about 6 pixels high, which carries nothing identifiable, and every person who
    /// moves is masked by the foreground policy whatever their size. The smallest scales are much
    /// of the person detector's work: a whole 640x480 frame takes 25 ms instead of 45, and on the
    /// sample footage its moving-region passes about 5 ms a frame instead of 9. On ten frames of
    /// that footage the cascade finds the same 35 people either way, the smallest 25x50.
    public static let defaultDetectors = [
        DetectorSetting(objectClass: .person, cascade: "haarcascades/haarcascade_fullbody.xml",
                        scaleFactor: 1.1, minNeighbors: 3, minWidth: 24, minHeight: 48),
        DetectorSetting(objectClass: .face, cascade: "haarcascades/haarcascade_frontalface_default.xml",
                        scaleFactor: 1.2, minNeighbors: 3, minWidth: 0, minHeight: 0),
    ]

    /// For offline redaction, where time is not limited: people, and faces by every frontal and
    /// profile cascade OpenCV ships (the profile cascade both ways round), at finer scale steps.
    public static let thoroughDetectors = [
        DetectorSetting(objectClass: .person, cascade: "haarcascades/haarcascade_fullbody.xml",
                        scaleFactor: 1.1, minNeighbors: 3, minWidth: 0, minHeight: 0),
        DetectorSetting(objectClass: .face, cascade: "haarcascades/haarcascade_frontalface_default.xml",
                        scaleFactor: 1.1, minNeighbors: 3, minWidth: 0, minHeight: 0),
        DetectorSetting(objectClass: .face, cascade: "haarcascades/haarcascade_frontalface_alt.xml",
                        scaleFactor: 1.1, minNeighbors: 3, minWidth: 0, minHeight: 0),
        DetectorSetting(objectClass: .face, cascade: "haarcascades/haarcascade_frontalface_alt2.xml",
                        scaleFactor: 1.1, minNeighbors: 3, minWidth: 0, minHeight: 0),
        DetectorSetting(objectClass: .face, cascade: "haarcascades/haarcascade_profileface.xml",
                        scaleFactor: 1.1, minNeighbors: 3, minWidth: 0, minHeight: 0),
        DetectorSetting(objectClass: .face, cascade: "haarcascades/haarcascade_profileface.xml",
                        scaleFactor: 1.1, minNeighbors: 3, minWidth: 0, minHeight: 0, mirrored: true),
    ]

    /// Reads the `analysis:` mapping.
    static func parse(_ mapping: SettingsMapping) throws(SettingsError) -> AnalysisSettings {
        var settings = AnalysisSettings()
        try mapping.rejectUnknownKeys(["enabled", "cascadesDir", "detectors", "counting", "equalizeHistogram", "trustExaminedMotion"])
        settings.trustExaminedMotion = try mapping.optionalBool("trustExaminedMotion") ?? true
        settings.equalizeHistogram = try mapping.optionalBool("equalizeHistogram") ?? true
        settings.enabled = try mapping.optionalBool("enabled") ?? true
        settings.cascadesDirectory = try mapping.optionalString("cascadesDir") ?? settings.cascadesDirectory
        if mapping.contains("detectors") {
            settings.detectors = []
            for entry in try mapping.mappings("detectors") {
                try entry.rejectUnknownKeys(["class", "cascade", "scaleFactor", "minNeighbors", "minSize", "mirrored"])
                let className = try entry.string("class")
                guard let objectClass = ObjectClass(rawValue: className), objectClass != .motion else {
                    throw SettingsError(file: entry.file, line: entry.value("class")?.mark?.line, key: "\(entry.path).class",
                                        reason: "'\(className)' is not a detector class; expected person, face or plate")
                }
                var minimum = (0, 0)
                if let size = try entry.optionalString("minSize") {
                    let parts = size.split(separator: "x").compactMap { Int($0) }
                    guard parts.count == 2, parts[0] > 0, parts[1] > 0 else {
                        throw SettingsError(file: entry.file, line: entry.value("minSize")?.mark?.line, key: "\(entry.path).minSize",
                                            reason: "'\(size)' is not a size; write WIDTHxHEIGHT, e.g. 24x48")
                    }
                    minimum = (parts[0], parts[1])
                }
                settings.detectors.append(DetectorSetting(
                    objectClass: objectClass, cascade: try entry.string("cascade"),
                    scaleFactor: try entry.optionalDouble("scaleFactor", in: 1.01...4) ?? 1.1,
                    minNeighbors: try entry.optionalInt("minNeighbors", in: 0...100) ?? 3,
                    minWidth: minimum.0, minHeight: minimum.1, mirrored: try entry.optionalBool("mirrored") ?? false))
            }
        }
        if let counting = try mapping.optionalMapping("counting") {
            try counting.rejectUnknownKeys(["intervalSeconds", "lines", "zones"])
            settings.countIntervalSeconds = try counting.optionalDouble("intervalSeconds", in: 0.1...86_400) ?? 10
            if counting.contains("lines") {
                for entry in try counting.mappings("lines") {
                    try entry.rejectUnknownKeys(["name", "from", "to"])
                    let points = try entry.points("from") + entry.points("to")
                    guard points.count == 2 else {
                        throw SettingsError(file: entry.file, line: entry.line, key: entry.path, reason: "from and to are each one point [x, y]")
                    }
                    settings.lines.append(LineSetting(name: try entry.string("name"), from: points[0], to: points[1]))
                }
            }
            if counting.contains("zones") {
                for entry in try counting.mappings("zones") {
                    try entry.rejectUnknownKeys(["name", "polygon"])
                    settings.zones.append(ZoneSetting(name: try entry.string("name"), polygon: try entry.polygon("polygon", what: "a zone")))
                }
            }
        }
        return settings
    }
}

extension SettingsMapping {
    /// A polygon of at least 3 points; `what` names it in the error ("a zone").
    func polygon(_ key: String, what: String) throws(SettingsError) -> [Point] {
        let polygon = try points(key)
        guard polygon.count >= 3 else {
            throw SettingsError(file: file, line: value(key)?.mark?.line, key: keyPath(key),
                                reason: "\(what) needs at least 3 points, e.g. [[0, 0], [100, 0], [100, 100]]")
        }
        return polygon
    }

    /// `[x, y]` or `[[x, y], ...]` as points.
    func points(_ key: String) throws(SettingsError) -> [Point] {
        let numbers = try numberLists(key)
        var points: [Point] = []
        for pair in numbers {
            guard pair.count == 2 else {
                throw SettingsError(file: file, line: value(key)?.mark?.line, key: keyPath(key),
                                    reason: "a point is two numbers [x, y]")
            }
            points.append(Point(x: pair[0], y: pair[1]))
        }
        return points
    }
}
