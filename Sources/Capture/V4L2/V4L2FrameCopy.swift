// From a dequeued driver buffer to a pooled Frame: copying raw planes row by row (the driver's
// row length and the pool's aligned stride differ), and the MJPEG completeness check that keeps
// truncated payloads out of the pipeline. Pure functions over byte buffers, so the host's tests
// cover them.

import Frames

/// The planes of one image in a V4L2 single-buffer format: where each starts in the driver
/// buffer, its row length there, its rows and the bytes of real samples per row.
func v4l2SourcePlanes(_ pixelFormat: V4L2FourCC, width: Int, height: Int, bytesPerLine: Int)
    -> [(offset: Int, stride: Int, rows: Int, rowBytes: Int)] {
    let chromaWidth = (width + 1) / 2
    let chromaHeight = (height + 1) / 2
    switch pixelFormat {
    case .yuyv:
        return [(0, bytesPerLine, height, chromaWidth * 4)]
    case .grey:
        return [(0, bytesPerLine, height, width)]
    case .nv12:
        return [(0, bytesPerLine, height, width), (bytesPerLine * height, bytesPerLine, chromaHeight, chromaWidth * 2)]
    case .yu12:
        let chromaStride = bytesPerLine / 2
        let uOffset = bytesPerLine * height
        return [(0, bytesPerLine, height, width),
                (uOffset, chromaStride, chromaHeight, chromaWidth),
                (uOffset + chromaStride * chromaHeight, chromaStride, chromaHeight, chromaWidth)]
    case .yuv422Planar:
        let chromaStride = bytesPerLine / 2
        let uOffset = bytesPerLine * height
        return [(0, bytesPerLine, height, width),
                (uOffset, chromaStride, height, chromaWidth),
                (uOffset + chromaStride * height, chromaStride, height, chromaWidth)]
    default:
        return []
    }
}

/// Copies a raw image from a driver buffer into a frame whose layout has the same format and
/// size. Returns false, copying nothing, when `source` is too short for the image (a truncated
/// buffer) or the layouts do not match.
func copyV4L2Image(from source: UnsafeRawBufferPointer, format: V4L2GrantedFormat, into frame: inout Frame) -> Bool {
    let planes = v4l2SourcePlanes(format.pixelFormat, width: format.width, height: format.height,
                                  bytesPerLine: format.bytesPerLine)
    guard !planes.isEmpty, planes.count == frame.format.planeCount,
          let sourceBase = source.baseAddress else { return false }
    for plane in planes where plane.rows > 0 {
        if plane.offset + plane.stride * (plane.rows - 1) + plane.rowBytes > source.count { return false }
    }
    for (index, plane) in planes.enumerated() {
        let destination = frame.plane(index)
        let destinationBase = frame.buffer.baseAddress + destination.offset
        let rowBytes = min(plane.rowBytes, destination.stride)
        if plane.stride == destination.stride && rowBytes == plane.stride {
            // Same row length on both sides: one copy for the whole plane.
            destinationBase.copyMemory(from: sourceBase + plane.offset, byteCount: plane.stride * plane.rows)
            continue
        }
        var sourceRow = sourceBase + plane.offset
        var destinationRow = destinationBase
        for _ in 0..<plane.rows {
            destinationRow.copyMemory(from: sourceRow, byteCount: rowBytes)
            sourceRow += plane.stride
            destinationRow += destination.stride
        }
    }
    return true
}

/// How far from the end of a payload the EOI marker may sit: some cameras pad their JPEGs with
/// zeros up to a word or a USB packet boundary.
let jpegTrailingPaddingAllowance = 32

/// Whether an MJPEG payload looks whole: it starts with SOI (FF D8) and an EOI (FF D9) sits at
/// the end, after at most a little zero padding. A camera that loses USB packets delivers
/// payloads cut short; passing them on would hand the decoder garbage (ustreamer discards them
/// the same way).
public func isCompleteJPEG(_ bytes: UnsafeRawBufferPointer) -> Bool {
    let count = bytes.count
    guard count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return false }
    var end = count
    let lowest = max(2, count - jpegTrailingPaddingAllowance)
    while end > lowest && bytes[end - 1] == 0x00 { end -= 1 }
    return end >= 4 && bytes[end - 2] == 0xFF && bytes[end - 1] == 0xD9
}

/// Turns driver sequence numbers into drop counts. A gap between consecutive buffers means the
/// driver had a frame it could not deliver (no buffer queued, or it dropped it).
public struct V4L2SequenceTracker: Sendable, Equatable {
    public private(set) var last: UInt32?

    public init() {}

    /// Records a buffer's sequence number and returns how many frames were missed before it.
    /// A number that goes backwards (the driver restarted its count) is not a gap.
    public mutating func record(_ sequence: UInt32) -> UInt64 {
        defer { last = sequence }
        guard let last else { return 0 }
        let gap = sequence &- last &- 1
        // Half the range or more means the count went backwards, not forwards.
        return gap < UInt32(1) << 31 ? UInt64(gap) : 0
    }

    /// Forgets the last number: after a reopen the driver counts from zero again.
    public mutating func reset() { last = nil }
}
