// openCamera: the one factory that turns a CameraSpec into an open FrameSource, choosing the
// file camera's kind by extension or content. The V4L2 case is marked for the V4L2 camera.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Frames

/// The kinds of file-backed camera.
public enum FileCameraKind: String, Sendable, Equatable {
    /// Concatenated JPEGs.
    case mjpeg
    /// YUV4MPEG2.
    case y4m
    /// A folder of still images, or a single PGM or PPM still.
    case imageFolder

    /// Decides by what `path` is: a folder, then the extension (.mjpeg, .mjpg, .jpg, .jpeg,
    /// .y4m), then the first bytes (`YUV4MPEG2 ` or a JPEG SOI).
    public static func detect(path: String) throws(CaptureError) -> FileCameraKind {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .notFound(path: path) }
            throw .system(call: "stat", path: path, errno: code)
        }
        if info.st_mode & S_IFMT == S_IFDIR { return .imageFolder }
        if let dot = path.lastIndex(of: "."), !path[dot...].contains("/") {
            switch path[path.index(after: dot)...].lowercased() {
            case "mjpeg", "mjpg", "jpg", "jpeg": return .mjpeg
            case "y4m": return .y4m
            case "pgm", "ppm": return .imageFolder  // one still, played by the folder camera
            default: break
            }
        }
        let reader = try BufferedFileReader(path: path, windowCapacity: 64)
        _ = try reader.ensure(10)
        let start = reader.window
        if start.count >= 10, start.prefix(10).elementsEqual("YUV4MPEG2 ".utf8) { return .y4m }
        if start.count >= 2, start[0] == 0xFF, start[1] == 0xD8 { return .mjpeg }
        throw .unsupported(path: path, reason: "cannot tell what kind of file this is; a file camera plays .mjpeg/.mjpg "
            + "(concatenated JPEGs), .y4m (YUV4MPEG2) or a folder of .jpg/.pgm/.ppm images")
    }
}

/// Opens the camera a spec names.
///
/// - Parameters:
///   - pacing: how to pace frames; a `pacing=` option in the spec wins over it.
///   - poolSize: frame buffers the source allocates now and reuses for ever.
public func openCamera(spec: CameraSpec, pacing: Pacing = .nominal, poolSize: Int = 4,
                       controls: [V4L2ControlSetting] = []) throws(CaptureError) -> any FrameSource {
    if !controls.isEmpty {
        guard case .v4l2 = spec else {
            throw .invalidSpec(spec: spec.description,
                               reason: "camera controls (\(controls.map(\.name).joined(separator: ", "))) apply only to V4L2 devices")
        }
    }
    guard poolSize > 0 else {
        throw .invalidSpec(spec: spec.description, reason: "a camera needs at least one frame buffer (pool size \(poolSize))")
    }
    switch spec {
    case let .pattern(options):
        return try PatternSource(width: options.width, height: options.height, fps: options.fps, format: options.format,
                                 pacing: options.pacing ?? pacing, frameLimit: options.frameLimit,
                                 poolSize: poolSize, name: spec.description)
    case let .file(path, options):
        let kind = try FileCameraKind.detect(path: path)
        if options.images != nil && kind != .imageFolder {
            throw .invalidSpec(spec: spec.description, reason: "images= only applies to a folder, and \(path) is a file")
        }
        let pacing = options.pacing ?? pacing
        switch kind {
        case .mjpeg:
            return try MJPEGFileSource(path: path, fps: options.fps ?? CameraSpec.defaultFileFPS, loop: options.loop,
                                       pacing: pacing, poolSize: poolSize, name: spec.description)
        case .y4m:
            return try Y4MFileSource(path: path, fps: options.fps, loop: options.loop, pacing: pacing,
                                     poolSize: poolSize, name: spec.description)
        case .imageFolder:
            return try ImageFolderSource(path: path, images: options.images, fps: options.fps ?? CameraSpec.defaultFileFPS,
                                         loop: options.loop, pacing: pacing, poolSize: poolSize, name: spec.description)
        }
    case let .v4l2(path, options):
        // ┌─ V4L2 HOOK ────────────────────────────────────────────────────────────────────────┐
        // │ The one place a V4L2 device is opened; the camera lives in Sources/Capture/V4L2/.   │
        // │ The device paces itself, so `pacing` does not apply.                               │
        // └─────────────────────────────────────────────────────────────────────────────────────┘
        return try V4L2Camera(path: path, options: V4L2Options(spec: options, poolSize: poolSize, controls: controls))
    }
}

/// Parses `text` as a `CameraSpec` and opens it.
public func openCamera(spec text: String, pacing: Pacing = .nominal, poolSize: Int = 4) throws(CaptureError) -> any FrameSource {
    try openCamera(spec: CameraSpec(parsing: text), pacing: pacing, poolSize: poolSize)
}
