// What every file sink shares: the one place system calls are made (open, write(2) with EINTR
// retried, ftruncate, rename, unlink, readdir), errors carrying the path and errno text, an
// append-only output file that cuts a failed record back off, atomic whole-file writes, and a
// scratch buffer that is allocated once and grows only when a larger frame arrives.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Permissions of every file a sink creates: owner read/write, group read. Redacted, but still
/// footage of a place, so never world-readable.
let sinkFileMode: mode_t = 0o640
/// Permissions of a folder a sink creates.
let sinkFolderMode: mode_t = 0o750

extension SinkError {
    /// A failed system call: "`call` failed: No space left on device (errno 28)".
    static func system(_ call: String, path: String, errno code: Int32, note: String = "") -> SinkError {
        SinkError(path: path, reason: "\(call) failed: \(errnoText(code)) (errno \(code))" + (note.isEmpty ? "" : "; " + note),
                  errno: code)
    }
}

func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text)
}

// MARK: - System calls

/// Opens `path` for writing, creating it with `sinkFileMode` (less the umask), and taking any
/// permission beyond that mode away from an existing regular file.
func openForWriting(_ path: String, truncate: Bool, exclusive: Bool = false) throws(SinkError) -> Int32 {
    var flags = O_WRONLY | O_CREAT | O_CLOEXEC
    if truncate { flags |= O_TRUNC }
    if exclusive { flags |= O_EXCL | O_NOFOLLOW }
    var descriptor: Int32
    repeat {
        descriptor = open(path, flags, sinkFileMode)
    } while descriptor < 0 && errno == EINTR
    guard descriptor >= 0 else { throw .system("open", path: path, errno: errno) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { return descriptor }
    let kind = info.st_mode & S_IFMT
    // Only regular files: a sink pointed at a device (a pipe, /dev/null) must not chmod it.
    // Only ever removes bits (an old world-readable file loses them), so a stricter umask
    // (0600) is kept.
    let current = info.st_mode & 0o7777
    if kind == S_IFREG, current & ~sinkFileMode != 0 {
        _ = fchmod(descriptor, current & sinkFileMode)
    }
    // A pipe (`mkfifo`, feeding ffmpeg) whose reader goes away would raise SIGPIPE on the next
    // write and kill the firmware; ignored, the write fails with EPIPE, which is reported like
    // any other write error. Linux has no per-descriptor way to do this for write(2), so it is
    // process-wide, and only when a sink actually writes to a pipe or socket.
    if kind == S_IFIFO || kind == S_IFSOCK {
        _ = signal(SIGPIPE, SIG_IGN)
    }
    return descriptor
}

/// Writes all of `bytes` with write(2), retrying EINTR and short writes.
/// - Returns: `nil` on success, else the errno and how many bytes did get written.
/// `call` is write(2) unless a test scripts failures.
func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer,
              using call: (Int32, UnsafeRawPointer, Int) -> Int = systemWrite) -> (errno: Int32, written: Int)? {
    guard let base = bytes.baseAddress else { return nil }
    var done = 0
    while done < bytes.count {
        let result = call(descriptor, base + done, bytes.count - done)
        if result < 0 {
            let code = errno
            if code == EINTR { continue }
            return (code, done)
        }
        // write(2) returning 0 for a non-empty buffer: treat as "no space" rather than spin.
        if result == 0 { return (ENOSPC, done) }
        done += result
    }
    return nil
}

func systemWrite(_ descriptor: Int32, _ base: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, base, count)
}

func closeDescriptor(_ descriptor: Int32) -> Int32? {
    // Linux closes the descriptor even when close(2) reports EINTR, so never retry.
    close(descriptor) == 0 ? nil : errno
}

func syncDescriptor(_ descriptor: Int32) -> Int32? {
    if fsync(descriptor) == 0 { return nil }
    let code = errno
    // Devices and pipes cannot be synced; that is not a failure of the data.
    return code == EINVAL || code == EROFS ? nil : code
}

func renameFile(_ from: String, _ to: String) -> Int32? { rename(from, to) == 0 ? nil : errno }
func removeFile(_ path: String) -> Int32? { unlink(path) == 0 ? nil : errno }

/// Whether `path` is an existing folder; creates it (one level, `sinkFolderMode`) when missing.
func ensureFolder(_ path: String) throws(SinkError) {
    var info = stat()
    if stat(path, &info) == 0 {
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw SinkError(path: path, reason: "exists and is not a folder")
        }
        return
    }
    let code = errno
    guard code == ENOENT else { throw .system("stat", path: path, errno: code) }
    guard mkdir(path, sinkFolderMode) == 0 || errno == EEXIST else {
        throw .system("mkdir", path: path, errno: errno, note: "create its parent folder first")
    }
}

/// Names in a folder (without "." and ".."), for pruning and clean-up.
func folderEntries(_ path: String) throws(SinkError) -> [String] {
    guard let directory = opendir(path) else { throw .system("opendir", path: path, errno: errno) }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
            pointer.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                String(cString: $0)
            }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// Modification time of a file in nanoseconds since the epoch, or `nil` when it cannot be read.
func modificationTime(_ path: String) -> Int64? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    #if canImport(Darwin)
    return Int64(info.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(info.st_mtimespec.tv_nsec)
    #else
    return Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    #endif
}

/// Joins a folder and a file name.
func joinPath(_ folder: String, _ name: String) -> String {
    folder.hasSuffix("/") ? folder + name : folder + "/" + name
}

// MARK: - Append-only output

/// A file written front to back in whole records (one JPEG, one Y4M frame, one index line).
///
/// A record either lands whole or not at all: when write(2) fails part-way (ENOSPC, EIO), the
/// bytes of the failed record that did reach the file are cut off again with ftruncate, so the
/// file still ends on a record boundary and stays readable. If even that fails (the message says
/// so), readers of the stream meet one truncated record at the end: an MJPEG reader skips it as
/// a JPEG cut short, and the index never lists it.
final class AppendOnlyFile {
    let path: String
    /// Bytes of whole records in the file: where the next record starts.
    private(set) var length: Int64 = 0
    private var descriptor: Int32
    /// The write(2) call; tests replace it to script short writes and errors that a real disk
    /// gives only when full.
    var writeCall: (Int32, UnsafeRawPointer, Int) -> Int = systemWrite

    init(path: String) throws(SinkError) {
        self.path = path
        descriptor = try openForWriting(path, truncate: true)
    }

    deinit {
        if descriptor >= 0 { _ = closeDescriptor(descriptor) }
    }

    var isOpen: Bool { descriptor >= 0 }

    /// Appends one record, whole or not at all.
    func append(_ bytes: UnsafeRawBufferPointer) throws(SinkError) {
        guard descriptor >= 0 else { throw SinkError(path: path, reason: "the file is closed") }
        guard let failure = writeAll(descriptor, bytes, using: writeCall) else {
            length += Int64(bytes.count)
            return
        }
        throw .system("write", path: path, errno: failure.errno, note: cutBack(written: failure.written))
    }

    /// Removes the last `count` bytes of whole records (a record whose partner record could not
    /// be written, such as a JPEG whose index line failed).
    func removeLast(_ count: Int) -> String {
        length -= Int64(count)
        return cutBack(written: count)
    }

    /// Takes the file back to `length` after `written` bytes of a failed record reached it.
    private func cutBack(written: Int) -> String {
        guard written > 0 else { return "nothing of the record was written" }
        let truncated = ftruncate(descriptor, off_t(length)) == 0
        let code = errno
        _ = lseek(descriptor, off_t(length), SEEK_SET)
        if truncated { return "the partial record (\(written) bytes) was cut off; the file ends on a whole record" }
        return "the partial record (\(written) bytes) could not be cut off (ftruncate: \(errnoText(code))); "
            + "readers will skip it as truncated"
    }

    /// Flushes to the disk and closes. Later appends fail.
    func close(sync: Bool) throws(SinkError) {
        guard descriptor >= 0 else { return }
        let syncError = sync ? syncDescriptor(descriptor) : nil
        let closeError = closeDescriptor(descriptor)
        descriptor = -1
        if let syncError { throw .system("fsync", path: path, errno: syncError) }
        if let closeError { throw .system("close", path: path, errno: closeError) }
    }
}

// MARK: - Atomic whole files

/// Writes `bytes` to `path` so that `path` is either the old file or the whole new one, never a
/// partial file: the bytes go to a hidden temporary file in the same folder (`.NAME.tmp`),
/// optionally synced, which is then renamed over `path`. On failure the temporary file is removed.
func writeFileAtomically(_ bytes: UnsafeRawBufferPointer, to path: String, sync: Bool) throws(SinkError) {
    let slash = path.lastIndex(of: "/")
    let folder = slash.map { String(path[...$0]) } ?? ""
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    let temporary = folder + "." + name + ".tmp"
    _ = removeFile(temporary)  // a leftover from a crash
    let descriptor = try openForWriting(temporary, truncate: true, exclusive: true)
    if let failure = writeAll(descriptor, bytes) {
        _ = closeDescriptor(descriptor)
        _ = removeFile(temporary)
        throw .system("write", path: temporary, errno: failure.errno, note: "\(path) was left as it was")
    }
    let syncError = sync ? syncDescriptor(descriptor) : nil
    let closeError = closeDescriptor(descriptor)
    if let code = syncError ?? closeError {
        _ = removeFile(temporary)
        throw .system(syncError != nil ? "fsync" : "close", path: temporary, errno: code, note: "\(path) was left as it was")
    }
    if let code = renameFile(temporary, path) {
        _ = removeFile(temporary)
        throw .system("rename", path: path, errno: code)
    }
}

// MARK: - Scratch memory

/// Raw memory owned by a sink: allocated when the first frame shows how much is needed, and
/// again only if a larger frame arrives, so steady state allocates nothing.
final class ScratchBuffer {
    private(set) var bytes = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    /// Times the memory was (re)allocated, for the counters.
    private(set) var allocations: UInt64 = 0

    deinit { bytes.deallocate() }

    /// Memory for at least `count` bytes (the old contents are not kept).
    func reserve(_ count: Int) -> UnsafeMutableRawBufferPointer {
        if bytes.count < count {
            bytes.deallocate()
            bytes = .allocate(byteCount: count, alignment: 64)
            allocations &+= 1
        }
        return bytes
    }
}

// MARK: - Text without allocation

/// Appends ASCII text and decimal numbers to a fixed buffer (index lines and headers, written
/// per frame, so no String is built).
struct ASCIIWriter {
    let buffer: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    var written: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[0..<count]) }

    mutating func byte(_ value: UInt8) {
        guard count < buffer.count else { return }
        buffer[count] = value
        count += 1
    }

    mutating func text(_ value: StaticString) {
        value.withUTF8Buffer { for byte in $0 { self.byte(byte) } }
    }

    mutating func number(_ value: Int64, minimumDigits: Int = 1) {
        if value < 0 { byte(UInt8(ascii: "-")) }
        number(value.magnitude, minimumDigits: minimumDigits)
    }

    mutating func number(_ value: UInt64, minimumDigits: Int = 1) {
        var remaining = value
        // Count digits first, then write from the most significant, so no temporary is needed.
        var length = 1
        var probe = value
        while probe >= 10 {
            probe /= 10
            length += 1
        }
        let total = max(length, minimumDigits)
        guard count + total <= buffer.count else { return }
        var position = count + total - 1
        for _ in 0..<total {
            buffer[position] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: remaining % 10)
            remaining /= 10
            position -= 1
        }
        count += total
    }
}
