// The typed error of the JPEG layer, and the per-decoder counters of what went wrong.

public import Frames

/// Why a JPEG decode or encode failed. Every case says what is wrong with the input (or the
/// destination), never just that libjpeg failed.
public enum JPEGError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The payload has zero bytes.
    case empty
    /// The payload does not start with a JPEG start-of-image marker.
    case notJPEG
    /// The data ends before the image does (a short read, a dropped USB packet).
    case truncated
    /// The structure or the entropy-coded data is damaged; `message` is libjpeg's diagnosis.
    case corrupt(message: String)
    /// A valid JPEG this layer does not handle (4:4:4 to YUV, CMYK, 12-bit, lossless...).
    case unsupported(String)
    /// The declared size exceeds the decoder's limit; rejected before anything is allocated.
    case tooLarge(width: Int, height: Int, limit: Int)
    /// Decoding would exceed a resource limit (working memory, progressive scan count).
    case limitExceeded(String)
    /// The destination frame's buffer cannot hold the decoded image.
    case frameTooSmall(needed: Int, capacity: Int)
    /// The frame pool had no free buffer to decode into.
    case poolExhausted
    /// The encoder's output buffer cannot hold the compressed image.
    case outputTooSmall(capacity: Int)
    /// JPEG quality must be in 1...100.
    case invalidQuality(Int)
    /// The encoder was given a frame format it cannot compress (only I420, I422, GRAY8).
    case unsupportedFrameFormat(PixelFormat)
    /// libjpeg or the shim failed in a way that points at a bug here, not at the input.
    case internalFailure(String)

    public var description: String {
        switch self {
        case .empty: "JPEG payload is empty (0 bytes)"
        case .notJPEG: "payload is not a JPEG (no start-of-image marker FF D8)"
        case .truncated: "JPEG data ends before the image does (truncated frame)"
        case .corrupt(let message): "JPEG data is corrupt: \(message)"
        case .unsupported(let what): "unsupported JPEG: \(what)"
        case .tooLarge(let width, let height, let limit):
            "JPEG declares \(width)x\(height), larger than the \(limit)-pixel limit per side"
        case .limitExceeded(let what): "JPEG decode exceeds a resource limit: \(what)"
        case .frameTooSmall(let needed, let capacity):
            "decoded image needs \(needed) bytes but the frame buffer holds \(capacity); size the pool for the largest frame"
        case .poolExhausted: "no free frame buffer in the pool to decode into"
        case .outputTooSmall(let capacity):
            "compressed image does not fit the \(capacity)-byte output buffer; size it with JPEGEncoder.maximumEncodedSize"
        case .invalidQuality(let quality): "JPEG quality \(quality) is outside 1...100"
        case .unsupportedFrameFormat(let format): "cannot encode \(format) frames to JPEG (only I420, I422 and GRAY8)"
        case .internalFailure(let message): "JPEG layer failed internally: \(message)"
        }
    }
}

/// What one decoder has done so far: successful decodes and failures by kind. Failures are
/// counted, never silent (design invariant 6), so a monitoring sink can show them.
public struct JPEGDecoderCounters: Sendable, Equatable {
    public var decoded = 0
    public var empty = 0
    public var notJPEG = 0
    public var truncated = 0
    public var corrupt = 0
    public var unsupported = 0
    public var tooLarge = 0
    public var limitExceeded = 0
    public var frameTooSmall = 0
    public var poolExhausted = 0
    public var internalFailures = 0
    /// libjpeg warnings that meant corrupt data (each one failed its decode as `.truncated`
    /// or `.corrupt`).
    public var corruptDataWarnings: UInt64 = 0
    /// Harmless libjpeg warnings (unknown JFIF revision and the like) that did not fail a decode.
    public var otherWarnings: UInt64 = 0

    public init() {}

    /// All failed decodes, whatever the kind.
    public var failed: Int {
        empty + notJPEG + truncated + corrupt + unsupported + tooLarge + limitExceeded + frameTooSmall
            + poolExhausted + internalFailures
    }

    mutating func record(_ error: JPEGError) {
        switch error {
        case .empty: empty += 1
        case .notJPEG: notJPEG += 1
        case .truncated: truncated += 1
        case .corrupt: corrupt += 1
        case .unsupported, .unsupportedFrameFormat: unsupported += 1
        case .tooLarge: tooLarge += 1
        case .limitExceeded: limitExceeded += 1
        case .frameTooSmall, .outputTooSmall: frameTooSmall += 1
        case .poolExhausted: poolExhausted += 1
        case .invalidQuality, .internalFailure: internalFailures += 1
        }
    }
}
