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
