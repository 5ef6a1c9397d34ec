// The image-folder camera: a folder of stills (JPEG, PGM P5 or PPM P6) played in file-name
// order, and the PNM header reader it needs.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
public import Frames

/// The header of a binary PNM image (P5 grey or P6 RGB), 8-bit only.
struct PNMHeader: Equatable {
    /// 5 for PGM, 6 for PPM.
    var kind: Int
    var width: Int
    var height: Int

    /// Reads the header at the reader's position, leaving it on the first pixel byte. Comments
    /// (`#` to the end of the line) may sit between any two fields, as the format allows.
    static func read(from reader: BufferedFileReader, path: String) throws(CaptureError) -> PNMHeader {
        guard try reader.ensure(2), reader.peek(0) == UInt8(ascii: "P"),
              reader.peek(1) == UInt8(ascii: "5") || reader.peek(1) == UInt8(ascii: "6") else {
            let found = printable(reader.window.prefix(2))
            throw .badHeader(path: path, location: "byte 0", reason: "expected the magic P5 (PGM) or P6 (PPM), found '\(found)'")
        }
        let kind = reader.peek(1) == UInt8(ascii: "5") ? 5 : 6
        reader.advance(by: 2)
        let width = try readNumber(reader, path: path, field: "width")
        let height = try readNumber(reader, path: path, field: "height")
        let maximum = try readNumber(reader, path: path, field: "maxval")
        guard width > 0, height > 0, width <= CameraSpec.maximumDimension, height <= CameraSpec.maximumDimension else {
            throw .badHeader(path: path, location: "byte \(reader.offset)",
                             reason: "size \(width)x\(height) is out of range 1...\(CameraSpec.maximumDimension)")
        }
        guard maximum == 255 else {
            throw .unsupported(path: path, reason: "PNM maxval \(maximum): only 8-bit images (maxval 255) are supported")
        }
        // Exactly one whitespace byte separates maxval from the pixels.
        guard try reader.ensure(1), isPNMSpace(reader.peek()) else {
            throw .badHeader(path: path, location: "byte \(reader.offset)", reason: "expected one whitespace byte after maxval")
        }
        reader.advance(by: 1)
        return PNMHeader(kind: kind, width: width, height: height)
    }

    private static func readNumber(_ reader: BufferedFileReader, path: String, field: String) throws(CaptureError) -> Int {
        // Whitespace and comments before the number.
        while true {
            guard try reader.ensure(1) else {
                throw .badHeader(path: path, location: "byte \(reader.offset)", reason: "the file ends before the \(field)")
            }
            let byte = reader.peek()
            if isPNMSpace(byte) {
                reader.advance(by: 1)
            } else if byte == UInt8(ascii: "#") {
                while try reader.ensure(1), reader.peek() != 0x0A, reader.peek() != 0x0D { reader.advance(by: 1) }
            } else {
                break
            }
        }
        let start = reader.offset
        var value = 0
        var digits = 0
        while try reader.ensure(1) {
            let byte = reader.peek()
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { break }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
            reader.advance(by: 1)
            guard digits <= 6 else {
                throw .badHeader(path: path, location: "byte \(start)", reason: "the \(field) has too many digits")
            }
        }
        guard digits > 0 else {
            let found = printable(reader.window.prefix(8))
            throw .badHeader(path: path, location: "byte \(start)", reason: "expected the \(field) (a whole number), found '\(found)'")
        }
        return value
    }
}

@inline(__always)
private func isPNMSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0B || byte == 0x0C
}

/// Plays a folder of stills in file-name order (or a single still): JPEG files as `.mjpeg` payload frames, PGM as
/// GRAY8, PPM converted to I420 (BT.601 full range, 2x2 chroma averaging).
///
/// Only one kind plays: the only kind present, or the one the spec names with `images=` when
/// the folder holds several. Every header is checked at open, and a malformed one fails the
/// open naming the file. The first image sets the size; an image of another size (or one that
/// has become unreadable since the open) is counted in `counters.corrupt`, described in
/// `lastDefect`, and skipped each time its turn comes.
public final class ImageFolderSource: FrameSource {
    public let name: String
    public let mode: SourceMode
    public private(set) var counters = SourceCounters()
    public let pool: FramePool
    public let path: String
    public let kind: CameraSpec.ImageKind
    /// The images played, in order (full paths).
    public let files: [String]
    public let loops: Bool
    /// The most recent skipped image and why, for logs.
    public private(set) var lastDefect: String?

    /// `files` as C strings, made once so that opening a file per frame does not allocate.
    private let cPaths: [ContiguousArray<CChar>]
    private let reader: BufferedFileReader
    private var pacer: FramePacer
    private let layout: FrameLayout
    private var nextSequence: UInt64 = 0
    private var nextFile = 0
    /// On the first pass, the index in `files` of the image delivered as each sequence number
    /// (skipped images take none); capacity reserved at open, so recording allocates nothing.
    private var fileIndexBySequence: [Int] = []
    private var deliveredThisPass = 0
    /// PPM rows are read a band at a time into this scratch (allocated once) and converted.
    private let rgbScratch: UnsafeMutableRawBufferPointer
    private static let rgbBandRows = 16

    /// Lists the folder and checks every image header.
    ///
    /// - Parameters:
    ///   - images: which kind to play when the folder has several; `nil` when it has one.
    ///   - fps: the nominal rate (default `CameraSpec.defaultFileFPS`).
    public init(path: String, images: CameraSpec.ImageKind? = nil, fps: Double = CameraSpec.defaultFileFPS,
                loop: Bool = false, pacing: Pacing = .nominal, poolSize: Int = 4, name: String? = nil) throws(CaptureError) {
        precondition(poolSize > 0, "a source needs at least one buffer")
        self.path = path
        self.name = name ?? "file:\(path)"
        self.loops = loop

        let (chosen, chosenFiles) = try Self.imagesToPlay(path: path, images: images)
        kind = chosen
        files = chosenFiles
        cPaths = files.map(\.utf8CString)

        // Check every header; the first sets the size.
        reader = try BufferedFileReader(path: files[0], windowCapacity: 64 * 1024)
        var size: (width: Int, height: Int)? = nil
        for file in files {
            try reader.open(path: file)
            let fileSize: (width: Int, height: Int)
            switch chosen {
            case .jpeg:
                guard let found = try JPEGStreamSplitter.probeSize(reader: reader) else {
                    throw .badHeader(path: file, location: "byte 0", reason: "not a JPEG with a frame header (SOI ... SOF)")
                }
                fileSize = found
            case .pgm, .ppm:
                let header = try PNMHeader.read(from: reader, path: file)
                guard header.kind == (chosen == .pgm ? 5 : 6) else {
                    throw .badHeader(path: file, location: "byte 0", reason: "expected \(chosen == .pgm ? "P5" : "P6") for a .\(chosen.rawValue) file, found P\(header.kind)")
                }
                fileSize = (header.width, header.height)
            }
            if size == nil { size = fileSize }
        }
        let width = size!.width, height = size!.height

        let format: PixelFormat
        switch chosen {
        case .jpeg:
            format = .mjpeg
            layout = FrameLayout(format: .mjpeg, width: width, height: height,
                                 payloadCapacity: max(64 * 1024, width * height * 3))
        case .pgm:
            format = .gray8
            layout = FrameLayout(format: .gray8, width: width, height: height)
        case .ppm:
            format = .i420
            layout = FrameLayout(format: .i420, width: width, height: height)
        }
        rgbScratch = .allocate(byteCount: chosen == .ppm ? width * 3 * Self.rgbBandRows : 0, alignment: 64)
        pool = FramePool(count: poolSize, layout: layout)
        fileIndexBySequence.reserveCapacity(files.count)
        mode = SourceMode(width: width, height: height, format: format, fps: fps)
        pacer = FramePacer(pacing: pacing, fps: fps)
    }

    deinit { rgbScratch.deallocate() }

    /// The file delivered as frame `sequence` on the first pass through the folder (nil for a
    /// sequence not delivered yet, or from a later loop): offline redaction names its outputs so.
    public func file(forSequence sequence: UInt64) -> String? {
        guard sequence < UInt64(fileIndexBySequence.count) else { return nil }
        return files[fileIndexBySequence[Int(sequence)]]
    }

    /// The kind and the files to play: every image of one kind in a folder, or one still when
    /// `path` is a single .jpg, .jpeg, .pgm or .ppm file.
    private static func imagesToPlay(path: String, images: CameraSpec.ImageKind?) throws(CaptureError)
        -> (CameraSpec.ImageKind, [String]) {
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & S_IFMT != S_IFDIR {
            let lowered = path.lowercased()
            let single: CameraSpec.ImageKind
            if lowered.hasSuffix(".jpg") || lowered.hasSuffix(".jpeg") {
                single = .jpeg
            } else if lowered.hasSuffix(".pgm") {
                single = .pgm
            } else if lowered.hasSuffix(".ppm") {
                single = .ppm
            } else {
                throw .unsupported(path: path, reason: "a still camera plays a .jpg, .jpeg, .pgm or .ppm file, or a folder of them")
            }
            if let images, images != single {
                throw .invalidSpec(spec: path, reason: "images=\(images.rawValue) does not match the file's kind (\(single.rawValue))")
            }
            return (single, [path])
        }
        let listing = try listImages(in: path)
        let present = CameraSpec.ImageKind.allCases.filter { listing[$0]?.isEmpty == false }
        guard !present.isEmpty else {
            throw .empty(path: path, reason: "the folder has no .jpg, .jpeg, .pgm or .ppm files")
        }
        let chosen: CameraSpec.ImageKind
        if let images {
            guard present.contains(images) else {
                throw .empty(path: path, reason: "the folder has no \(images.rawValue) images (it has "
                    + present.map(\.rawValue).joined(separator: ", ") + ")")
            }
            chosen = images
        } else {
            guard present.count == 1 else {
                throw .unsupported(path: path, reason: "the folder holds " + present.map(\.rawValue).joined(separator: ", ")
                    + " images; choose one with ?images=" + present.map(\.rawValue).joined(separator: "|"))
            }
            chosen = present[0]
        }
        let names = listing[chosen] ?? []
        return (chosen, names.sorted().map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 })
    }

    public func nextFrame() throws(CaptureError) -> Frame? {
        var frame = try pool.waitForFrame(layout: layout, sequence: nextSequence, counters: &counters, name: name)
        while true {
            if nextFile == files.count {
                guard loops, deliveredThisPass > 0 else { return nil }
                nextFile = 0
                deliveredThisPass = 0
                counters.loops &+= 1
            }
            let file = files[nextFile]
            let cPath = cPaths[nextFile]
            nextFile &+= 1
            do {
                try reader.open(path: file, cPath: cPath)
                if let problem = try load(into: &frame) {
                    counters.corrupt &+= 1
                    lastDefect = "\(file): \(problem)"
                    continue
                }
            } catch {
                // The file changed or vanished since the open: skip it, as a camera skips a bad frame.
                counters.corrupt &+= 1
                lastDefect = error.description
                continue
            }
            deliveredThisPass &+= 1
            if counters.loops == 0 { fileIndexBySequence.append(nextFile - 1) }
            break
        }
        counters.skipped &+= pacer.waitForNextFrame()
        frame.sequence = nextSequence
        frame.captureTime = .now
        nextSequence &+= 1
        counters.delivered &+= 1
        return frame
    }

    /// Loads the open file into `frame`; returns why it was skipped, or nil.
    private func load(into frame: inout Frame) throws(CaptureError) -> String? {
        switch kind {
        case .jpeg:
            var splitter = JPEGStreamSplitter()
            let destination = frame.planeBytes(0)
            switch try splitter.next(from: reader, into: destination) {
            case let .frame(_, byteCount, width, height):
                guard width == mode.width, height == mode.height else { return sizeProblem(width, height) }
                guard byteCount <= destination.count else { return "\(byteCount) bytes, larger than the \(destination.count)-byte buffer" }
                frame.payloadSize = byteCount
                return nil
            case let .defect(defect):
                return defect.description
            case .end:
                return "no JPEG in the file"
            }
        case .pgm, .ppm:
            let header = try PNMHeader.read(from: reader, path: reader.path)
            guard header.width == mode.width, header.height == mode.height else { return sizeProblem(header.width, header.height) }
            guard header.kind == (kind == .pgm ? 5 : 6) else { return "P\(header.kind) where P\(kind == .pgm ? 5 : 6) was expected" }
            return kind == .pgm ? try loadGray(into: &frame) : try loadRGB(into: &frame)
        }
    }

    private func sizeProblem(_ width: Int, _ height: Int) -> String {
        "\(width)x\(height), unlike the folder's first image (\(mode.width)x\(mode.height))"
    }

    private func loadGray(into frame: inout Frame) throws(CaptureError) -> String? {
        let plane = layout.planes[0]
        let base = frame.buffer.baseAddress + plane.offset
        for row in 0..<plane.height {
            guard try reader.read(into: base + row * plane.stride, count: plane.rowBytes) == plane.rowBytes else {
                return "the file ends in row \(row) of \(plane.height)"
            }
        }
        return nil
    }

    private func loadRGB(into frame: inout Frame) throws(CaptureError) -> String? {
        let width = mode.width, height = mode.height
        let rowBytes = width * 3
        let planes = layout.planes
        let base = frame.buffer.baseAddress
        var row = 0
        while row < height {
            let rows = min(Self.rgbBandRows, height - row)
            guard try reader.read(into: rgbScratch.baseAddress!, count: rows * rowBytes) == rows * rowBytes else {
                return "the file ends in pixel rows \(row)..<\(row + rows) of \(height)"
            }
            // Bands start on even rows, so each chroma row comes from one band.
            let chromaRow = row / 2
            let chromaRows = (rows + 1) / 2
            convertRGBToI420(
                rgb: UnsafeRawBufferPointer(start: rgbScratch.baseAddress, count: rows * rowBytes), rgbStride: rowBytes,
                width: width, height: rows,
                luma: UnsafeMutableRawBufferPointer(start: base + planes[0].offset + row * planes[0].stride,
                                                    count: planes[0].stride * (rows - 1) + planes[0].rowBytes),
                lumaStride: planes[0].stride,
                chromaBlue: UnsafeMutableRawBufferPointer(start: base + planes[1].offset + chromaRow * planes[1].stride,
                                                          count: planes[1].stride * (chromaRows - 1) + planes[1].rowBytes),
                chromaBlueStride: planes[1].stride,
                chromaRed: UnsafeMutableRawBufferPointer(start: base + planes[2].offset + chromaRow * planes[2].stride,
                                                         count: planes[2].stride * (chromaRows - 1) + planes[2].rowBytes),
                chromaRedStride: planes[2].stride)
            row += rows
        }
        return nil
    }
}

/// The folder's image files by kind (names only). Other files are ignored.
private func listImages(in path: String) throws(CaptureError) -> [CameraSpec.ImageKind: [String]] {
    guard let directory = opendir(path) else {
        let code = errno
        if code == ENOENT { throw .notFound(path: path) }
        throw .system(call: "opendir", path: path, errno: code)
    }
    defer { closedir(directory) }
    var result: [CameraSpec.ImageKind: [String]] = [:]
    while let entry = readdir(directory) {
        let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
            pointer.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                String(cString: $0)
            }
        }
        guard !name.hasPrefix("."), let dot = name.lastIndex(of: ".") else { continue }
        let kind: CameraSpec.ImageKind
        switch name[name.index(after: dot)...].lowercased() {
        case "jpg", "jpeg": kind = .jpeg
        case "pgm": kind = .pgm
        case "ppm": kind = .ppm
        default: continue
        }
        result[kind, default: []].append(name)
    }
    return result
}
