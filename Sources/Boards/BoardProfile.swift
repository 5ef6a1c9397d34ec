// Board profiles: what a single-board computer is, which camera modes it runs, what per-frame
// budget those imply, and how much slower than the host its core is for each kind of work.

public import Frames
import Foundation

/// One camera mode a board is expected to run: what the camera delivers to Obscura.
public struct CameraMode: Sendable, Equatable, Codable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public var fps: Double
    public var format: PixelFormat
    /// How the frames reach the board, e.g. "CSI Camera Module 2 via the ISP" or "USB UVC webcam".
    public var via: String

    public init(width: Int, height: Int, fps: Double, format: PixelFormat, via: String) {
        self.width = width
        self.height = height
        self.fps = fps
        self.format = format
        self.via = via
    }

    public var description: String {
        let rate = fps == fps.rounded() ? String(Int(fps)) : String(fps)
        return "\(width)x\(height)@\(rate) \(format.rawValue)"
    }
}

/// Relative cost of one board core against one core of the reference host (a Zen 4 VM core):
/// the time a kernel takes on the board divided by its time on the reference host.
public struct CostFactors: Sendable, Equatable, Codable {
    public var jpegDecode: Double
    public var jpegEncode: Double
    /// Streaming pixel kernels: integral images, box filters, colour conversion, motion.
    public var pixelKernels: Double
    /// Branchy, memory-latency-bound detector evaluation (Haar and LBP cascades).
    public var cascade: Double

    public init(jpegDecode: Double, jpegEncode: Double, pixelKernels: Double, cascade: Double) {
        self.jpegDecode = jpegDecode
        self.jpegEncode = jpegEncode
        self.pixelKernels = pixelKernels
        self.cascade = cascade
    }

    public static let host = CostFactors(jpegDecode: 1, jpegEncode: 1, pixelKernels: 1, cascade: 1)

    /// The factor for a kind of work.
    public func factor(for kind: WorkKind) -> Double {
        switch kind {
        case .jpegDecode: jpegDecode
        case .jpegEncode: jpegEncode
        case .pixelKernels: pixelKernels
        case .cascade: cascade
        case .io: 1
        }
    }
}

/// The kinds of work a pipeline stage declares, so the emulator can scale its host time.
public enum WorkKind: String, Sendable, Codable {
    case jpegDecode, jpegEncode, pixelKernels, cascade
    /// Waiting for the camera or the disk: not scaled.
    case io
}

/// A single-board computer Obscura runs on, loaded from `Boards/NAME.yaml`.
public struct BoardProfile: Sendable, Equatable, Codable {
    /// The name used on the command line (`--board rpi-4b`); equals the file's base name.
    public var name: String
    public var title: String
    public var soc: String
    public var cpuCore: String
    public var cores: Int
    public var clockMHz: Int
    public var ramMB: [Int]
    public var storage: [String]
    public var cameraModes: [CameraMode]
    /// Time kept back from each frame's interval for encoding and I/O, in milliseconds.
    public var reserveMs: Double
    public var costFactors: CostFactors
    /// The file the profile was read from.
    public var file: String

    /// The per-frame analysis budget a camera mode implies: the frame interval less the reserve.
    public func budgetMs(for mode: CameraMode) -> Double {
        max(0, 1000 / mode.fps - reserveMs)
    }

    /// Chooses the camera mode for a source of the given size and rate: same size, at least the
    /// source's frame rate, preferring the same pixel format, then the slowest such mode (the
    /// tightest fit). Returns `nil` when the board has no mode for that size or none fast enough.
    public func mode(width: Int, height: Int, fps: Double, format: PixelFormat? = nil) -> CameraMode? {
        cameraModes
            .filter { $0.width == width && $0.height == height && $0.fps + 1e-9 >= fps }
            .min { first, second in
                let firstMatches = first.format == format, secondMatches = second.format == format
                if firstMatches != secondMatches { return firstMatches }
                return first.fps < second.fps
            }
    }
}

/// Errors finding or reading a board profile.
public enum BoardError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownBoard(name: String, known: [String], folder: String)
    case folderNotFound(path: String)
    case invalid(SettingsError)

    public var description: String {
        switch self {
        case let .unknownBoard(name, known, folder):
            "unknown board '\(name)'; known boards in \(folder): \(known.joined(separator: ", ")) (see `obscura boards`)"
        case let .folderNotFound(path):
            "board profile folder \(path) not found; pass --boards-dir or set OBSCURA_BOARDS_DIR"
        case let .invalid(error):
            "invalid board profile: \(error)"
        }
    }
}
