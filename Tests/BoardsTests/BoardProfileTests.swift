// Loads and validates every profile in Boards/, and checks that broken profiles are reported
// with the file, line and key.

import Boards
import Foundation
import Testing

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let catalog = BoardCatalog(folder: packageRoot + "/Boards")

@Test func everyProfileLoadsAndValidates() throws {
    let names = try catalog.names()
    #expect(names.count >= 6)
    for required in ["generic", "rpi-zero-2w", "rpi-3b-plus", "rpi-4b", "rpi-5", "orange-pi-5"] {
        #expect(names.contains(required), "Boards/ lacks \(required).yaml")
    }
    for profile in try catalog.loadAll() {
        #expect(!profile.cameraModes.isEmpty)
        #expect(profile.cores >= 1)
        for mode in profile.cameraModes {
            #expect(profile.budgetMs(for: mode) > 0, "\(profile.name) \(mode)")
        }
    }
}

@Test func rpi4BudgetFollowsModeAndReserve() throws {
    let profile = try catalog.load("rpi-4b")
    #expect(profile.cpuCore == "Cortex-A72")
    #expect(profile.clockMHz == 1800)
    let mode = try #require(profile.mode(width: 640, height: 480, fps: 30))
    #expect(abs(profile.budgetMs(for: mode) - (1000.0 / 30 - 7)) < 1e-9)
    #expect(profile.mode(width: 640, height: 480, fps: 60) == nil, "no 60 fps mode on a Pi 4")
    #expect(profile.mode(width: 800, height: 600, fps: 10) == nil)
    #expect(profile.costFactors.factor(for: .jpegDecode) == 5.4)
    #expect(profile.costFactors.factor(for: .io) == 1)
}

@Test func unknownBoardNamesTheKnownOnes() {
    #expect {
        _ = try catalog.load("rpi-9")
    } throws: { error in
        let text = String(describing: error)
        return text.contains("unknown board 'rpi-9'") && text.contains("rpi-4b")
    }
}

let validProfile = """
    name: test-board
    title: Test
    soc: X
    cpu: { core: A53, cores: 4, clockMHz: 1000 }
    memory: { ramMB: [512], type: LPDDR2 }
    storage: [microSD]
    cameraModes:
      - { width: 640, height: 480, fps: 30, format: I420, via: CSI }
    budget: { reserveMs: 5 }
    costFactors: { jpegDecode: 2, jpegEncode: 3, pixelKernels: 4, cascade: 5 }
    """

@Test func validTextParses() throws {
    let profile = try BoardCatalog.parse(validProfile, file: "/tmp/test-board.yaml")
    #expect(profile.cameraModes.first?.format == .i420)
    #expect(profile.reserveMs == 5)
}

/// Each broken variant must be rejected, naming the key and, where the value exists, its line.
@Test(arguments: [
    ("fps: 30, format: I420", "fps: fast, format: I420", "cameraModes[0].fps", "expected a number"),
    ("format: I420", "format: RGB565", "cameraModes[0].format", "unknown pixel format"),
    ("cores: 4", "cores: 0", "cpu.cores", "out of range"),
    ("reserveMs: 5", "reserveMs: 40", "budget.reserveMs", "leaves no analysis time"),
    ("soc: X\n", "soc: X\nsocket: Y\n", "socket", "unknown key"),
    ("name: test-board", "name: other", "name", "must match the file name"),
    ("title: Test\n", "", "title", "missing"),
    ("cascade: 5", "cascade: -1", "costFactors.cascade", "out of range"),
    ("storage: [microSD]", "storage: [microSD", "", "not valid YAML"),
])
func brokenProfilesNameFileAndKey(original: String, replacement: String, key: String, reason: String) {
    let text = validProfile.replacingOccurrences(of: original, with: replacement)
    #expect(text != validProfile, "the test's replacement did not apply")
    #expect {
        _ = try BoardCatalog.parse(text, file: "/tmp/test-board.yaml")
    } throws: { error in
        guard let error = error as? SettingsError else { return false }
        return error.file == "/tmp/test-board.yaml" && error.key == key && error.reason.contains(reason)
            && (key.isEmpty || error.line != nil || reason == "missing (required)")
    }
}

@Test func invalidFileOnDiskIsReportedWithItsPath() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("obscura-boards-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("test-board.yaml")
    try validProfile.replacingOccurrences(of: "clockMHz: 1000", with: "clockMHz: lots").write(to: file, atomically: true, encoding: .utf8)
    let local = BoardCatalog(folder: folder.path)
    #expect {
        _ = try local.load("test-board")
    } throws: { error in
        let text = String(describing: error)
        return text.contains(file.path + ":4") && text.contains("cpu.clockMHz")
    }
}
