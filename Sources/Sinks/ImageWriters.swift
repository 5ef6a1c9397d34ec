// Still images of redacted frames: the encoder shared by every still writer (JPEG, PGM luma, PPM
// RGB), ImageWriter (one file, replaced by each frame) and ImageFolderWriter (one file per frame,
// named in order or after the input files). Every file is written atomically: a hidden
// temporary file in the same folder, renamed over the name, so no reader ever sees half an image.

import Codec
import Frames
public import Redaction

/// The kinds of still, chosen by the file extension.
public enum StillImageKind: String, Sendable, Equatable, CaseIterable {
    /// Baseline JPEG (`.jpg`, `.jpeg`), keeping the frame's chroma subsampling.
    case jpeg
    /// Binary PGM (P5, `.pgm`): the luma plane only.
    case pgm
    /// Binary PPM (P6, `.ppm`): RGB converted from YUV, BT.601 full range.
    case ppm

    /// The kind an extension names (`jpg`, `.JPEG`, `pgm`, `ppm`), or `nil`.
    public init?(extension text: String) {
        switch (text.hasPrefix(".") ? String(text.dropFirst()) : text).lowercased() {
        case "jpg", "jpeg": self = .jpeg
        case "pgm": self = .pgm
        case "ppm": self = .ppm
        default: return nil
        }
    }

    /// The kind a path's extension names, or `nil`.
    public init?(path: String) {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        self.init(extension: String(name[name.index(after: dot)...]))
    }
}

/// Encodes one redacted frame as a still in memory reused from frame to frame.
final class StillEncoder {
    let kind: StillImageKind
    let quality: Int
    private let encoder = JPEGEncoder()
    private let converter = PlanarConverter()
    private let output = ScratchBuffer()

    var allocations: UInt64 { output.allocations &+ converter.allocations }

    init(kind: StillImageKind, quality: Int) {
        self.kind = kind
        self.quality = quality
    }

    /// The file's bytes, or `nil` for a compressed frame the redactor dropped whole (nothing to
    /// write). `path` names the destination in errors.
    func encode(_ frame: borrowing RedactedFrame, path: String) throws(SinkError) -> UnsafeRawBufferPointer? {
        if frame.format == .mjpeg {
            let payload = frame.payload
            guard !payload.isEmpty else { return nil }
            guard kind == .jpeg else {
                throw SinkError(path: path, reason: "frame \(frame.sequence) is compressed; it can be written as .jpg, "
                    + "not as .\(kind.rawValue), without decoding")
            }
            guard payload.count >= 4, payload[0] == 0xFF, payload[1] == 0xD8 else {
                throw SinkError(path: path, reason: "frame \(frame.sequence)'s compressed payload does not start with a JPEG SOI marker")
            }
            return payload
        }
        let pixels = try converter.planar(frame, path: path)
        let layout = pixels.layout
        let width = layout.width, height = layout.height
        switch kind {
        case .jpeg:
            let buffer = output.reserve(JPEGEncoder.maximumEncodedSize(width: width, height: height, format: layout.format))
            do {
                let written = try encoder.encode(layout: layout, bytes: pixels.bytes, quality: quality, into: buffer)
                return UnsafeRawBufferPointer(rebasing: buffer[0..<written])
            } catch {
                throw SinkError(path: path, reason: "JPEG encode of frame \(frame.sequence) failed: \(error)")
            }
        case .pgm, .ppm:
            let channels = kind == .pgm ? 1 : 3
            let memory = output.reserve(32 + width * height * channels)
            var header = ASCIIWriter(memory)
            header.text(kind == .pgm ? "P5\n" : "P6\n")
            header.number(UInt64(width))
            header.text(" ")
            header.number(UInt64(height))
            header.text("\n255\n")
            let start = header.count
            let image = UnsafeMutableRawBufferPointer(rebasing: memory[start..<(start + width * height * channels)])
            let luma = layout.planes[0]
            if kind == .pgm {
                guard let destination = image.baseAddress, let source = pixels.bytes.baseAddress else { return nil }
                for row in 0..<height {
                    (destination + row * width).copyMemory(from: source + luma.offset + row * luma.stride, byteCount: width)
                }
            } else if layout.format == .gray8 {
                convertGrayToRGB(luma: pixels.plane(0), lumaStride: luma.stride, width: width, height: height,
                                 rgb: image, rgbStride: width * 3)
            } else {
                convertYUVToRGB(luma: pixels.plane(0), lumaStride: luma.stride,
                                blue: pixels.plane(1), blueStride: layout.planes[1].stride,
                                red: pixels.plane(2), redStride: layout.planes[2].stride,
                                width: width, height: height, chromaRowShift: layout.format == .i420 ? 1 : 0,
                                rgb: image, rgbStride: width * 3)
            }
            return UnsafeRawBufferPointer(rebasing: memory[0..<(start + image.count)])
        }
    }
}

/// Writes one still image: each frame written replaces the file (atomically), so after one
/// write it holds that frame and after many it holds the latest.
///
/// The kind comes from the path's extension: `.jpg`/`.jpeg`, `.pgm` (luma) or `.ppm` (RGB from
/// YUV, BT.601 full range with libjpeg's arithmetic, each chroma sample covering its pixels).
/// Created with mode 0640.
public final class ImageWriter: RedactedSink {
    public let name = "image"
    public let path: String
    public let kind: StillImageKind
    public private(set) var statistics = SinkCounters()
    public private(set) var lastError: SinkError?
    public var counters: [String: UInt64] { statistics.dictionary }

    private let encoder: StillEncoder
    private var isClosed = false

    /// - Parameter quality: JPEG quality (1...100); ignored for PGM and PPM.
    /// - Throws: `SinkError` for an extension that is not .jpg, .jpeg, .pgm or .ppm, or a quality
    ///   out of range. The file is created by the first write.
    public init(path: String, quality: Int = 90) throws(SinkError) {
        guard let kind = StillImageKind(path: path) else {
            throw SinkError(path: path, reason: "the extension must be .jpg, .jpeg, .pgm or .ppm to choose the image format")
        }
        guard (1...100).contains(quality) else {
            throw SinkError(path: path, reason: "JPEG quality must be 1...100, got \(quality)")
        }
        self.path = path
        self.kind = kind
        encoder = StillEncoder(kind: kind, quality: quality)
    }

    public func write(_ frame: borrowing RedactedFrame) throws(SinkError) {
        do throws(SinkError) {
            guard !isClosed else { throw SinkError(path: path, reason: "the writer is closed") }
            guard let bytes = try encoder.encode(frame, path: path) else {
                statistics.droppedFrames &+= 1
                return
            }
            try writeFileAtomically(bytes, to: path, sync: false)
            statistics.framesWritten &+= 1
            statistics.bytesWritten &+= UInt64(bytes.count)
            statistics.bufferAllocations = encoder.allocations
        } catch {
            statistics.errors &+= 1
            lastError = error
            throw error
        }
    }

    /// Nothing stays open between writes; later writes fail.
    public func close() throws(SinkError) { isClosed = true }
}

/// How an `ImageFolderWriter` names each frame's file. The writer adds its extension.
public enum ImageFileNaming {
    /// `PREFIX` and the frame's sequence number, zero-padded to at least `digits` digits
    /// (`frame-000000.jpg`, `frame-000001.jpg`...), so names sort in frame order.
    case numbered(prefix: String = "frame-", digits: Int = 6)
    /// The frame with sequence number `n` gets `names[n]` with its extension replaced (offline
    /// redaction of a folder keeps the input's names). Suits a source that delivers every input
    /// file; a frame with no name is an error, never a guessed name.
    case names([String])
    /// A name chosen by the caller from the sequence number (for example the input file the
    /// source says it last delivered). Its extension is replaced like `names`.
    case custom((_ sequence: UInt64) -> String)
}

/// Writes each frame as its own still in a folder, named by an `ImageFileNaming`.
///
/// The folder is created (mode 0750) when missing, if its parent exists. Files are written
/// atomically with mode 0640; a name that would leave the folder (`/`, `..`) is refused.
public final class ImageFolderWriter: RedactedSink {
    public let name = "images"
    public let folder: String
    public let kind: StillImageKind
    /// The extension added to every name, without the dot.
    public let fileExtension: String
    public private(set) var statistics = SinkCounters()
    public private(set) var lastError: SinkError?
    public var counters: [String: UInt64] { statistics.dictionary }
    /// The path of the most recent file written.
    public private(set) var lastPath: String?

    private let naming: ImageFileNaming
    private let encoder: StillEncoder
    private var isClosed = false

    /// - Parameters:
    ///   - extension: `jpg`, `jpeg`, `pgm` or `ppm` (with or without the dot): the format and
    ///     the files' extension.
    ///   - quality: JPEG quality (1...100); ignored for PGM and PPM.
    /// - Throws: `SinkError` for an unknown extension, a bad quality or digit count, or a folder
    ///   that cannot be created.
    public init(folder: String, extension fileExtension: String = "jpg",
                naming: ImageFileNaming = .numbered(), quality: Int = 90) throws(SinkError) {
        guard let kind = StillImageKind(extension: fileExtension) else {
            throw SinkError(path: folder, reason: "image extension '\(fileExtension)' is not jpg, jpeg, pgm or ppm")
        }
        guard (1...100).contains(quality) else {
            throw SinkError(path: folder, reason: "JPEG quality must be 1...100, got \(quality)")
        }
        if case let .numbered(prefix, digits) = naming {
            guard (1...20).contains(digits) else {
                throw SinkError(path: folder, reason: "numbered file names need 1...20 digits, got \(digits)")
            }
            guard isSafeFileName(prefix + "0") else {
                throw SinkError(path: folder, reason: "the file name prefix '\(prefix)' must not contain '/' or be '.' or '..'")
            }
        }
        try ensureFolder(folder)
        self.folder = folder
        self.kind = kind
        self.fileExtension = fileExtension.hasPrefix(".") ? String(fileExtension.dropFirst()) : fileExtension
        self.naming = naming
        encoder = StillEncoder(kind: kind, quality: quality)
    }

    public func write(_ frame: borrowing RedactedFrame) throws(SinkError) {
        do throws(SinkError) {
            guard !isClosed else { throw SinkError(path: folder, reason: "the writer is closed") }
            let path = joinPath(folder, try fileName(for: frame.sequence))
            guard let bytes = try encoder.encode(frame, path: path) else {
                statistics.droppedFrames &+= 1
                return
            }
            try writeFileAtomically(bytes, to: path, sync: false)
            lastPath = path
            statistics.framesWritten &+= 1
            statistics.bytesWritten &+= UInt64(bytes.count)
            statistics.bufferAllocations = encoder.allocations
        } catch {
            statistics.errors &+= 1
            lastError = error
            throw error
        }
    }

    /// The file name (without folder) the frame with `sequence` gets.
    public func fileName(for sequence: UInt64) throws(SinkError) -> String {
        let base: String
        switch naming {
        case let .numbered(prefix, digits):
            let number = String(sequence)
            return prefix + String(repeating: "0", count: max(0, digits - number.count)) + number + "." + fileExtension
        case let .names(names):
            guard sequence < UInt64(names.count) else {
                throw SinkError(path: folder, reason: "no file name for frame \(sequence): the list has \(names.count) names")
            }
            base = names[Int(sequence)]
        case let .custom(choose):
            base = choose(sequence)
        }
        let name = replacingExtension(of: base, with: fileExtension)
        guard isSafeFileName(name), !name.hasPrefix(".") else {
            throw SinkError(path: folder, reason: "file name '\(base)' for frame \(sequence) is not a plain file name "
                + "(it is empty, hidden, or contains '/')")
        }
        return name
    }

    /// Nothing stays open between writes; later writes fail.
    public func close() throws(SinkError) { isClosed = true }
}

/// `name` without any folder part and with its extension (if any) replaced by `newExtension`.
private func replacingExtension(of name: String, with newExtension: String) -> String {
    let file = name.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? name
    // Keep the folder part so the safety check refuses it, rather than silently dropping it.
    let folderPart = String(name.dropLast(file.count))
    let stem: String
    if let dot = file.lastIndex(of: "."), dot != file.startIndex {
        stem = String(file[..<dot])
    } else {
        stem = file
    }
    return folderPart + stem + "." + newExtension
}

/// A name that stays inside the folder: not empty, no `/` or NUL, not `.` or `..`.
func isSafeFileName(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
}
