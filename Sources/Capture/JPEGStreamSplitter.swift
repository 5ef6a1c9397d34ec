// Splits a stream of concatenated JPEGs into frames by walking the JPEG marker structure (SOI,
// length-prefixed segments, SOS, entropy-coded data until EOI), so that an EXIF thumbnail's
// nested SOI/EOI inside an APP1 segment does not cut a frame short, and garbage or truncation
// is found and reported with its byte offset.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What was wrong with a stretch of an MJPEG stream that was skipped.
public struct JPEGStreamDefect: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Bytes between frames that are not a JPEG start (SOI).
        case garbage(byteCount: Int)
        /// The frame stops before its EOI: the file ends, or a new SOI starts inside it.
        case truncated
        /// A byte where a marker was expected is not 0xFF (or a segment length is impossible).
        case badMarker(atOffset: Int)
        /// EOI came without a frame header (SOF) or scan (SOS).
        case incomplete
        /// The frame is larger than a pool buffer.
        case tooLarge(byteCount: Int, capacity: Int)
        /// The frame's SOF size differs from the stream's first frame.
        case sizeMismatch(width: Int, height: Int)
    }

    /// File offset of the frame's SOI (or of the first garbage byte).
    public var offset: Int
    public var kind: Kind

    public var description: String {
        switch kind {
        case let .garbage(count): "\(count) bytes of garbage at byte \(offset)"
        case .truncated: "truncated JPEG at byte \(offset)"
        case let .badMarker(at): "JPEG at byte \(offset): expected a marker at byte \(at)"
        case .incomplete: "JPEG at byte \(offset) has no frame header or scan before EOI"
        case let .tooLarge(count, capacity): "JPEG at byte \(offset) is \(count) bytes, larger than the \(capacity)-byte buffer"
        case let .sizeMismatch(width, height): "JPEG at byte \(offset) is \(width)x\(height), unlike the stream's first frame"
        }
    }
}

/// One step of the splitter.
enum JPEGScanResult: Equatable {
    /// A complete JPEG, `byteCount` bytes from `offset`. If `byteCount` exceeds the destination,
    /// only its start was copied.
    case frame(offset: Int, byteCount: Int, width: Int, height: Int)
    case defect(JPEGStreamDefect)
    case end
}

/// Walks JPEG markers on a `BufferedFileReader`, copying each frame into a caller's buffer.
struct JPEGStreamSplitter {
    /// After a defect inside a frame's headers, the search for the next SOI restarts just after
    /// the bad frame's SOI (a wrong segment length may have swallowed the next frame's start);
    /// the bytes passed over then are part of the defect already reported, not new garbage.
    private var resynchronizing = false

    /// Reads the next frame into `destination` (which may be empty, to only measure and find the
    /// size). The reader is left after the frame's EOI, or where scanning should resume.
    mutating func next(from reader: BufferedFileReader, into destination: UnsafeMutableRawBufferPointer)
        throws(CaptureError) -> JPEGScanResult
    {
        // 1. Find SOI (FF D8); anything before it is garbage.
        let searchStart = reader.offset
        while true {
            guard try reader.ensure(2) else {
                let leftover = reader.window.count
                reader.advance(by: leftover)
                let skipped = reader.offset - searchStart
                let wasResynchronizing = resynchronizing
                resynchronizing = false
                if skipped > 0 && !wasResynchronizing {
                    return .defect(JPEGStreamDefect(offset: searchStart, kind: .garbage(byteCount: skipped)))
                }
                return .end
            }
            if reader.peek(0) == 0xFF && reader.peek(1) == 0xD8 { break }
            // Jump to the next 0xFF in the window rather than stepping a byte at a time: a long
            // run of garbage (a corrupt stretch of a camera dump) is skipped at memchr speed.
            let window = reader.window
            if let found = memchr(window.baseAddress! + 1, 0xFF, window.count - 1) {
                reader.advance(by: window.baseAddress!.distance(to: UnsafeRawPointer(found)))
            } else {
                reader.advance(by: window.count)
            }
        }
        if reader.offset > searchStart && !resynchronizing {
            return .defect(JPEGStreamDefect(offset: searchStart, kind: .garbage(byteCount: reader.offset - searchStart)))
        }
        resynchronizing = false

        var output = FrameOutput(destination: destination)
        let frameStart = reader.offset
        output.append(reader.window.baseAddress!, count: 2)
        reader.advance(by: 2)
        var width = 0, height = 0
        var sawScan = false

        func defect(_ kind: JPEGStreamDefect.Kind) -> JPEGScanResult {
            .defect(JPEGStreamDefect(offset: frameStart, kind: kind))
        }
        /// A defect in the headers: resume the SOI search right after this frame's SOI.
        func headerDefect(_ kind: JPEGStreamDefect.Kind) throws(CaptureError) -> JPEGScanResult {
            try reader.seek(to: frameStart + 2)
            resynchronizing = true
            return defect(kind)
        }

        // 2. Markers until EOI. `pending` holds a marker already read by the entropy scan.
        var pending: UInt8? = nil
        while true {
            let marker: UInt8
            if let known = pending {
                marker = known
                pending = nil
            } else {
                guard try reader.ensure(2) else { return try headerDefect(.truncated) }
                guard reader.peek(0) == 0xFF else { return try headerDefect(.badMarker(atOffset: reader.offset)) }
                // Any number of 0xFF fill bytes may precede a marker.
                output.append(byte: 0xFF)
                reader.advance(by: 1)
                while reader.peek(0) == 0xFF {
                    output.append(byte: 0xFF)
                    reader.advance(by: 1)
                    guard try reader.ensure(1) else { return try headerDefect(.truncated) }
                }
                marker = reader.peek(0)
                output.append(byte: marker)
                reader.advance(by: 1)
            }

            switch marker {
            case 0xD9: // EOI
                guard sawScan, width > 0, height > 0 else { return defect(.incomplete) }
                return .frame(offset: frameStart, byteCount: output.count, width: width, height: height)
            case 0xD8: // SOI inside a frame: this frame was cut off and a new one starts here.
                try reader.seek(to: reader.offset - 2)
                return defect(.truncated)
            case 0x01, 0xD0...0xD7: // TEM and RSTn stand alone, no length.
                continue
            case 0x00:
                return try headerDefect(.badMarker(atOffset: reader.offset - 1))
            default:
                break
            }

            // A segment: two length bytes (counting themselves), then the body.
            guard try reader.ensure(2) else { return try headerDefect(.truncated) }
            let length = Int(reader.peek(0)) << 8 | Int(reader.peek(1))
            guard length >= 2 else { return try headerDefect(.badMarker(atOffset: reader.offset)) }
            if isStartOfFrame(marker) {
                // SOFn: length, precision, height (2), width (2).
                guard try reader.ensure(7) else { return try headerDefect(.truncated) }
                height = Int(reader.peek(3)) << 8 | Int(reader.peek(4))
                width = Int(reader.peek(5)) << 8 | Int(reader.peek(6))
            }
            guard try copy(length, from: reader, to: &output) else { return try headerDefect(.truncated) }
            guard marker == 0xDA else { continue }

            // SOS: entropy-coded data follows. Scan for 0xFF with memchr; 0xFF00 is a stuffed
            // data byte, 0xFFD0...D7 a restart marker, anything else ends the scan.
            sawScan = true
            scan: while true {
                guard try reader.fill() else { return defect(.truncated) }
                let window = reader.window
                let base = window.baseAddress!
                guard let found = memchr(base, 0xFF, window.count) else {
                    output.append(base, count: window.count)
                    reader.advance(by: window.count)
                    continue
                }
                let through = base.distance(to: UnsafeRawPointer(found)) + 1
                output.append(base, count: through)
                reader.advance(by: through)
                var next: UInt8
                while true {
                    guard try reader.fill() else { return defect(.truncated) }
                    next = reader.peek(0)
                    output.append(byte: next)
                    reader.advance(by: 1)
                    if next != 0xFF { break }
                }
                switch next {
                case 0x00, 0xD0...0xD7:
                    continue scan
                case 0xD8:
                    // A new frame starts inside this one's data: this one was truncated.
                    try reader.seek(to: reader.offset - 2)
                    return defect(.truncated)
                default:
                    // EOI, or the next table/scan of a progressive JPEG.
                    pending = next
                    break scan
                }
            }
        }
    }

    /// Reads only as far as the first frame header (SOF) of the JPEG at the reader's position,
    /// for listing a folder without reading whole files. Returns nil if there is none.
    static func probeSize(reader: BufferedFileReader) throws(CaptureError) -> (width: Int, height: Int)? {
        guard try reader.ensure(2), reader.peek(0) == 0xFF, reader.peek(1) == 0xD8 else { return nil }
        reader.advance(by: 2)
        while true {
            guard try reader.ensure(4), reader.peek(0) == 0xFF else { return nil }
            let marker = reader.peek(1)
            if marker == 0xFF {
                reader.advance(by: 1)
                continue
            }
            if marker == 0xD9 || marker == 0xDA || marker == 0xD8 || marker == 0x00 { return nil }
            if marker == 0x01 || (0xD0...0xD7).contains(marker) {
                reader.advance(by: 2)
                continue
            }
            let length = Int(reader.peek(2)) << 8 | Int(reader.peek(3))
            guard length >= 2 else { return nil }
            if isStartOfFrame(marker) {
                guard try reader.ensure(9) else { return nil }
                return (Int(reader.peek(7)) << 8 | Int(reader.peek(8)), Int(reader.peek(5)) << 8 | Int(reader.peek(6)))
            }
            reader.advance(by: 2)
            guard try reader.skip(length) == length else { return nil }
        }
    }

    /// Copies a segment of `length` bytes (the two length bytes included).
    private func copy(_ length: Int, from reader: BufferedFileReader, to output: inout FrameOutput) throws(CaptureError) -> Bool {
        var remaining = length
        while remaining > 0 {
            guard try reader.fill() else { return false }
            let window = reader.window
            let chunk = min(remaining, window.count)
            output.append(window.baseAddress!, count: chunk)
            reader.advance(by: chunk)
            remaining -= chunk
        }
        return true
    }
}

/// SOF0...SOF15, except DHT (C4), JPG (C8) and DAC (CC) which share the range.
@inline(__always)
func isStartOfFrame(_ marker: UInt8) -> Bool {
    marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
}

/// The destination of one frame: copies while it fits, keeps counting after, so an oversized
/// frame can be measured and reported.
struct FrameOutput {
    let destination: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(destination: UnsafeMutableRawBufferPointer) {
        self.destination = destination
    }

    @inline(__always)
    mutating func append(_ source: UnsafeRawPointer, count byteCount: Int) {
        if count &+ byteCount <= destination.count, byteCount > 0 {
            (destination.baseAddress! + count).copyMemory(from: source, byteCount: byteCount)
        }
        count &+= byteCount
    }

    @inline(__always)
    mutating func append(byte: UInt8) {
        if count < destination.count { destination[count] = byte }
        count &+= 1
    }
}
