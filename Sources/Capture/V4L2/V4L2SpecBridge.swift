// From a parsed camera spec (`v4l2:/dev/video0?size=1280x720&fps=30&format=mjpeg`) to the
// options a V4L2Camera opens with, so the camera factory's V4L2 case is a single line.

public import Frames

extension V4L2FourCC {
    /// The V4L2 format that delivers frames of a given Frame format.
    public init(_ pixelFormat: PixelFormat) {
        switch pixelFormat {
        case .yuyv: self = .yuyv
        case .nv12: self = .nv12
        case .gray8: self = .grey
        case .i420: self = .yu12
        case .i422: self = .yuv422Planar
        case .mjpeg: self = .mjpeg
        }
    }
}

extension V4L2Options {
    /// Options for what a camera spec asked; fields the spec left out are chosen from what the
    /// device offers when it is opened. `controls` are set after opening and after every
    /// reopen, in order ("brightness=10", "power_line_frequency=50 Hz", from the config).
    public init(spec: CameraSpec.V4L2Options, poolSize: Int = 4, controls: [V4L2ControlSetting] = []) {
        self.init(pixelFormat: spec.format.map(V4L2FourCC.init), width: spec.width, height: spec.height, fps: spec.fps)
        self.poolSize = max(1, poolSize)
        self.controls = controls
    }
}
