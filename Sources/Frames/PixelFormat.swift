// Pixel formats a Frame can carry, and the plane geometry each one implies.

/// The layout of a frame's bytes.
///
/// Planar YUV formats use full-range BT.601 as JPEG (JFIF) does; the chroma planes of the
/// subsampled formats are rounded up for odd sizes (`(width + 1) / 2`), as libjpeg does.
public enum PixelFormat: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// One 8-bit luma plane.
    case gray8 = "GRAY8"
    /// Planar Y, U, V with chroma halved both ways (4:2:0), as V4L2 `YU12` and Y4M `C420`.
    case i420 = "I420"
    /// Planar Y, U, V with chroma halved horizontally (4:2:2), as Y4M `C422` and JPEG 4:2:2.
    case i422 = "I422"
    /// Y plane and one interleaved CbCr plane at 4:2:0, as V4L2 `NV12`.
    case nv12 = "NV12"
    /// Packed Y0 Cb Y1 Cr, 2 bytes per pixel, as V4L2 `YUYV`.
    case yuyv = "YUYV"
    /// A compressed JPEG payload (one frame of an MJPEG stream): one plane of `payloadSize` bytes.
    case mjpeg = "MJPEG"

    public var description: String { rawValue }

    /// Whether the pixels are stored as planes of samples (as opposed to a compressed payload).
    public var isRaw: Bool { self != .mjpeg }

    /// Number of planes a frame of this format has.
    public var planeCount: Int {
        switch self {
        case .gray8, .yuyv, .mjpeg: 1
        case .nv12: 2
        case .i420, .i422: 3
        }
    }
}

/// The geometry of one plane inside a frame buffer.
public struct Plane: Sendable, Equatable {
    /// Byte offset of the plane's first row inside the frame buffer.
    public var offset: Int
    /// Width in samples of this plane (for YUYV and NV12's CbCr plane, in bytes / bytes-per-sample).
    public var width: Int
    /// Number of rows.
    public var height: Int
    /// Bytes from one row to the next; at least `width * bytesPerSample`.
    public var stride: Int

    public init(offset: Int, width: Int, height: Int, stride: Int) {
        self.offset = offset
        self.width = width
        self.height = height
        self.stride = stride
    }

    /// Bytes the plane occupies, including the padding of each row but the last.
    public var byteCount: Int { height == 0 ? 0 : stride * (height - 1) + rowBytes }
    /// Bytes of real samples in one row.
    public var rowBytes: Int { width }
}

/// Plane geometry for a raw format at a given size. Strides are padded to `alignment` bytes so
/// that SIMD loops and libjpeg's raw-data path can run over whole rows.
public struct FrameLayout: Sendable, Equatable {
    public var format: PixelFormat
    public var width: Int
    public var height: Int
    public var planes: [Plane]
    /// Total bytes needed for all planes.
    public var byteCount: Int

    public static let defaultAlignment = 32

    /// Computes the layout of a raw frame. For `.mjpeg` the layout is one plane of
    /// `payloadCapacity` bytes.
    public init(format: PixelFormat, width: Int, height: Int,
                alignment: Int = FrameLayout.defaultAlignment, payloadCapacity: Int = 0) {
        precondition(width >= 0 && height >= 0, "negative frame size")
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment must be a power of two")
        func align(_ value: Int) -> Int { (value + alignment - 1) & ~(alignment - 1) }
        let chromaWidth = (width + 1) / 2
        let chromaHeight = (height + 1) / 2
        var sizes: [(width: Int, height: Int, rowBytes: Int)]
        switch format {
        case .gray8: sizes = [(width, height, width)]
        case .i420: sizes = [(width, height, width), (chromaWidth, chromaHeight, chromaWidth), (chromaWidth, chromaHeight, chromaWidth)]
        case .i422: sizes = [(width, height, width), (chromaWidth, height, chromaWidth), (chromaWidth, height, chromaWidth)]
        case .nv12: sizes = [(width, height, width), (chromaWidth * 2, chromaHeight, chromaWidth * 2)]
        case .yuyv: sizes = [(chromaWidth * 4, height, chromaWidth * 4)]
        case .mjpeg: sizes = [(payloadCapacity, 1, payloadCapacity)]
        }
        var offset = 0
        var planes: [Plane] = []
        planes.reserveCapacity(sizes.count)
        for size in sizes {
            let stride = format == .mjpeg ? size.rowBytes : align(size.rowBytes)
            let plane = Plane(offset: offset, width: size.width, height: size.height, stride: stride)
            planes.append(plane)
            offset = align(offset + stride * size.height)
        }
        self.format = format
        self.width = width
        self.height = height
        self.planes = planes
        self.byteCount = offset
    }
}
