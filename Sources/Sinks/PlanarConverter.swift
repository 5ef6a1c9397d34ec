// The pixels of a raw redacted frame as planar I420, I422 or GRAY8 (what the JPEG encoder, Y4M
// and PNM writers take): the frame's own buffer when it is planar already, NV12 converted to
// I420 and YUYV to I422 in a scratch buffer allocated once.

import Frames
import Redaction

/// Planar pixels: a layout and the bytes its plane offsets are relative to.
struct PlanarPixels {
    var layout: FrameLayout
    var bytes: UnsafeRawBufferPointer

    func plane(_ index: Int) -> UnsafeRawBufferPointer {
        let plane = layout.planes[index]
        return UnsafeRawBufferPointer(rebasing: bytes[plane.offset..<(plane.offset + plane.byteCount)])
    }
}

/// Converts interleaved raw frames to planar. One per sink; not thread-safe.
final class PlanarConverter {
    private let scratch = ScratchBuffer()
    /// The scratch layout, kept while frames keep their format and size (a FrameLayout holds
    /// an array, so making one per frame would allocate).
    private var scratchLayout: FrameLayout?

    /// Times the scratch memory was allocated (once per larger frame size).
    var allocations: UInt64 { scratch.allocations }

    /// The frame's pixels as I420 (from I420 or NV12), I422 (from I422 or YUYV) or GRAY8.
    /// `path` names the sink's output in errors.
    func planar(_ frame: borrowing RedactedFrame, path: String) throws(SinkError) -> PlanarPixels {
        let layout = frame.layout
        let bytes = frame.bytes
        guard layout.format.isRaw else {
            throw SinkError(path: path, reason: "a compressed (\(layout.format)) frame has no raw pixels to write here")
        }
        guard layout.width > 0, layout.height > 0 else {
            throw SinkError(path: path, reason: "frame \(frame.sequence) is empty (\(layout.width)x\(layout.height))")
        }
        guard layout.planes.count == layout.format.planeCount,
              layout.planes.allSatisfy({ $0.offset >= 0 && $0.offset + $0.byteCount <= bytes.count }) else {
            throw SinkError(path: path, reason: "frame \(frame.sequence)'s \(layout.format) layout does not fit its buffer")
        }
        switch layout.format {
        case .i420, .i422, .gray8:
            return PlanarPixels(layout: layout, bytes: bytes)
        case .nv12:
            let target = targetLayout(.i420, width: layout.width, height: layout.height)
            let memory = scratch.reserve(target.byteCount)
            let luma = layout.planes[0], chroma = layout.planes[1]
            copyPlane(from: bytes, luma, to: memory, target.planes[0])
            splitInterleavedChroma(
                source: UnsafeRawBufferPointer(rebasing: bytes[chroma.offset..<(chroma.offset + chroma.byteCount)]),
                sourceStride: chroma.stride, width: target.planes[1].width, height: target.planes[1].height,
                blue: slice(memory, target.planes[1]), blueStride: target.planes[1].stride,
                red: slice(memory, target.planes[2]), redStride: target.planes[2].stride)
            return PlanarPixels(layout: target, bytes: UnsafeRawBufferPointer(memory))
        case .yuyv:
            let target = targetLayout(.i422, width: layout.width, height: layout.height)
            let memory = scratch.reserve(target.byteCount)
            let packed = layout.planes[0]
            unpackYUYV(
                source: UnsafeRawBufferPointer(rebasing: bytes[packed.offset..<(packed.offset + packed.byteCount)]),
                sourceStride: packed.stride, width: layout.width, height: layout.height,
                luma: slice(memory, target.planes[0]), lumaStride: target.planes[0].stride,
                blue: slice(memory, target.planes[1]), blueStride: target.planes[1].stride,
                red: slice(memory, target.planes[2]), redStride: target.planes[2].stride)
            return PlanarPixels(layout: target, bytes: UnsafeRawBufferPointer(memory))
        case .mjpeg:
            throw SinkError(path: path, reason: "a compressed frame has no raw pixels to write here")
        }
    }

    private func targetLayout(_ format: PixelFormat, width: Int, height: Int) -> FrameLayout {
        if let cached = scratchLayout, cached.format == format, cached.width == width, cached.height == height {
            return cached
        }
        let layout = FrameLayout(format: format, width: width, height: height)
        scratchLayout = layout
        return layout
    }
}

private func slice(_ memory: UnsafeMutableRawBufferPointer, _ plane: Plane) -> UnsafeMutableRawBufferPointer {
    UnsafeMutableRawBufferPointer(rebasing: memory[plane.offset..<(plane.offset + plane.byteCount)])
}

/// Copies the rows of one plane (`rowBytes` each) between two layouts of the same size.
private func copyPlane(from source: UnsafeRawBufferPointer, _ sourcePlane: Plane,
                       to destination: UnsafeMutableRawBufferPointer, _ destinationPlane: Plane) {
    guard let sourceBase = source.baseAddress, let destinationBase = destination.baseAddress else { return }
    let rowBytes = min(sourcePlane.rowBytes, destinationPlane.rowBytes)
    for row in 0..<min(sourcePlane.height, destinationPlane.height) {
        (destinationBase + destinationPlane.offset + row * destinationPlane.stride)
            .copyMemory(from: sourceBase + sourcePlane.offset + row * sourcePlane.stride, byteCount: rowBytes)
    }
}
