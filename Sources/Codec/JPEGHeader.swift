// What a JPEG declares about itself (size, colour, subsampling), and the decode options.

public import Frames

/// DCT-domain scaling of a decode: libjpeg computes only the low-frequency part of each 8x8
/// block, so a 1/4-scale decode costs far less than a full decode plus a resize.
public enum JPEGScale: Int, Sendable, CaseIterable, CustomStringConvertible {
    case full = 8
    case half = 4
    case quarter = 2
    case eighth = 1

    /// Numerator over 8 (libjpeg's scale_num with scale_denom 8).
    public var eighths: Int { rawValue }

    /// The scaled length of a side, rounded up as libjpeg does.
    public func scaled(_ length: Int) -> Int { (length * rawValue + 7) / 8 }

    public var description: String {
        switch self {
        case .full: "1/1"
        case .half: "1/2"
        case .quarter: "1/4"
        case .eighth: "1/8"
        }
    }
}

/// What a decode produces.
public enum JPEGOutput: Sendable, Equatable {
    /// Planar YUV exactly as coded, no colour conversion, no upsampling: I420 for 4:2:0
    /// JPEGs, I422 for 4:2:2, GRAY8 for greyscale JPEGs.
    case yuv
    /// The luma plane only (GRAY8); the chroma is entropy-decoded but never transformed.
    case gray
}

/// The colour space a JPEG is coded in.
public enum JPEGColorSpace: Sendable, Equatable {
    case grayscale, yCbCr, rgb, cmyk, ycck, unknown
}

/// How the chroma of a JPEG is sampled relative to its luma.
public enum JPEGSubsampling: Sendable, Equatable, CustomStringConvertible {
    /// Chroma halved both ways.
    case yuv420
    /// Chroma halved horizontally.
    case yuv422
    /// Chroma at full resolution.
    case yuv444
    /// One component.
    case grayscale
    /// Anything else (4:4:0, 4:1:1, unequal Cb and Cr...).
    case other

    public var description: String {
        switch self {
        case .yuv420: "4:2:0"
        case .yuv422: "4:2:2"
        case .yuv444: "4:4:4"
        case .grayscale: "grey"
        case .other: "non-standard subsampling"
        }
    }
}

/// The header of a JPEG, read without decoding pixels.
public struct JPEGHeader: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var components: Int
    public var colorSpace: JPEGColorSpace
    public var subsampling: JPEGSubsampling
    public var isProgressive: Bool

    public init(width: Int, height: Int, components: Int, colorSpace: JPEGColorSpace,
                subsampling: JPEGSubsampling, isProgressive: Bool) {
        self.width = width
        self.height = height
        self.components = components
        self.colorSpace = colorSpace
        self.subsampling = subsampling
        self.isProgressive = isProgressive
    }

    /// The pixel format a decode with `output` produces, or why there is none.
    public func pixelFormat(for output: JPEGOutput) throws(JPEGError) -> PixelFormat {
        switch output {
        case .gray:
            switch colorSpace {
            case .grayscale, .yCbCr, .rgb: return .gray8
            default: throw .unsupported("cannot extract grey from a \(colorSpace) JPEG")
            }
        case .yuv:
            if components == 1 { return .gray8 }
            guard colorSpace == .yCbCr else {
                throw .unsupported("raw YUV decode needs a YCbCr JPEG, this one is \(colorSpace)")
            }
            switch subsampling {
            case .yuv420: return .i420
            case .yuv422: return .i422
            // Frames has no 4:4:4 planar format, and converting would cost a resample per
            // frame; 4:4:4 cameras are rare. Grey decode works for them.
            case .yuv444: throw .unsupported("4:4:4 JPEG to YUV (Frames has no I444 format); decode with output .gray")
            case .grayscale, .other: throw .unsupported("\(subsampling) JPEG to YUV")
            }
        }
    }

    /// The frame layout a decode at `scale` with `output` fills; use it to size a FramePool.
    public func frameLayout(scale: JPEGScale = .full, output: JPEGOutput = .yuv) throws(JPEGError) -> FrameLayout {
        FrameLayout(format: try pixelFormat(for: output), width: scale.scaled(width), height: scale.scaled(height))
    }
}
