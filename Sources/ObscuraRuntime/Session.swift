// Builds a ready-to-run Pipeline from the command line and the config file: loads the board,
// opens the camera, checks the camera mode against the board, and picks the stages.

public import Boards
public import Capture
import Foundation
public import Logging

/// What the user asked for; command-line values win over the config file's.
public struct RunOptions: Sendable {
    public var camera: String?
    public var board: String?
    public var boardsDirectory: String?
    public var configFile: String?
    public var budgetMs: Double?
    public var pacing: Pacing = .nominal
    public var poolSize: Int?
    /// V4L2 controls as `name=value`; they override the config's controls of the same name.
    public var controls: [String] = []

    public init() {}
}

/// Why a run could not start. Each names what to fix.
public enum SessionError: Error, CustomStringConvertible {
    case config(SettingsError)
    case board(BoardError)
    case camera(CaptureError)
    case modeNotOnBoard(board: String, mode: SourceMode, modes: [CameraMode])
    case analysis(AnalysisSetupError)

    public var description: String {
        switch self {
        case .config(let error): "config: \(error)"
        case .board(let error): "board: \(error)"
        case .camera(let error): "camera: \(error)"
        case .analysis(let error): "analysis: \(error)"
        case let .modeNotOnBoard(board, mode, modes):
            "camera: the source delivers \(mode), which board '\(board)' has no camera mode for; its modes are "
                + modes.map(\.description).joined(separator: ", ")
                + ". Use a source of one of those sizes at no more than that rate, or another --board."
        }
    }
}

/// A pipeline ready to run, with the settings that made it.
public struct Session {
    public let pipeline: Pipeline
    public let config: ObscuraConfig
    public let board: BoardProfile
    public let budgetMs: Double

    /// The camera used when neither the command line nor the config names one: the built-in
    /// pattern, so a first run needs no camera and no files.
    public static let defaultCamera = "pattern:640x480@30"
    public static let defaultBoard = "generic"

    /// Reads the config file (if any) without opening anything, for logging set-up.
    public static func loadConfig(_ options: RunOptions) throws(SessionError) -> ObscuraConfig {
        guard let file = options.configFile else { return ObscuraConfig() }
        do { return try ObscuraConfig.load(file: file) } catch { throw .config(error) }
    }

    /// Opens everything `options` names. Pass `config` when the caller already read the config
    /// file (to set up logging), so it is not read twice.
    public static func open(_ options: RunOptions, config loaded: ObscuraConfig? = nil,
                            logger: Logger = ObscuraLogging.logger()) throws(SessionError) -> Session {
        let config: ObscuraConfig
        if let loaded { config = loaded } else { config = try loadConfig(options) }
        let boardName = options.board ?? config.board ?? defaultBoard
        let folder = options.boardsDirectory ?? config.boardsDirectory
        let catalog = folder.map(BoardCatalog.init(folder:)) ?? BoardCatalog.locate()
        let board: BoardProfile
        do { board = try catalog.load(boardName) } catch { throw .board(error) }

        let cameraText = options.camera ?? config.camera ?? defaultCamera
        var controls = config.controls
        for text in options.controls {
            guard let setting = V4L2ControlSetting(parsing: text) else {
                throw .camera(.invalidSpec(spec: text, reason: "a camera control is written name=value, e.g. brightness=128"))
            }
            controls.removeAll { $0.name == setting.name }
            controls.append(setting)
        }
        let source: any FrameSource
        do {
            let spec = try CameraSpec(parsing: cameraText)
            source = try openCamera(spec: spec, pacing: options.pacing, poolSize: options.poolSize ?? config.poolSize,
                                    controls: controls)
        } catch {
            throw .camera(error)
        }
        let mode = source.mode
        guard let boardMode = board.mode(width: mode.width, height: mode.height, fps: mode.fps, format: mode.format) else {
            throw .modeNotOnBoard(board: board.name, mode: mode, modes: board.cameraModes)
        }
        // Frames arrive every 1/fps seconds; the board's mode only has to be able to deliver them.
        let budget = options.budgetMs ?? config.budgetMs ?? max(0.1, 1000 / mode.fps - board.reserveMs)
        logger.info("opened", metadata: [
            "camera": "\(source.name)", "mode": "\(mode)", "board": "\(board.name)",
            "board_mode": "\(boardMode)", "budget_ms": "\((budget * 100).rounded() / 100)",
        ])
        let stages: [any PipelineStage]
        do {
            stages = try makeStages(for: mode, poolSize: options.poolSize ?? config.poolSize, analysis: config.analysis, board: board)
        } catch {
            throw .analysis(error)
        }
        let pipeline = Pipeline(source: source, stages: stages, board: board, budgetMs: budget,
                                pacing: options.pacing, logger: logger)
        return Session(pipeline: pipeline, config: config, board: board, budgetMs: budget)
    }

    /// The stages that exist so far, in the order DESIGN.md gives: decode compressed frames,
    /// then motion, detection and tracking; redaction comes with its own module.
    static func makeStages(for mode: SourceMode, poolSize: Int, analysis: AnalysisSettings, board: BoardProfile)
        throws(AnalysisSetupError) -> [any PipelineStage] {
        var stages: [any PipelineStage] = []
        if mode.format == .mjpeg {
            stages.append(DecodeStage(width: mode.width, height: mode.height, poolSize: poolSize))
        }
        if analysis.enabled {
            stages += try makeAnalysisStages(settings: analysis, width: mode.width, height: mode.height, board: board)
        }
        return stages
    }
}
