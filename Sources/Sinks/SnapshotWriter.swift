// SnapshotWriter: the latest redacted frame as a JPEG every N seconds of capture time, named
// by sequence number, written atomically and synced, keeping only the newest few so a camera
// left running for months cannot fill its disk with them.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Frames
public import Redaction

/// Writes a JPEG snapshot of the first frame and then of the first frame at or after each
/// interval of capture time, as `snapshot-SEQUENCE.jpg` (sequence zero-padded to 12 digits)
/// in `folder`, and deletes the oldest snapshots beyond `keep`.
///
/// Cadence: the next snapshot is due one interval after the previous one was due (so it does
/// not drift with the frame rate); after a gap longer than an interval it is due one interval
/// after the frame that ended the gap. A failed write still moves the due time on, so a full
/// disk costs one error per interval, not one per frame. A compressed frame the redactor dropped
/// whole is not a snapshot; the next frame is considered instead.
///
/// "Oldest" is by modification time, then name: at start the writer lists the snapshots already
/// in the folder (from an earlier run, whose sequence numbers may be higher), deletes leftover
/// temporary files, and prunes to `keep` at once.
public final class SnapshotWriter: RedactedSink {
    public let name = "snapshot"
    public let folder: String
    public let interval: Duration
    public let keep: Int
    public private(set) var statistics = SinkCounters()
    public private(set) var lastError: SinkError?
    public var counters: [String: UInt64] { statistics.dictionary }
    /// The path of the most recent snapshot written.
    public private(set) var lastPath: String?

    public static let filePrefix = "snapshot-"
    public static let fileExtension = ".jpg"

    private let encoder: StillEncoder
    /// Snapshot names in the folder, oldest first.
    private var kept: [String] = []
    private var nextDue: ContinuousClock.Instant?
    private var isClosed = false

    /// - Parameters:
    ///   - intervalSeconds: capture time between snapshots, more than 0.
    ///   - quality: JPEG quality, 1...100.
    ///   - keep: how many snapshots to keep, at least 1.
    /// - Throws: `SinkError` for a bad parameter or a folder that cannot be created or listed.
    public init(folder: String, intervalSeconds: Double, quality: Int = 85, keep: Int = 10) throws(SinkError) {
        guard intervalSeconds.isFinite, intervalSeconds > 0 else {
            throw SinkError(path: folder, reason: "the snapshot interval must be a positive number of seconds, got \(intervalSeconds)")
        }
        guard (1...100).contains(quality) else {
            throw SinkError(path: folder, reason: "JPEG quality must be 1...100, got \(quality)")
        }
        guard keep >= 1 else {
            throw SinkError(path: folder, reason: "snapshots to keep must be at least 1, got \(keep)")
        }
        try ensureFolder(folder)
        self.folder = folder
        self.interval = .nanoseconds(Int64((intervalSeconds * 1e9).rounded()))
        self.keep = keep
        encoder = StillEncoder(kind: .jpeg, quality: quality)

        var existing: [(time: Int64, name: String)] = []
        for entry in try folderEntries(folder) {
            if entry.hasPrefix("." + Self.filePrefix), entry.hasSuffix(Self.fileExtension + ".tmp") {
                _ = removeFile(joinPath(folder, entry))  // half-written by a run that crashed
            } else if Self.isSnapshotName(entry) {
                existing.append((modificationTime(joinPath(folder, entry)) ?? 0, entry))
            }
        }
        existing.sort { $0.time != $1.time ? $0.time < $1.time : $0.name < $1.name }
        kept = existing.map(\.name)
        // A folder left over-full (a smaller `keep` than last run) is brought down now, not at
        // the first snapshot. A file that cannot be deleted is an error counted here and tried
        // again at each snapshot, rather than a reason not to start.
        do {
            try prune()
        } catch {
            statistics.errors &+= 1
            lastError = error
        }
    }

    /// Whether `name` is a file this writer makes: `snapshot-` and digits and `.jpg`.
    public static func isSnapshotName(_ name: String) -> Bool {
        guard name.hasPrefix(filePrefix), name.hasSuffix(fileExtension) else { return false }
        let digits = name.dropFirst(filePrefix.count).dropLast(fileExtension.count)
        return !digits.isEmpty && digits.allSatisfy { $0 >= "0" && $0 <= "9" }
    }

    /// The file name of the snapshot of frame `sequence`.
    public static func fileName(sequence: UInt64) -> String {
        let number = String(sequence)
        return filePrefix + String(repeating: "0", count: max(0, 12 - number.count)) + number + fileExtension
    }

    /// Snapshots in the folder, oldest first, as the writer will prune them.
    public var snapshots: [String] { kept }

    public func write(_ frame: borrowing RedactedFrame) throws(SinkError) {
        guard !isClosed else {
            statistics.errors &+= 1
            let error = SinkError(path: folder, reason: "the snapshot writer is closed")
            lastError = error
            throw error
        }
        let now = frame.captureTime
        if let due = nextDue, now < due {
            // A capture clock that jumps back (a new source) more than an interval restarts the
            // cadence instead of waiting for the old due time.
            guard due - now > interval else {
                statistics.framesNotDue &+= 1
                return
            }
        }
        do throws(SinkError) {
            let name = Self.fileName(sequence: frame.sequence)
            let path = joinPath(folder, name)
            let encoded: UnsafeRawBufferPointer?
            do {
                encoded = try encoder.encode(frame, path: path)
            } catch {
                advance(from: now)
                throw error
            }
            guard let bytes = encoded else {
                statistics.droppedFrames &+= 1
                return
            }
            advance(from: now)
            try writeFileAtomically(bytes, to: path, sync: true)
            lastPath = path
            kept.removeAll { $0 == name }
            kept.append(name)
            statistics.framesWritten &+= 1
            statistics.bytesWritten &+= UInt64(bytes.count)
            statistics.bufferAllocations = encoder.allocations
            try prune()
        } catch {
            statistics.errors &+= 1
            lastError = error
            throw error
        }
    }

    private func advance(from now: ContinuousClock.Instant) {
        guard let due = nextDue, now >= due, now - due < interval else {
            nextDue = now + interval
            return
        }
        nextDue = due + interval
    }

    /// Deletes the oldest snapshots beyond `keep`. One that cannot be deleted stays listed (and
    /// is tried again next time) and the error is thrown after the rest are done.
    private func prune() throws(SinkError) {
        var failure: SinkError?
        var index = 0
        while kept.count - index > keep {
            let path = joinPath(folder, kept[index])
            if let code = removeFile(path), code != ENOENT {
                failure = failure ?? .system("unlink", path: path, errno: code, note: "an old snapshot could not be deleted")
                index += 1
                continue
            }
            kept.remove(at: index)
            statistics.filesDeleted &+= 1
        }
        if let failure { throw failure }
    }

    /// Nothing stays open between snapshots; later writes fail.
    public func close() throws(SinkError) { isClosed = true }
}
