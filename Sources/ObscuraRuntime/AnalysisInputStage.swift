// Prepares the image analysis works on: the luma plane, box-downscaled by 4 into a grey image
// owned by the stage. Motion analysis (issue 4) reads it; until then this stage's cost is the
// first analysis figure in every report.

public import Boards
public import Frames

public final class AnalysisInputStage: PipelineStage {
    public let name = "analysis-input"
    public let workKind = WorkKind.pixelKernels
    public let factor: Int
    /// The downscaled grey image of the last frame, allocated once.
    public private(set) var image: [UInt8]
    public private(set) var imageWidth = 0
    public private(set) var imageHeight = 0
    private var unsupported: UInt64 = 0
    private var prepared: UInt64 = 0

    public init(maximumWidth: Int, maximumHeight: Int, factor: Int = 4) {
        self.factor = factor
        image = [UInt8](repeating: 0, count: max(1, (maximumWidth / factor) * (maximumHeight / factor)))
    }

    public func process(_ frame: consuming Frame) -> Frame? {
        let layout = frame.layout
        let step: Int
        switch layout.format {
        case .gray8, .i420, .i422, .nv12: step = 1
        case .yuyv: step = 2
        case .mjpeg:
            // A compressed frame reaching analysis means no decoder ran: drop it (fail closed).
            unsupported &+= 1
            return nil
        }
        let (width, height) = downscaledSize(width: layout.width, height: layout.height, factor: factor)
        guard width * height <= image.count else {
            unsupported &+= 1
            return nil
        }
        let plane = layout.planes[0]
        let base = UnsafeRawPointer(frame.buffer.baseAddress + plane.offset)
        image.withUnsafeMutableBytes { destination in
            downscaleBox(source: base, width: layout.width, height: layout.height, stride: plane.stride, pixelStep: step,
                         factor: factor, destination: destination.baseAddress!, destinationStride: width)
        }
        imageWidth = width
        imageHeight = height
        prepared &+= 1
        return frame
    }

    public var counters: [String: UInt64] { ["prepared": prepared, "dropped_unsupported": unsupported] }
}
