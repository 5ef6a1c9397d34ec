// Builds a ready-to-run Pipeline from the command line and the config file: loads the board,
// opens the camera, checks the camera mode against the board, and picks the stages.

public import Boards
public import Capture
import Foundation
import Frames
public import Logging
public import Redaction
public import Sinks

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
    /// Redacted MJPEG stream to write; overrides the config's `output.mjpeg`.
    public var outputPath: String?
    /// Folder for redacted snapshots; overrides the config's `output.snapshots.folder`.
    public var snapshotFolder: String?
    /// Override the config's redaction policy (its margin is kept) and method.
    public var policy: String?
    public var method: RedactionMethod?
    /// No time limit on analysis (offline redaction): every detector covers the whole frame.
    public var unlimitedBudget = false
    /// Check the source's mode against the board's camera modes (not for offline redaction,
    /// which emulates no board).
    public var requireBoardMode = true
    /// With no other output, still JPEG-encode every redacted frame (in memory, kept nowhere),
    /// so a benchmark covers decode, analysis, redaction and encode.
    public var measureEncode = false

    public init() {}
}

/// Why a run could not start. Each names what to fix.
public enum SessionError: Error, CustomStringConvertible {
    case config(SettingsError)
    case board(BoardError)
    case camera(CaptureError)
    case modeNotOnBoard(board: String, mode: SourceMode, modes: [CameraMode])
    case analysis(AnalysisSetupError)
    case output(SinkError)

    public var description: String {
        switch self {
        case .output(let error): "output: \(error)"
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
    /// - Parameter makeSinks: builds the outputs from the opened source instead of the config's
    ///   `output:` block (offline redaction writes the same kind of file it reads).
    public static func open(_ options: RunOptions, config loaded: ObscuraConfig? = nil,
                            logger: Logger = ObscuraLogging.logger(),
                            makeSinks: ((any FrameSource) throws(SinkError) -> [any RedactedSink])? = nil) throws(SessionError) -> Session {
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
        let boardMode = board.mode(width: mode.width, height: mode.height, fps: mode.fps, format: mode.format)
        if options.requireBoardMode && boardMode == nil {
            throw .modeNotOnBoard(board: board.name, mode: mode, modes: board.cameraModes)
        }
        // Frames arrive every 1/fps seconds; the board's mode only has to be able to deliver them.
        let budget = options.unlimitedBudget ? Double.infinity
            : options.budgetMs ?? config.budgetMs ?? max(0.1, 1000 / mode.fps - board.reserveMs)
        logger.info("opened", metadata: [
            "camera": "\(source.name)", "mode": "\(mode)", "board": "\(board.name)",
            "board_mode": "\(boardMode.map { "\($0)" } ?? "none (offline)")",
            "budget_ms": "\(budget.isInfinite ? "unlimited" : "\((budget * 100).rounded() / 100)")",
        ])
        var redactionSettings = config.redaction
        if let name = options.policy {
            guard let policy = RedactionSettings.policy(named: name, margin: redactionSettings.policy.margin) else {
                throw .config(SettingsError(file: "command line", key: "policy",
                                            reason: "'\(name)' is not a policy; expected \(RedactionSettings.policyNames.joined(separator: " or "))"))
            }
            redactionSettings.policy = policy
        }
        if let method = options.method { redactionSettings.method = method }
        // MJPEG with pixelate or fill: the JPEG itself is redacted in the DCT domain, and only
        // its luma is decoded for the analysis.
        let coefficientDomain = mode.format == .mjpeg && redactionSettings.coefficientDomain
            && redactionSettings.method != .blur
        let redactor = Redactor(configuration: redactionSettings.configuration)
        let slot = coefficientDomain ? CompressedFrameSlot(redactor: redactor) : nil
        let poolSize = options.poolSize ?? config.poolSize
        let stages: [any PipelineStage]
        let context: AnalysisContext?
        do {
            (stages, context) = try makeStages(for: mode, poolSize: poolSize, analysis: config.analysis, board: board,
                                               keepCompressed: slot)
        } catch {
            throw .analysis(error)
        }
        // Sized for any subsampling a camera may send at this size.
        let compressedPool = coefficientDomain
            ? FramePool(count: 2, layout: Redactor.compressedOutputLayout(width: mode.width, height: mode.height, subsampling: .other))
            : nil
        let redaction = RedactStep(redactor: redactor, context: context,
                                   compressed: slot, compressedPool: compressedPool)
        let outputs: [any RedactedSink]
        do {
            if let makeSinks { outputs = try makeSinks(source) } else { outputs = try makeOutputs(options: options, config: config, mode: mode) }
        } catch {
            throw .output(error)
        }
        let pipeline = Pipeline(source: source, stages: stages, redaction: redaction, sinks: outputs, board: board, budgetMs: budget,
                                pacing: options.pacing, logger: logger)
        return Session(pipeline: pipeline, config: config, board: board, budgetMs: budget)
    }

    /// The outputs the config and the command line ask for: a redacted MJPEG stream and
    /// snapshots. None by default: a run keeps nothing unless told to.
    static func makeOutputs(options: RunOptions, config: ObscuraConfig, mode: SourceMode) throws(SinkError) -> [any RedactedSink] {
        var sinks: [any RedactedSink] = []
        let output = config.output
        if let path = options.outputPath ?? output.mjpegPath {
            sinks.append(try MJPEGStreamWriter(path: path, quality: output.quality))
        }
        if let folder = options.snapshotFolder ?? output.snapshotFolder {
            sinks.append(try SnapshotWriter(folder: folder, intervalSeconds: output.snapshotIntervalSeconds,
                                            quality: output.quality, keep: output.snapshotKeep))
        }
        if sinks.isEmpty && options.measureEncode { sinks.append(EncodeOnlySink(quality: output.quality)) }
        return sinks
    }

    /// The stages before redaction, in the order DESIGN.md gives: decode compressed frames, then
    /// motion, detection and tracking (unless analysis is off, when every frame is masked whole).
    static func makeStages(for mode: SourceMode, poolSize: Int, analysis: AnalysisSettings, board: BoardProfile,
                           keepCompressed: CompressedFrameSlot? = nil)
        throws(AnalysisSetupError) -> (stages: [any PipelineStage], context: AnalysisContext?) {
        var stages: [any PipelineStage] = []
        if mode.format == .mjpeg {
            stages.append(DecodeStage(width: mode.width, height: mode.height, poolSize: poolSize, keepCompressed: keepCompressed))
        }
        guard analysis.enabled else { return (stages, nil) }
        let (analysisStages, context) = try makeAnalysisStages(settings: analysis, width: mode.width, height: mode.height, board: board)
        return (stages + analysisStages, context)
    }
}
