// The config file: the shipped example parses, and each kind of mistake names file, line and key.

import Boards
import Foundation
import ObscuraRuntime
import Testing

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

@Test func shippedExampleConfigParses() throws {
    let config = try ObscuraConfig.load(file: packageRoot + "/config/obscura.yaml")
    #expect(config.board == "rpi-4b")
    #expect(config.camera?.hasPrefix("file:") == true)
    #expect(config.poolSize == 4)
    #expect(config.statsIntervalSeconds == 10)
    #expect(config.analysis.detectors.map(\.objectClass.rawValue) == ["person", "face"])
    #expect(config.analysis.lines.first?.name == "plaza")
    #expect(config.analysis.zones.first?.polygon.count == 4)
}

@Test func redactionAndOutputBlocksParse() throws {
    let config = try ObscuraConfig.parse("""
        redaction:
          policy: detections
          margin: 0.5
          method: blur
          persistenceFrames: 8
          privacyZones:
            - { name: window, polygon: [[10, 10], [100, 10], [100, 60]] }
        output:
          mjpeg: /var/lib/obscura/redacted.mjpeg
          quality: 70
          snapshots: { folder: /var/lib/obscura/snapshots, intervalSeconds: 30, keep: 12 }
        """, file: "c.yaml")
    #expect(config.redaction.policy == .detections(margin: 0.5))
    #expect(config.redaction.method == .blur)
    #expect(config.redaction.persistenceFrames == 8)
    #expect(config.redaction.privacyZones.first?.name == "window")
    #expect(config.redaction.privacyZones.first?.polygon.count == 3)
    #expect(config.output.mjpegPath == "/var/lib/obscura/redacted.mjpeg")
    #expect(config.output.quality == 70)
    #expect(config.output.snapshotFolder == "/var/lib/obscura/snapshots")
    #expect(config.output.snapshotIntervalSeconds == 30)
    #expect(config.output.snapshotKeep == 12)
    // The defaults: foreground with a 30% margin, pixelate, and no output at all.
    let empty = ObscuraConfig()
    #expect(empty.redaction.policy == .foreground(margin: 0.3))
    #expect(empty.redaction.method == .pixelate)
    #expect(empty.output.mjpegPath == nil && empty.output.snapshotFolder == nil)
}

@Test func cameraControlsKeepTheirOrderAndValues() throws {
    let config = try ObscuraConfig.parse("controls:\n  brightness: 128\n  power_line_frequency: \"50 Hz\"\n", file: "c.yaml")
    #expect(config.controls.map(\.name) == ["brightness", "power_line_frequency"])
    #expect(config.controls.map(\.value) == ["128", "50 Hz"])
}

@Test func commentOnlyConfigIsEmpty() throws {
    let config = try ObscuraConfig.parse("# nothing yet\n\n", file: "c.yaml")
    #expect(config == ObscuraConfig())
}

@Test(arguments: [
    ("budgetMs: -3", "budgetMs", 1, "out of range"),
    ("budgetMs: soon", "budgetMs", 1, "expected a number"),
    ("camera: x\nboard: [a, b]", "board", 2, "expected a non-empty string"),
    ("pipeline:\n  poolSize: 1", "pipeline.poolSize", 2, "out of range"),
    ("pipeline:\n  pool: 4", "pipeline.pool", 2, "unknown key"),
    ("logging:\n  level: loud", "logging.level", 2, "not a log level"),
    ("cameras: x", "cameras", 1, "unknown key"),
    ("analysis:\n  detectors:\n    - { class: cat, cascade: x.xml }", "analysis.detectors[0].class", 3, "not a detector class"),
    ("analysis:\n  counting:\n    lines:\n      - { name: a, from: [1], to: [2, 3] }", "analysis.counting.lines[0].from", 4, "two numbers"),
    ("analysis:\n  counting:\n    zones:\n      - { name: z, polygon: [[0, 0], [1, 1]] }", "analysis.counting.zones[0].polygon", 4, "at least 3 points"),
    ("controls:\n  brightness: [1, 2]", "controls.brightness", 2, "expected a single value"),
    ("camera: [unclosed", "", 2, "not valid YAML"),  // libyaml notices at the end of input, line 2
    ("- just\n- a list", "", 1, "expected a mapping"),
    ("redaction:\n  policy: nobody", "redaction.policy", 2, "not a policy"),
    ("redaction:\n  method: smudge", "redaction.method", 2, "not a method"),
    ("redaction:\n  margin: -1", "redaction.margin", 2, "out of range"),
    ("redaction:\n  privacyZones:\n    - { name: door, polygon: [[0, 0], [5, 5]] }", "redaction.privacyZones[0].polygon", 3, "at least 3 points"),
    ("output:\n  quality: 0", "output.quality", 2, "out of range"),
    ("output:\n  snapshots:\n    intervalSeconds: 5", "output.snapshots.folder", 3, "missing"),
])
func mistakesNameFileLineAndKey(text: String, key: String, line: Int, reason: String) {
    #expect {
        _ = try ObscuraConfig.parse(text, file: "site.yaml")
    } throws: { error in
        guard let error = error as? SettingsError else { return false }
        return error.file == "site.yaml" && error.key == key && error.line == line && error.reason.contains(reason)
    }
}

@Test func missingConfigFileSaysSo() {
    #expect {
        _ = try ObscuraConfig.load(file: "/nonexistent/obscura.yaml")
    } throws: { error in
        String(describing: error) == "/nonexistent/obscura.yaml: no such file"
    }
}
