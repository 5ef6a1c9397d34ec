// The camera spec: one string that names any source (a file, a folder of images, the built-in
// pattern, a V4L2 device), parsed into a value with errors that say what is wrong and how to fix
// it, and the examples the `obscura cameras` command prints.

public import Frames

/// Which camera to open, as written on the command line or in the config.
///
/// Forms:
/// - `file:PATH[?fps=N&loop=true|false&pacing=nominal|free&images=jpeg|pgm|ppm]`: a file-backed
///   camera. The kind is chosen when it is opened: a folder is a folder of images, `.mjpeg`,
///   `.mjpg`, `.jpg` and `.jpeg` are concatenated JPEGs, `.y4m` is YUV4MPEG2, and any other
///   file is recognised by its first bytes.
/// - `pattern:WIDTHxHEIGHT@FPS[?format=i420|gray8|yuyv|nv12&pacing=nominal|free&frames=N]`: the
///   built-in moving test pattern.
/// - `/dev/videoN` or `v4l2:/dev/videoN[?width=W&height=H&fps=N&format=F]`: a V4L2 device.
public enum CameraSpec: Sendable, Equatable, CustomStringConvertible {
    case file(path: String, options: FileOptions)
    case pattern(PatternOptions)
    case v4l2(path: String, options: V4L2Options)

    /// Frames per second of a file camera whose format carries no rate (MJPEG streams and image
    /// folders) and whose spec gives none: vtest.avi's own rate, and a typical rate for a small
    /// edge camera. Y4M files carry their rate in the `F` tag.
    public static let defaultFileFPS: Double = 10

    /// Options of a file-backed camera.
    public struct FileOptions: Sendable, Equatable {
        /// Overrides the file's own rate (Y4M) or `CameraSpec.defaultFileFPS`.
        public var fps: Double?
        /// Rewind at the end instead of ending. Off by default, so a file plays once and a run
        /// over it ends by itself; a camera that should run for ever says `loop=true`.
        public var loop: Bool
        /// Overrides the pacing `openCamera` was given.
        public var pacing: Pacing?
        /// For a folder holding more than one kind of image: which kind to play.
        public var images: ImageKind?

        public init(fps: Double? = nil, loop: Bool = false, pacing: Pacing? = nil, images: ImageKind? = nil) {
            self.fps = fps
            self.loop = loop
            self.pacing = pacing
            self.images = images
        }
    }

    /// Options of the built-in pattern.
    public struct PatternOptions: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var fps: Double
        public var format: PixelFormat
        public var pacing: Pacing?
        /// Ends after this many frames; `nil` runs for ever.
        public var frameLimit: UInt64?

        public init(width: Int, height: Int, fps: Double, format: PixelFormat = .i420,
                    pacing: Pacing? = nil, frameLimit: UInt64? = nil) {
            self.width = width
            self.height = height
            self.fps = fps
            self.format = format
            self.pacing = pacing
            self.frameLimit = frameLimit
        }
    }

    /// What a V4L2 spec asked for. The V4L2 camera (Sources/Capture/V4L2/) decides what the
    /// device can actually do; fields left `nil` mean "whatever the device prefers".
    public struct V4L2Options: Sendable, Equatable {
        public var width: Int?
        public var height: Int?
        public var fps: Double?
        public var format: PixelFormat?

        public init(width: Int? = nil, height: Int? = nil, fps: Double? = nil, format: PixelFormat? = nil) {
            self.width = width
            self.height = height
            self.fps = fps
            self.format = format
        }
    }

    /// The kinds of still image a folder camera plays.
    public enum ImageKind: String, Sendable, Equatable, CaseIterable {
        /// `.jpg` / `.jpeg`, delivered as `.mjpeg` payload frames.
        case jpeg
        /// PGM P5, 8-bit, delivered as GRAY8.
        case pgm
        /// PPM P6, 8-bit, converted to I420.
        case ppm
    }

    // MARK: Parsing

    /// Parses a spec. The error names the spec, the part that is wrong and what was expected.
    public init(parsing text: String) throws(CaptureError) {
        func fail(_ reason: String) -> CaptureError { .invalidSpec(spec: text, reason: reason) }
        let trimmed = text.withoutSurroundingBlanks()
        guard !trimmed.isEmpty else { throw fail("empty; " + CameraSpec.formsHint) }

        if trimmed.hasPrefix("/dev/") {
            self = try CameraSpec.parseV4L2(trimmed, whole: text)
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else {
            throw fail("no scheme; " + CameraSpec.formsHint)
        }
        let scheme = trimmed[..<colon].lowercased()
        let rest = String(trimmed[trimmed.index(after: colon)...])
        switch scheme {
        case "file":
            self = try CameraSpec.parseFile(rest, whole: text)
        case "pattern":
            self = try CameraSpec.parsePattern(rest, whole: text)
        case "v4l2":
            self = try CameraSpec.parseV4L2(rest, whole: text)
        default:
            throw fail("unknown scheme '\(scheme)'; " + CameraSpec.formsHint)
        }
    }

    static let formsHint = "expected file:PATH, pattern:WIDTHxHEIGHT@FPS, /dev/videoN or v4l2:/dev/videoN"

    private static func parseFile(_ rest: String, whole: String) throws(CaptureError) -> CameraSpec {
        let (path, query) = try splitQuery(rest, whole: whole)
        guard !path.isEmpty else { throw .invalidSpec(spec: whole, reason: "file: needs a path, as in file:clip.mjpeg") }
        var options = FileOptions()
        for (key, value) in query {
            switch key {
            case "fps": options.fps = try parseFPS(value, key: key, whole: whole)
            case "loop": options.loop = try parseBool(value, key: key, whole: whole)
            case "pacing": options.pacing = try parsePacing(value, whole: whole)
            case "images":
                guard let kind = ImageKind(rawValue: value.lowercased()) else {
                    throw .invalidSpec(spec: whole, reason: "images=\(value): expected jpeg, pgm or ppm")
                }
                options.images = kind
            default:
                throw unknownKey(key, allowed: "fps, loop, pacing, images", whole: whole)
            }
        }
        return .file(path: path, options: options)
    }

    private static func parsePattern(_ rest: String, whole: String) throws(CaptureError) -> CameraSpec {
        let (body, query) = try splitQuery(rest, whole: whole)
        guard let at = body.firstIndex(of: "@") else {
            throw .invalidSpec(spec: whole, reason: "pattern needs a size and a rate, as in pattern:640x480@30")
        }
        let (width, height) = try parseSize(String(body[..<at]), whole: whole)
        let fps = try parseFPS(String(body[body.index(after: at)...]), key: "rate after '@'", whole: whole)
        var options = PatternOptions(width: width, height: height, fps: fps)
        for (key, value) in query {
            switch key {
            case "format":
                let allowed: [PixelFormat] = [.i420, .gray8, .yuyv, .nv12, .i422]
                guard let format = allowed.first(where: { $0.rawValue.lowercased() == value.lowercased() }) else {
                    throw .invalidSpec(spec: whole, reason: "format=\(value): expected i420, gray8, yuyv, nv12 or i422")
                }
                options.format = format
            case "pacing": options.pacing = try parsePacing(value, whole: whole)
            case "frames":
                guard let count = UInt64(value), count > 0 else {
                    throw .invalidSpec(spec: whole, reason: "frames=\(value): expected a whole number above 0")
                }
                options.frameLimit = count
            default:
                throw unknownKey(key, allowed: "format, pacing, frames", whole: whole)
            }
        }
        return .pattern(options)
    }

    private static func parseV4L2(_ rest: String, whole: String) throws(CaptureError) -> CameraSpec {
        let (path, query) = try splitQuery(rest, whole: whole)
        guard path.hasPrefix("/dev/"), path.count > 5 else {
            throw .invalidSpec(spec: whole, reason: "a V4L2 camera is a device path, as in /dev/video0")
        }
        var options = V4L2Options()
        for (key, value) in query {
            switch key {
            case "width": options.width = try parseDimension(value, name: "width=", whole: whole)
            case "height": options.height = try parseDimension(value, name: "height=", whole: whole)
            case "size":
                let size = try parseSize(value, whole: whole)
                options.width = size.width
                options.height = size.height
            case "fps": options.fps = try parseFPS(value, key: key, whole: whole)
            case "format":
                guard let format = PixelFormat.allCases.first(where: { $0.rawValue.lowercased() == value.lowercased() }) else {
                    throw .invalidSpec(spec: whole, reason: "format=\(value): expected one of "
                        + PixelFormat.allCases.map { $0.rawValue.lowercased() }.joined(separator: ", "))
                }
                options.format = format
            default:
                throw unknownKey(key, allowed: "width, height, size, fps, format", whole: whole)
            }
        }
        return .v4l2(path: path, options: options)
    }

    /// Splits `body?key=value&key=value`. Keys are case-insensitive; each may appear once.
    private static func splitQuery(_ text: String, whole: String) throws(CaptureError) -> (String, [(String, String)]) {
        guard let mark = text.firstIndex(of: "?") else { return (text, []) }
        let body = String(text[..<mark])
        var pairs: [(String, String)] = []
        for item in text[text.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: false) {
            guard let equals = item.firstIndex(of: "=") else {
                throw .invalidSpec(spec: whole, reason: "'\(item)' is not key=value")
            }
            let key = item[..<equals].lowercased()
            let value = String(item[item.index(after: equals)...])
            guard !key.isEmpty else { throw .invalidSpec(spec: whole, reason: "'\(item)' has no key") }
            guard !value.isEmpty else { throw .invalidSpec(spec: whole, reason: "\(key)= has no value") }
            guard !pairs.contains(where: { $0.0 == key }) else {
                throw .invalidSpec(spec: whole, reason: "\(key) is given twice")
            }
            pairs.append((key, value))
        }
        return (body, pairs)
    }

    private static func unknownKey(_ key: String, allowed: String, whole: String) -> CaptureError {
        .invalidSpec(spec: whole, reason: "unknown option '\(key)'; this kind of camera takes \(allowed)")
    }

    /// The largest width or height accepted: far above any camera, low enough that a typo
    /// cannot ask for gigabytes of pool.
    static let maximumDimension = 16_384
    static let maximumFPS: Double = 1_000

    static func parseSize(_ text: String, whole: String) throws(CaptureError) -> (width: Int, height: Int) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw .invalidSpec(spec: whole, reason: "size '\(text)': expected WIDTHxHEIGHT, as in 640x480")
        }
        let width = try parseDimension(String(parts[0]), name: "width in '\(text)'", whole: whole)
        let height = try parseDimension(String(parts[1]), name: "height in '\(text)'", whole: whole)
        return (width, height)
    }

    static func parseDimension(_ text: String, name: String, whole: String) throws(CaptureError) -> Int {
        guard let value = Int(text) else {
            throw .invalidSpec(spec: whole, reason: "\(name) '\(text)' is not a whole number")
        }
        guard value > 0, value <= maximumDimension else {
            throw .invalidSpec(spec: whole, reason: "\(name) \(value) is out of range 1...\(maximumDimension)")
        }
        return value
    }

    /// Accepts `30`, `29.97` or `30000/1001`.
    static func parseFPS(_ text: String, key: String, whole: String) throws(CaptureError) -> Double {
        let value: Double?
        if let slash = text.firstIndex(of: "/") {
            if let numerator = Double(text[..<slash]), let denominator = Double(text[text.index(after: slash)...]),
               denominator != 0 {
                value = numerator / denominator
            } else {
                value = nil
            }
        } else {
            value = Double(text)
        }
        guard let fps = value, fps.isFinite else {
            throw .invalidSpec(spec: whole, reason: "\(key) '\(text)' is not a number of frames per second")
        }
        guard fps > 0, fps <= maximumFPS else {
            throw .invalidSpec(spec: whole, reason: "\(key) \(text) is out of range (above 0, at most \(Int(maximumFPS)))")
        }
        return fps
    }

    private static func parseBool(_ text: String, key: String, whole: String) throws(CaptureError) -> Bool {
        switch text.lowercased() {
        case "true", "yes", "1", "on": return true
        case "false", "no", "0", "off": return false
        default: throw .invalidSpec(spec: whole, reason: "\(key)=\(text): expected true or false")
        }
    }

    private static func parsePacing(_ text: String, whole: String) throws(CaptureError) -> Pacing {
        switch text.lowercased() {
        case "nominal": return .nominal
        case "free", "freerunning", "free-running": return .freeRunning
        case "busy": return .nominalBusy
        default: throw .invalidSpec(spec: whole, reason: "pacing=\(text): expected nominal, busy or free")
        }
    }

    // MARK: Printing

    /// The spec in its canonical form; parsing it gives back the same value.
    public var description: String {
        switch self {
        case let .file(path, options):
            var query: [String] = []
            if let fps = options.fps { query.append("fps=\(fps.formatted(maxFractionDigits: 6))") }
            if options.loop { query.append("loop=true") }
            if let pacing = options.pacing { query.append("pacing=\(pacing.rawValue)") }
            if let images = options.images { query.append("images=\(images.rawValue)") }
            return "file:" + path + CameraSpec.joinQuery(query)
        case let .pattern(options):
            var query: [String] = []
            if options.format != .i420 { query.append("format=\(options.format.rawValue.lowercased())") }
            if let pacing = options.pacing { query.append("pacing=\(pacing.rawValue)") }
            if let limit = options.frameLimit { query.append("frames=\(limit)") }
            return "pattern:\(options.width)x\(options.height)@\(options.fps.formatted(maxFractionDigits: 6))"
                + CameraSpec.joinQuery(query)
        case let .v4l2(path, options):
            var query: [String] = []
            if let width = options.width { query.append("width=\(width)") }
            if let height = options.height { query.append("height=\(height)") }
            if let fps = options.fps { query.append("fps=\(fps.formatted(maxFractionDigits: 6))") }
            if let format = options.format { query.append("format=\(format.rawValue.lowercased())") }
            return query.isEmpty ? path : "v4l2:" + path + CameraSpec.joinQuery(query)
        }
    }

    private static func joinQuery(_ items: [String]) -> String {
        items.isEmpty ? "" : "?" + items.joined(separator: "&")
    }

    // MARK: Examples

    /// One line of `obscura cameras`: a spec and what it gives.
    public struct Example: Sendable, Equatable {
        public var spec: String
        public var summary: String
    }

    /// Virtual cameras to try, for `obscura cameras`. Paths are relative to the package root,
    /// where `tools/bootstrap` puts the sample footage. Every entry parses (a test checks).
    public static let examples: [Example] = [
        Example(spec: "pattern:640x480@30", summary: "built-in moving test pattern (colour bars, moving box, frame counter), I420"),
        Example(spec: "pattern:1280x720@60?format=nv12&pacing=free", summary: "test pattern in NV12 as fast as the pipeline takes it (benchmarks)"),
        Example(spec: "pattern:320x240@15?format=gray8&frames=150", summary: "grey test pattern that ends after 150 frames"),
        Example(spec: "file:Fixtures/vtest_640x480.mjpeg?fps=10&loop=true", summary: "concatenated JPEGs (MJPEG) at 10 fps, looping"),
        Example(spec: "file:Fixtures/vtest_1280x720.mjpeg?pacing=free", summary: "720p MJPEG as fast as possible, once through"),
        Example(spec: "file:Fixtures/vtest_640x480.y4m", summary: "YUV4MPEG2 4:2:0 at the file's own rate (F tag)"),
        Example(spec: "file:Fixtures/vtest_640x480_422.y4m?loop=true", summary: "YUV4MPEG2 4:2:2, looping"),
        Example(spec: "file:Fixtures/vtest_640x480_mono.y4m", summary: "YUV4MPEG2 mono, delivered as GRAY8"),
        Example(spec: "file:Fixtures/stills?images=jpeg&fps=1&loop=true", summary: "folder of JPEG stills, one a second, sorted by name"),
        Example(spec: "file:Fixtures/stills?images=ppm&fps=2", summary: "folder of PPM stills converted to I420"),
    ]

    /// The grammar, one form a line, for help text.
    public static let syntax: [String] = [
        "file:PATH[?fps=N&loop=true|false&pacing=nominal|free&images=jpeg|pgm|ppm]",
        "    PATH is a .mjpeg/.mjpg/.jpg stream of concatenated JPEGs, a .y4m file, or a folder of",
        "    .jpg/.pgm/.ppm images (played in name order); fps defaults to the Y4M F tag, else \(Int(defaultFileFPS))",
        "pattern:WIDTHxHEIGHT@FPS[?format=i420|gray8|yuyv|nv12|i422&pacing=nominal|free&frames=N]",
        "/dev/videoN or v4l2:/dev/videoN[?size=WxH&fps=N&format=mjpeg|yuyv|...]",
    ]
}

extension String {
    /// Without leading and trailing spaces, tabs and newlines (no Foundation in this module).
    fileprivate func withoutSurroundingBlanks() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
