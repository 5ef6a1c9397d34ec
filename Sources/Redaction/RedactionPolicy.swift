// What the redaction stage masks and how: the policy, the method, the per-camera configuration
// (privacy zones, persistence) and the analysis results it is given for each frame.
public import Analysis
public import Frames

/// Which analysis results decide what is masked. In every policy the unverified regions, the
/// privacy zones and (when analysis failed) the whole frame are masked as well.
public enum RedactionPolicy: Sendable, Equatable {
    /// Detections (faces, people, plates), each box grown by `margin` of its size: 0.3 makes a
    /// box 30% wider and 30% taller, centred on the original.
    case detections(margin: Double)
    /// Everything the motion analysis marks as foreground, plus the detections grown by
    /// `margin`, so a person is masked as a silhouette even when no detector fires.
    case foreground(margin: Double)

    /// The default: foreground, so masking does not depend on a detector noticing someone.
    public static let `default` = RedactionPolicy.foreground(margin: 0.3)

    public var margin: Double {
        switch self {
        case .detections(let margin), .foreground(let margin): margin
        }
    }
}

/// How masked pixels are made unrecognisable. Every method is irreversible.
public enum RedactionMethod: String, Sendable, Equatable, CaseIterable {
    /// Cells of the cell's mean; a box gets at most `pixelateCellsAcross` cells across.
    case pixelate
    /// Three box passes per direction with a radius of at least an eighth of the region, then
    /// quantised (see `blurMasked` in Frames for why it cannot be inverted).
    case blur
    /// Mid-grey luma, neutral chroma.
    case fill
}

/// A region of the image that is always masked, in full-frame pixels (even-odd rule).
public struct PrivacyZone: Sendable, Equatable {
    public var name: String
    public var polygon: [PixelPoint]

    public init(name: String, polygon: [PixelPoint]) {
        self.name = name
        self.polygon = polygon
    }
}

/// A camera's redaction settings.
public struct RedactionConfiguration: Sendable, Equatable {
    public var policy: RedactionPolicy
    public var method: RedactionMethod
    public var privacyZones: [PrivacyZone]
    /// Frames a masked box stays masked after its detection was last seen, following the
    /// tracker's predicted boxes, so a face missed for a frame or two does not slip through.
    public var persistenceFrames: Int
    /// Coarse motion-mask pixels added around the foreground before it is scaled up (1 pixel of a
    /// 1/4-scale mask is 4 full-frame pixels), so a silhouette's edge is covered too.
    public var foregroundDilation: Int

    public init(policy: RedactionPolicy = .default, method: RedactionMethod = .pixelate,
                privacyZones: [PrivacyZone] = [], persistenceFrames: Int = 5, foregroundDilation: Int = 1) {
        self.policy = policy
        self.method = method
        self.privacyZones = privacyZones
        self.persistenceFrames = max(persistenceFrames, 0)
        self.foregroundDilation = max(foregroundDilation, 0)
    }
}

/// The motion foreground at a reduced scale: 0 for background, non-zero for foreground.
public struct ForegroundMask: Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]
    /// Full-frame pixels per mask pixel along each axis (4 for the motion detector's mask).
    public var scale: Int

    public init(width: Int, height: Int, pixels: [UInt8], scale: Int) {
        precondition(pixels.count >= width * height && scale >= 1, "a foreground mask needs width * height pixels and a scale of at least 1")
        self.width = width
        self.height = height
        self.pixels = pixels
        self.scale = scale
    }

    /// The motion detector's foreground, which it computes at `scale` (4) below full frame.
    public init(_ motion: MotionMask, scale: Int = 4) {
        self.init(width: motion.width, height: motion.height, pixels: motion.pixels, scale: scale)
    }
}

/// What the analysis stages learned about one frame, as the redaction stage needs it.
public struct RedactionInput: Sendable {
    /// Boxes found by the detectors (faces, people, plates) in full-frame pixels.
    public var detections: [Observation]
    /// Regions the scheduler did not examine in time: always masked, never grown or shrunk.
    public var unverified: [DetectionBox]
    /// The motion foreground, for the `.foreground` policy (nil: no motion analysis ran).
    public var foreground: ForegroundMask?
    /// The tracker's predicted boxes for this frame (`Tracker.predictedBoxes(framesAhead: 1)`
    /// mapped to their boxes). Boxes kept masked by persistence follow the predicted box they
    /// overlap most, so a masked face that stops being detected stays covered as it moves.
    public var predicted: [DetectionBox]
    /// Analysis failed outright (decoder error, detector error, no result): the whole frame is
    /// filled, whatever the policy.
    public var analysisFailed: Bool

    public init(detections: [Observation] = [], unverified: [DetectionBox] = [], foreground: ForegroundMask? = nil,
                predicted: [DetectionBox] = [], analysisFailed: Bool = false) {
        self.detections = detections
        self.unverified = unverified
        self.foreground = foreground
        self.predicted = predicted
        self.analysisFailed = analysisFailed
    }

    /// No analysis result at all: fail closed.
    public static let failed = RedactionInput(analysisFailed: true)
}
