// The built-in pattern camera: the moving test pattern from Frames, rendered into pooled frames
// at the spec's size, format and rate. No file, no decoding: the benchmark source.

public import Frames

/// Delivers `renderTestPattern` frames. Frame `n` (its sequence number) always has the same
/// bytes for the same size and format, so runs are reproducible.
public final class PatternSource: FrameSource {
    public let name: String
    public let mode: SourceMode
    public private(set) var counters = SourceCounters()
    public let pool: FramePool
    /// Ends after this many frames; `nil` runs for ever.
    public let frameLimit: UInt64?

    private var pacer: FramePacer
    private let layout: FrameLayout
    private var nextSequence: UInt64 = 0

    public init(width: Int, height: Int, fps: Double, format: PixelFormat = .i420, pacing: Pacing = .nominal,
                frameLimit: UInt64? = nil, poolSize: Int = 4, name: String? = nil) throws(CaptureError) {
        precondition(poolSize > 0, "a source needs at least one buffer")
        let spec = name ?? "pattern:\(width)x\(height)@\(fps.formatted(maxFractionDigits: 6))"
        guard format.isRaw else {
            throw .invalidSpec(spec: spec, reason: "the pattern is raw pixels; \(format) is not a raw format")
        }
        guard width > 0, height > 0, width <= CameraSpec.maximumDimension, height <= CameraSpec.maximumDimension else {
            throw .invalidSpec(spec: spec, reason: "size \(width)x\(height) is out of range 1...\(CameraSpec.maximumDimension)")
        }
        guard fps > 0, fps.isFinite, fps <= CameraSpec.maximumFPS else {
            throw .invalidSpec(spec: spec, reason: "fps \(fps) is out of range")
        }
        self.name = spec
        self.frameLimit = frameLimit
        layout = FrameLayout(format: format, width: width, height: height)
        pool = FramePool(count: poolSize, layout: layout)
        mode = SourceMode(width: width, height: height, format: format, fps: fps)
        pacer = FramePacer(pacing: pacing, fps: fps)
    }

    public func nextFrame() throws(CaptureError) -> Frame? {
        if let frameLimit, nextSequence >= frameLimit { return nil }
        var frame = try pool.waitForFrame(layout: layout, sequence: nextSequence, counters: &counters, name: name)
        renderTestPattern(index: nextSequence, layout: layout, into: frame.buffer.baseAddress)
        counters.skipped &+= pacer.waitForNextFrame()
        frame.captureTime = .now
        nextSequence &+= 1
        counters.delivered &+= 1
        return frame
    }
}
