// A detector run on the mirror image: OpenCV's profile-face cascade knows one side of the face
// only, so a config lists it twice, once `mirrored: true`, to find faces turned either way.

public import Analysis

/// Wraps a region detector so that it sees each region flipped left to right; boxes come back in
/// the region's own (unflipped) pixels. The flip is written into a buffer kept between frames.
public final class MirroredDetector: RegionDetector {
    public let inner: any RegionDetector
    private var scratch: [UInt8] = []

    public init(_ inner: any RegionDetector) {
        self.inner = inner
    }

    public func passCost(width: Int, height: Int, parameters: DetectionParameters) -> DetectorPassCost {
        inner.passCost(width: width, height: height, parameters: parameters)
    }

    public func detect(_ image: GrayPlane, parameters: DetectionParameters) throws -> [DetectionBox] {
        let width = image.width, height = image.height
        guard width > 0, height > 0 else { return try inner.detect(image, parameters: parameters) }
        if scratch.count < width * height { scratch = [UInt8](repeating: 0, count: width * height) }
        return try scratch.withUnsafeMutableBufferPointer { buffer throws -> [DetectionBox] in
            let destination = buffer.baseAddress!
            for row in 0..<height {
                let source = image.base + row * image.stride
                let target = destination + row * width
                for column in 0..<width { target[width - 1 - column] = source[column] }
            }
            let flipped = GrayPlane(base: UnsafePointer(destination), width: width, height: height, stride: width)
            return try inner.detect(flipped, parameters: parameters).map { box in
                DetectionBox(x: width - box.x - box.width, y: box.y, width: box.width, height: box.height)
            }
        }
    }
}
