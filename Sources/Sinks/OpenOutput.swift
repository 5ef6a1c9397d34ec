// openOutput: the one factory that turns an output path (as `obscura redact IN OUT` takes it)
// into a sink, choosing the kind by what the path is: a folder, or the file's extension.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The kinds of output a path can name.
public enum OutputKind: Sendable, Equatable {
    /// `.mjpeg` or `.mjpg`: concatenated JPEGs and `PATH.index` (`MJPEGStreamWriter`).
    case mjpegStream
    /// `.y4m`: YUV4MPEG2 (`Y4MWriter`).
    case y4m
    /// `.jpg`, `.jpeg`, `.pgm` or `.ppm`: one still, replaced by each frame (`ImageWriter`).
    case still(StillImageKind)
    /// An existing folder, or a path ending in `/`: one still per frame (`ImageFolderWriter`).
    case imageFolder

    /// Decides by what `path` is: an existing folder or a trailing `/`, then the extension.
    /// - Throws: `SinkError` naming the extensions understood.
    public static func detect(path: String) throws(SinkError) -> OutputKind {
        var info = stat()
        if path.hasSuffix("/") || (stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR) {
            return .imageFolder
        }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            let suffix = name[name.index(after: dot)...].lowercased()
            switch suffix {
            case "mjpeg", "mjpg": return .mjpegStream
            case "y4m": return .y4m
            default:
                if let kind = StillImageKind(extension: suffix) { return .still(kind) }
            }
        }
        throw SinkError(path: path, reason: "cannot tell what to write from the name: use .mjpeg or .mjpg (a stream of "
            + "JPEGs with an index), .y4m (uncompressed), .jpg, .pgm or .ppm (one still), or a folder (one still per frame)")
    }
}

/// Opens the sink an output path names (see `OutputKind.detect`).
///
/// - Parameters:
///   - fps: the frame rate a Y4M header carries (the source's rate).
///   - quality: JPEG quality for raw frames, 1...100.
///   - folderExtension: the stills' format in a folder: `jpg`, `pgm` or `ppm`.
///   - naming: how stills in a folder are named (keep the input's names with `.names` or
///     `.custom`).
public func openOutput(path: String, fps: Double, quality: Int = 85, folderExtension: String = "jpg",
                       naming: ImageFileNaming = .numbered()) throws(SinkError) -> any RedactedSink {
    switch try OutputKind.detect(path: path) {
    case .mjpegStream:
        return try MJPEGStreamWriter(path: path, quality: quality)
    case .y4m:
        return try Y4MWriter(path: path, fps: fps)
    case .still:
        return try ImageWriter(path: path, quality: quality)
    case .imageFolder:
        let folder = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        return try ImageFolderWriter(folder: folder, extension: folderExtension, naming: naming, quality: quality)
    }
}
