// The redaction step: the last thing that happens to a frame. It gathers what the analysis
// stages learned about this very frame (detections, unverified regions, the motion foreground,
// the tracker's predictions) into a RedactionInput and hands frame and input to the Redactor,
// which returns the RedactedFrame the sinks take.
//
// Fail closed (DESIGN.md, invariant 3): when analysis is switched off, or a stage did not finish
// this frame (its sequence number is not the frame's), the input says "analysis failed" and the
// whole frame is masked.

public import Analysis
public import Frames
public import Redaction

/// Turns an analysed Frame into a RedactedFrame. One per pipeline; not thread-safe.
public final class RedactStep {
    public let redactor: Redactor
    /// The analysis stages' shared context; nil when analysis is off (every frame is masked whole).
    let context: AnalysisContext?
    /// For MJPEG sources redacted in the coefficient domain: where the decode stage keeps the
    /// original JPEG, and the buffers the redacted JPEGs are written into.
    let compressed: CompressedFrameSlot?
    private let compressedPool: FramePool?
    private var input = RedactionInput()
    private var predicted: [PredictedBox] = []
    /// Frames masked whole because their analysis was missing or incomplete.
    public private(set) var analysisMissing: UInt64 = 0
    /// Frames masked whole under the foreground policy because there was no background model
    /// to tell the empty scene from what is in it (the first frame, or after a reset).
    public private(set) var noBackground: UInt64 = 0
    private let needsBackground: Bool

    init(redactor: Redactor, context: AnalysisContext?, compressed: CompressedFrameSlot? = nil,
         compressedPool: FramePool? = nil) {
        self.redactor = redactor
        let configuration = redactor.configuration
        self.context = context
        self.compressed = compressed
        self.compressedPool = compressedPool
        if case .foreground = configuration.policy { needsBackground = true } else { needsBackground = false }
        input.detections.reserveCapacity(32)
        input.unverified.reserveCapacity(32)
        input.predicted.reserveCapacity(32)
    }

    public func redact(_ frame: consuming Frame) -> RedactedFrame {
        input.detections.removeAll(keepingCapacity: true)
        input.unverified.removeAll(keepingCapacity: true)
        input.predicted.removeAll(keepingCapacity: true)
        input.foreground = nil
        input.analysisFailed = true
        if let context, context.motionSequence == frame.sequence, context.detectSequence == frame.sequence {
            input.analysisFailed = false
            if needsBackground && !context.backgroundReady {
                // The foreground policy keeps only what is known to be empty scene; with no
                // background model nothing is, so the whole frame is masked.
                input.analysisFailed = true
                noBackground &+= 1
            }
            for detection in context.detections {
                input.detections.append(Observation(box: detection.box, objectClass: detection.objectClass))
            }
            input.unverified.append(contentsOf: context.unverified)
            if let motion = context.foreground {
                input.foreground = ForegroundMask(width: motion.width, height: motion.height, pixels: motion.pixels,
                                                  scale: context.downscale)
            }
            if let tracker = context.tracker {
                // The tracker has already taken this frame: 0 frames ahead is where each track is now,
                // extrapolated for those not seen in it.
                tracker.predictedBoxes(framesAhead: 0, into: &predicted)
                for box in predicted { input.predicted.append(box.box) }
            }
        }
        if input.analysisFailed && (context == nil || context?.motionSequence != frame.sequence
                                    || context?.detectSequence != frame.sequence) {
            analysisMissing &+= 1
        }
        let redacted: RedactedFrame
        if let compressed, let compressedPool, compressed.frame?.sequence == frame.sequence, let original = compressed.frame.take() {
            // The analysis ran on a grey decode of `original`: redact the JPEG itself, with that
            // decode as the masked pixels' levels (level matching).
            let luma: SamplePlane? = frame.format == .gray8 && frame.width > 0
                ? SamplePlane(base: frame.planeBytes(0).baseAddress!, width: frame.width, height: frame.height,
                              stride: frame.plane(0).stride)
                : nil
            redacted = redactor.redactCompressed(original, analysis: input, outputPool: compressedPool, luma: luma)
            _ = consume frame
        } else {
            redacted = redactor.redact(frame, analysis: input)
        }
        // Let go of the motion detector's mask so its next update writes in place.
        input.foreground = nil
        context?.foreground = nil
        return redacted
    }

    public var counters: [String: UInt64] {
        let counters = redactor.counters
        return [
            "frames": counters.frames,
            "boxes_masked": counters.boxesMasked,
            "whole_frame_masks": counters.fullFrameMasks,
            "analysis_missing": analysisMissing,
            "no_background": noBackground,
            "masked_permille_mean": UInt64((counters.maskedFraction * 1000).rounded()),
            "coefficient_domain_frames": counters.compressedFrames,
            "coefficient_domain_dropped": counters.compressedDropped,
        ]
    }
}
