// Finding and parsing the board profiles in Boards/.

import Frames
import Foundation
import Yams

/// The profiles in one folder (one `NAME.yaml` file per board).
public struct BoardCatalog: Sendable {
    public let folder: String

    public init(folder: String) {
        self.folder = folder
    }

    /// The catalog in the default place: `$OBSCURA_BOARDS_DIR`, else `Boards/` beside the
    /// current directory or above the executable (a `swift build` tree), else the system copy.
    public static func locate(environment: [String: String]? = nil, executable: String? = nil) -> BoardCatalog {
        let environment = environment ?? ProcessInfo.processInfo.environment
        let executable = executable ?? CommandLine.arguments.first ?? ""
        if let folder = environment["OBSCURA_BOARDS_DIR"], !folder.isEmpty {
            return BoardCatalog(folder: folder)
        }
        var candidates = [FileManager.default.currentDirectoryPath + "/Boards"]
        // .build/<triple>/<config>/obscura → the package root is three levels up.
        var url = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(url.appendingPathComponent("Boards").path)
            url.deleteLastPathComponent()
        }
        candidates.append("/usr/local/share/obscura/Boards")
        candidates.append("/usr/share/obscura/Boards")
        for candidate in candidates {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isFolder), isFolder.boolValue {
                return BoardCatalog(folder: candidate)
            }
        }
        return BoardCatalog(folder: candidates[0])
    }

    /// The names of the profiles in the folder, sorted.
    public func names() throws(BoardError) -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw .folderNotFound(path: folder)
        }
        return entries.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// Loads one profile by name.
    public func load(_ name: String) throws(BoardError) -> BoardProfile {
        let known = try names()
        guard known.contains(name) else {
            throw .unknownBoard(name: name, known: known, folder: folder)
        }
        return try BoardCatalog.load(file: "\(folder)/\(name).yaml")
    }

    /// Loads every profile; the first invalid one throws.
    public func loadAll() throws(BoardError) -> [BoardProfile] {
        var profiles: [BoardProfile] = []
        for name in try names() {
            profiles.append(try load(name))
        }
        return profiles
    }

    /// Parses and validates one profile file.
    public static func load(file: String) throws(BoardError) -> BoardProfile {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw .invalid(SettingsError(file: file, key: "", reason: "cannot read the file (missing, unreadable or not UTF-8)"))
        }
        do {
            return try parse(text, file: file)
        } catch {
            throw .invalid(error)
        }
    }

    /// Parses and validates a profile's text.
    public static func parse(_ text: String, file: String) throws(SettingsError) -> BoardProfile {
        let root = try SettingsMapping.parse(text, file: file)
        try root.rejectUnknownKeys(["name", "title", "soc", "cpu", "memory", "storage", "cameraModes", "budget", "costFactors"])
        let name = try root.string("name")
        let baseName = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        if name != baseName {
            throw SettingsError(file: file, line: root.value("name")?.mark?.line, key: "name",
                                reason: "'\(name)' must match the file name '\(baseName)'")
        }
        let cpu = try root.mapping("cpu")
        try cpu.rejectUnknownKeys(["core", "cores", "clockMHz"])
        let memory = try root.mapping("memory")
        try memory.rejectUnknownKeys(["ramMB", "type"])
        var ram: [Int] = []
        for text in try memory.strings("ramMB") {
            guard let megabytes = Int(text), megabytes > 0 else {
                throw SettingsError(file: file, line: memory.line, key: "memory.ramMB", reason: "'\(text)' is not a positive whole number of megabytes")
            }
            ram.append(megabytes)
        }
        var modes: [CameraMode] = []
        let modeMappings = try root.mappings("cameraModes")
        if modeMappings.isEmpty {
            throw SettingsError(file: file, line: root.value("cameraModes")?.mark?.line, key: "cameraModes", reason: "a board needs at least one camera mode")
        }
        for entry in modeMappings {
            try entry.rejectUnknownKeys(["width", "height", "fps", "format", "via"])
            let formatName = try entry.string("format")
            guard let format = PixelFormat(rawValue: formatName.uppercased()) else {
                throw SettingsError(file: file, line: entry.value("format")?.mark?.line, key: "\(entry.path).format",
                                    reason: "unknown pixel format '\(formatName)'; expected one of \(PixelFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            modes.append(CameraMode(
                width: try entry.int("width", in: 16...8192),
                height: try entry.int("height", in: 16...8192),
                fps: try entry.double("fps", in: 0.1...1000),
                format: format,
                via: try entry.string("via")))
        }
        let budget = try root.mapping("budget")
        try budget.rejectUnknownKeys(["reserveMs"])
        let reserve = try budget.double("reserveMs", in: 0...1000)
        let costs = try root.mapping("costFactors")
        try costs.rejectUnknownKeys(["jpegDecode", "jpegEncode", "pixelKernels", "cascade"])
        let factors = CostFactors(
            jpegDecode: try costs.double("jpegDecode", in: 0.01...1000),
            jpegEncode: try costs.double("jpegEncode", in: 0.01...1000),
            pixelKernels: try costs.double("pixelKernels", in: 0.01...1000),
            cascade: try costs.double("cascade", in: 0.01...1000))
        let profile = BoardProfile(
            name: name,
            title: try root.string("title"),
            soc: try root.string("soc"),
            cpuCore: try cpu.string("core"),
            cores: try cpu.int("cores", in: 1...256),
            clockMHz: try cpu.int("clockMHz", in: 100...10000),
            ramMB: ram,
            storage: try root.strings("storage"),
            cameraModes: modes,
            reserveMs: reserve,
            costFactors: factors,
            file: file)
        for (index, mode) in modes.enumerated() where profile.budgetMs(for: mode) <= 0 {
            throw SettingsError(file: file, line: budget.line, key: "budget.reserveMs",
                                reason: "reserve \(reserve) ms leaves no analysis time for cameraModes[\(index)] (\(mode), a frame every \(1000 / mode.fps) ms)")
        }
        return profile
    }
}
