// Buffered sequential reads over one file descriptor, with a fixed window allocated once, so the
// file sources can walk a 100 MB stream without loading it and without allocating per frame.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file front to back through a fixed window. Large reads into a caller's buffer go
/// straight to `read(2)` once the window is drained, so pixel data is copied once.
///
/// Every call that touches the file throws `CaptureError.system` naming the call and the path;
/// running out of file is not an error but a short count or `false`.
final class BufferedFileReader {
    private(set) var path: String
    private var descriptor: Int32 = -1
    private let storage: UnsafeMutableRawPointer
    let windowCapacity: Int
    /// Next unread byte in `storage`.
    private var position = 0
    /// Bytes of `storage` holding file data.
    private var limit = 0
    /// File offset of `storage[0]`.
    private var storageOffset = 0

    /// Opens `path` for reading. A missing file is `.notFound`.
    init(path: String, windowCapacity: Int = 256 * 1024) throws(CaptureError) {
        self.path = path
        self.windowCapacity = windowCapacity
        storage = UnsafeMutableRawPointer.allocate(byteCount: windowCapacity, alignment: 64)
        // Every stored property is set by now, so a throw here still runs deinit, which frees
        // the window: freeing it here too would be a double free.
        try open(path: path)
    }

    deinit {
        if descriptor >= 0 { _ = close(descriptor) }
        storage.deallocate()
    }

    /// Switches to another file, keeping the window memory (the folder camera reads one file per
    /// frame). `cPath`, when given, is `path` as a NUL-terminated C string made in advance:
    /// converting a String for `open(2)` allocates, and the folder camera opens a file a frame.
    func open(path: String, cPath: ContiguousArray<CChar>? = nil) throws(CaptureError) {
        if descriptor >= 0 {
            _ = close(descriptor)
            descriptor = -1
        }
        self.path = path
        position = 0
        limit = 0
        storageOffset = 0
        let converted = cPath ?? path.utf8CString
        var result: Int32
        repeat {
            result = converted.withUnsafeBufferPointer { systemOpen($0.baseAddress!) }
        } while result < 0 && errno == EINTR
        guard result >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .notFound(path: path) }
            throw .system(call: "open", path: path, errno: code)
        }
        descriptor = result
    }

    /// File offset of the next byte a read returns.
    var offset: Int { storageOffset + position }

    /// Size of the file now.
    func fileSize() throws(CaptureError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .system(call: "fstat", path: path, errno: errno) }
        return Int(info.st_size)
    }

    /// The unread bytes in the window (possibly empty).
    var window: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage + position, count: limit - position)
    }

    /// Consumes `count` bytes of the window.
    func advance(by count: Int) {
        precondition(count >= 0 && count <= limit - position, "advance past the window")
        position &+= count
    }

    /// Makes sure at least one unread byte is in the window; false at the end of the file.
    @inline(__always)
    func fill() throws(CaptureError) -> Bool {
        if position < limit { return true }
        return try ensure(1)
    }

    /// Makes sure at least `count` (at most the window capacity) unread bytes are in the window,
    /// moving the unread tail to the front if needed. False if the file ends first; the bytes
    /// that do exist stay in the window.
    func ensure(_ count: Int) throws(CaptureError) -> Bool {
        precondition(count <= windowCapacity, "ensure larger than the window")
        if limit - position >= count { return true }
        let remaining = limit - position
        if position > 0 {
            if remaining > 0 { memmove(storage, storage + position, remaining) }
            storageOffset &+= position
            position = 0
            limit = remaining
        }
        while limit < count {
            let got = try readSome(into: storage + limit, count: windowCapacity - limit)
            if got == 0 { return false }
            limit &+= got
        }
        return true
    }

    /// The byte at `index` past the read position; call `ensure(index + 1)` first.
    @inline(__always)
    func peek(_ index: Int = 0) -> UInt8 {
        storage.load(fromByteOffset: position &+ index, as: UInt8.self)
    }

    /// Reads up to `count` bytes into `destination`; fewer only at the end of the file.
    func read(into destination: UnsafeMutableRawPointer, count: Int) throws(CaptureError) -> Int {
        var done = 0
        let buffered = min(count, limit - position)
        if buffered > 0 {
            destination.copyMemory(from: storage + position, byteCount: buffered)
            position &+= buffered
            done = buffered
        }
        while done < count {
            let wanted = count - done
            if wanted >= windowCapacity / 2 {
                // Big reads (a Y4M plane) bypass the window: one copy, kernel to frame buffer.
                let got = try readSome(into: destination + done, count: wanted)
                if got == 0 { break }
                storageOffset &+= limit + got
                position = 0
                limit = 0
                // storageOffset now addresses the byte after the direct read, with an empty window.
                done &+= got
            } else {
                guard try fill() else { break }
                let chunk = min(wanted, limit - position)
                (destination + done).copyMemory(from: storage + position, byteCount: chunk)
                position &+= chunk
                done &+= chunk
            }
        }
        return done
    }

    /// Skips up to `count` bytes; returns how many were skipped (fewer only at the end).
    func skip(_ count: Int) throws(CaptureError) -> Int {
        var done = 0
        while done < count {
            guard try fill() else { break }
            let chunk = min(count - done, limit - position)
            position &+= chunk
            done &+= chunk
        }
        return done
    }

    /// Moves the read position to `target` (a file offset), keeping the window when the target
    /// is inside it.
    func seek(to target: Int) throws(CaptureError) {
        if target >= storageOffset && target <= storageOffset + limit {
            position = target - storageOffset
            return
        }
        guard lseek(descriptor, off_t(target), SEEK_SET) >= 0 else {
            throw .system(call: "lseek", path: path, errno: errno)
        }
        storageOffset = target
        position = 0
        limit = 0
    }

    /// One `read(2)`, retrying EINTR.
    private func readSome(into destination: UnsafeMutableRawPointer, count: Int) throws(CaptureError) -> Int {
        while true {
            let got = systemRead(descriptor, destination, count)
            if got >= 0 { return got }
            if errno == EINTR { continue }
            throw .system(call: "read", path: path, errno: errno)
        }
    }
}

// The C calls under names that do not collide with the reader's own methods.
private func systemOpen(_ path: UnsafePointer<CChar>) -> Int32 { open(path, O_RDONLY | O_CLOEXEC) }
private func systemRead(_ descriptor: Int32, _ destination: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, destination, count)
}
