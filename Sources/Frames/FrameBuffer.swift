// Fixed-size, aligned pixel memory and the pool that hands it out without per-frame allocation.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// One block of aligned memory owned by a `FramePool`. Allocated once at pool creation and
/// reused for the life of the pool.
public final class FrameBuffer: @unchecked Sendable {
    // @unchecked: the bytes are only touched by the holder of the Frame that owns this buffer;
    // ownership passes with the (noncopyable) Frame, so no two threads write it at once.
    public let capacity: Int
    public let baseAddress: UnsafeMutableRawPointer
    public let index: Int
    weak var pool: FramePool?

    init(capacity: Int, index: Int, alignment: Int = 64) {
        self.capacity = capacity
        self.index = index
        var pointer: UnsafeMutableRawPointer?
        let result = posix_memalign(&pointer, alignment, max(capacity, 1))
        precondition(result == 0 && pointer != nil, "out of memory allocating a \(capacity)-byte frame buffer")
        self.baseAddress = pointer!
    }

    deinit { free(baseAddress) }

    public var bytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: baseAddress, count: capacity)
    }
}

/// A fixed set of equally sized frame buffers, allocated up front.
///
/// `acquire` returns `nil` when every buffer is in use: the caller drops the frame and counts
/// it, rather than the pool growing. A `Frame` returns its buffer here when it is destroyed.
public final class FramePool: Sendable {
    public let bufferCapacity: Int
    public let count: Int
    private let buffers: [FrameBuffer]
    private let state: Mutex<State>

    struct State: ~Copyable {
        var free: [Int]
        var exhausted: Int = 0
        var acquired: Int = 0
    }

    /// Creates `count` buffers of `bufferCapacity` bytes each.
    public init(count: Int, bufferCapacity: Int) {
        precondition(count > 0, "a frame pool needs at least one buffer")
        self.count = count
        self.bufferCapacity = bufferCapacity
        let buffers = (0..<count).map { FrameBuffer(capacity: bufferCapacity, index: $0) }
        self.buffers = buffers
        var free: [Int] = []
        free.reserveCapacity(count)
        free.append(contentsOf: (0..<count).reversed())
        self.state = Mutex(State(free: free))
        for buffer in buffers { buffer.pool = self }
    }

    /// Convenience: a pool sized for frames of one layout.
    public convenience init(count: Int, layout: FrameLayout) {
        self.init(count: count, bufferCapacity: layout.byteCount)
    }

    /// Takes a free buffer, or returns `nil` (and counts it) when all are in use.
    public func acquireBuffer() -> FrameBuffer? {
        let index: Int? = state.withLock { state in
            if let index = state.free.popLast() {
                state.acquired &+= 1
                return index
            }
            state.exhausted &+= 1
            return nil
        }
        return index.map { buffers[$0] }
    }

    func recycle(_ buffer: FrameBuffer) {
        state.withLock { state in state.free.append(buffer.index) }
    }

    /// Buffers currently free.
    public var available: Int { state.withLock { $0.free.count } }
    /// How many times `acquireBuffer` found the pool empty.
    public var exhaustedCount: Int { state.withLock { $0.exhausted } }
    /// How many buffers have been handed out in total.
    public var acquiredCount: Int { state.withLock { $0.acquired } }

    /// Acquires a buffer and wraps it as an empty frame of the given layout.
    /// Returns `nil` when the pool is exhausted or the layout does not fit a buffer.
    public func makeFrame(layout: FrameLayout, sequence: UInt64, captureTime: ContinuousClock.Instant) -> Frame? {
        guard layout.byteCount <= bufferCapacity, let buffer = acquireBuffer() else { return nil }
        return Frame(buffer: buffer, layout: layout, sequence: sequence, captureTime: captureTime)
    }
}
