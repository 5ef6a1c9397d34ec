// The `redaction:` and `output:` blocks of the config: what is masked and how, and where the
// redacted frames go. Every output takes only redacted frames (DESIGN.md, invariant 2); with no
// output configured a run keeps nothing and reports statistics only.

public import Boards
public import Frames
public import Redaction

/// The `redaction:` block.
public struct RedactionSettings: Sendable, Equatable {
    public var policy: RedactionPolicy = .default
    public var method: RedactionMethod = .pixelate
    public var persistenceFrames = 5
    public var privacyZones: [PrivacyZone] = []
    /// For MJPEG sources, with pixelate or fill: redact the camera's JPEG in the DCT domain
    /// (cells of whole 16x16 blocks) instead of decoding, masking and re-encoding it. The output
    /// keeps the camera's own JPEG quality; only the masked blocks change.
    public var coefficientDomain = true

    public init() {}

    public var configuration: RedactionConfiguration {
        RedactionConfiguration(policy: policy, method: method, privacyZones: privacyZones, persistenceFrames: persistenceFrames)
    }

    public static let policyNames = ["foreground", "detections"]

    /// `foreground` or `detections`, with a box margin (0.3 = 30% wider and taller).
    public static func policy(named name: String, margin: Double) -> RedactionPolicy? {
        switch name {
        case "foreground": .foreground(margin: margin)
        case "detections": .detections(margin: margin)
        default: nil
        }
    }

    static func parse(_ mapping: SettingsMapping) throws(SettingsError) -> RedactionSettings {
        var settings = RedactionSettings()
        try mapping.rejectUnknownKeys(["policy", "margin", "method", "persistenceFrames", "privacyZones", "coefficientDomain"])
        settings.coefficientDomain = try mapping.optionalBool("coefficientDomain") ?? settings.coefficientDomain
        let margin = try mapping.optionalDouble("margin", in: 0...4) ?? settings.policy.margin
        let policyName = try mapping.optionalString("policy") ?? "foreground"
        guard let policy = policy(named: policyName, margin: margin) else {
            throw SettingsError(file: mapping.file, line: mapping.value("policy")?.mark?.line, key: mapping.keyPath("policy"),
                                reason: "'\(policyName)' is not a policy; expected \(policyNames.joined(separator: " or "))")
        }
        settings.policy = policy
        if let methodName = try mapping.optionalString("method") {
            guard let method = RedactionMethod(rawValue: methodName) else {
                throw SettingsError(file: mapping.file, line: mapping.value("method")?.mark?.line, key: mapping.keyPath("method"),
                                    reason: "'\(methodName)' is not a method; expected "
                                        + RedactionMethod.allCases.map(\.rawValue).joined(separator: ", "))
            }
            settings.method = method
        }
        settings.persistenceFrames = try mapping.optionalInt("persistenceFrames", in: 0...300) ?? settings.persistenceFrames
        if mapping.contains("privacyZones") {
            for entry in try mapping.mappings("privacyZones") {
                try entry.rejectUnknownKeys(["name", "polygon"])
                let polygon = try entry.polygon("polygon", what: "a privacy zone")
                settings.privacyZones.append(PrivacyZone(name: try entry.string("name"),
                                                         polygon: polygon.map { PixelPoint(x: $0.x, y: $0.y) }))
            }
        }
        return settings
    }
}

/// The `output:` block: a redacted MJPEG stream and periodic snapshots, both optional.
public struct OutputSettings: Sendable, Equatable {
    /// Redacted MJPEG stream (concatenated JPEGs, with PATH.index beside it).
    public var mjpegPath: String?
    /// JPEG quality of re-encoded frames, 1 to 100.
    public var quality = 85
    /// Folder for snapshots (one redacted JPEG every `snapshotIntervalSeconds`).
    public var snapshotFolder: String?
    public var snapshotIntervalSeconds = 10.0
    /// Snapshots kept; older ones are deleted.
    public var snapshotKeep = 100

    public init() {}

    static func parse(_ mapping: SettingsMapping) throws(SettingsError) -> OutputSettings {
        var settings = OutputSettings()
        try mapping.rejectUnknownKeys(["mjpeg", "quality", "snapshots"])
        settings.mjpegPath = try mapping.optionalString("mjpeg")
        settings.quality = try mapping.optionalInt("quality", in: 1...100) ?? settings.quality
        if let snapshots = try mapping.optionalMapping("snapshots") {
            try snapshots.rejectUnknownKeys(["folder", "intervalSeconds", "keep"])
            settings.snapshotFolder = try snapshots.string("folder")
            settings.snapshotIntervalSeconds = try snapshots.optionalDouble("intervalSeconds", in: 0.01...86_400)
                ?? settings.snapshotIntervalSeconds
            settings.snapshotKeep = try snapshots.optionalInt("keep", in: 1...100_000) ?? settings.snapshotKeep
        }
        return settings
    }
}
