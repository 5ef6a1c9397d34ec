// Host tests of V4L2Camera's capture loop over a scripted stream: what it does with flagged,
// truncated and late buffers, sequence gaps, a device lost mid-stream, reopens that fail, a
// device that comes back in another format, and errors that are not a loss. The kernel is
// replaced by a script, so these run everywhere; V4L2DeviceTests.swift runs the same paths
// against vivid in the VM.

import Testing
@testable import Capture
import Frames
#if canImport(Glibc)
import Glibc
#endif

/// A stream that plays a script: each batch is what one poll finds ready.
final class ScriptedStream: V4L2Streaming {
    enum Step {
        case buffer(sequence: UInt32, bytes: [UInt8], flags: UInt32 = 0)
        /// DQBUF fails with this errno.
        case failure(Int32)
    }

    let granted: V4L2GrantedFormat
    private var batches: [[Step]]
    private var slots: [UnsafeMutableRawBufferPointer]
    private var nextSlot = 0
    private(set) var requeued: [Int] = []
    private(set) var dequeuedCount = 0

    init(granted: V4L2GrantedFormat, batches: [[Step]]) {
        self.granted = granted
        self.batches = batches
        slots = (0..<4).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: max(64, granted.sizeImage), alignment: 16) }
    }

    deinit { for slot in slots { slot.deallocate() } }

    func waitForFrame(timeoutMilliseconds: Int32) throws(CaptureError) -> V4L2PollOutcome {
        while batches.first?.isEmpty == true { batches.removeFirst() }
        return batches.isEmpty ? .timedOut : .readable
    }

    func dequeue() throws(CaptureError) -> V4L2DequeuedBuffer? {
        guard !batches.isEmpty else { return nil }
        guard !batches[0].isEmpty else {
            batches.removeFirst()
            return nil
        }
        switch batches[0].removeFirst() {
        case let .failure(code):
            throw .system(call: "VIDIOC_DQBUF", path: "/dev/scripted", errno: code)
        case let .buffer(sequence, bytes, flags):
            let index = nextSlot
            nextSlot = (nextSlot + 1) % slots.count
            bytes.withUnsafeBytes { slots[index].copyMemory(from: $0) }
            dequeuedCount += 1
            return V4L2DequeuedBuffer(index: index, bytesUsed: bytes.count, flags: flags, sequence: sequence)
        }
    }

    func requeue(_ index: Int) throws(CaptureError) { requeued.append(index) }

    func bytes(of buffer: V4L2DequeuedBuffer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: slots[buffer.index][0..<buffer.bytesUsed])
    }

    func listControls() throws(CaptureError) -> [V4L2ControlInfo] { [] }
    func readControl(id: UInt32) throws(CaptureError) -> Int64 { 0 }
    func setControl(named name: String, to value: String, known: [V4L2ControlInfo]?) throws(CaptureError) -> Int64? { nil }
}

/// Hands out scripted streams (or errors) in order, recording what each open asked for.
final class ScriptedOpener: @unchecked Sendable {
    var results: [Result<ScriptedStream, CaptureError>]
    private(set) var proposals: [V4L2FormatProposal?] = []

    init(_ results: [Result<ScriptedStream, CaptureError>]) { self.results = results }

    func open(_ proposal: V4L2FormatProposal?) throws(CaptureError) -> any V4L2Streaming {
        proposals.append(proposal)
        guard !results.isEmpty else { throw .system(call: "open", path: "/dev/scripted", errno: ENODEV) }
        return try results.removeFirst().get()
    }
}

let scriptedYUYV = V4L2GrantedFormat(pixelFormat: .yuyv, width: 4, height: 2, bytesPerLine: 8, sizeImage: 16, fps: 30)
let scriptedMJPEG = V4L2GrantedFormat(pixelFormat: .mjpeg, width: 640, height: 480, bytesPerLine: 0, sizeImage: 4096, fps: 30)
let yuyvImage = [UInt8](0..<16)
let goodJPEG: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 1, 2, 3, 4, 0xFF, 0xD9]

func scriptedCamera(_ opener: ScriptedOpener, options: V4L2Options = V4L2Options()) throws -> V4L2Camera {
    var options = options
    options.backoff = V4L2Backoff(initial: .milliseconds(1), maximum: .milliseconds(4))
    return try V4L2Camera(path: "/dev/scripted", options: options, log: { _ in }) { proposal throws(CaptureError) in
        try opener.open(proposal)
    }
}

enum CaptureOutcome: Equatable {
    case frame(sequence: UInt64, bytes: [UInt8])
    case noFrame
    case unavailable
}

func outcome(_ camera: V4L2Camera) throws -> CaptureOutcome {
    let result = try camera.capture(timeout: .milliseconds(50))
    switch consume result {
    case .frame(let frame):
        var bytes: [UInt8] = []
        if frame.format == .mjpeg {
            bytes = Array(frame.payload)
        } else {
            // The rows without the pool's stride padding.
            let plane = frame.plane(0)
            let view = frame.planeBytes(0)
            for row in 0..<plane.height { bytes += view[(row * plane.stride)..<(row * plane.stride + plane.rowBytes)] }
        }
        return .frame(sequence: frame.sequence, bytes: bytes)
    case .noFrame: return .noFrame
    case .deviceUnavailable: return .unavailable
    }
}

@Suite struct V4L2CaptureLoopTests {
    @Test func deliversRawFramesAndRequeuesEveryBuffer() throws {
        let stream = ScriptedStream(granted: scriptedYUYV, batches: [[.buffer(sequence: 0, bytes: yuyvImage)],
                                                                    [.buffer(sequence: 1, bytes: yuyvImage)]])
        let camera = try scriptedCamera(ScriptedOpener([.success(stream)]))
        #expect(camera.mode == SourceMode(width: 4, height: 2, format: .yuyv, fps: 30))
        #expect(try outcome(camera) == .frame(sequence: 0, bytes: yuyvImage))
        #expect(try outcome(camera) == .frame(sequence: 1, bytes: yuyvImage))
        #expect(try outcome(camera) == .noFrame)
        #expect(stream.requeued.count == stream.dequeuedCount)
        #expect(camera.counters.delivered == 2)
    }

    @Test func discardsFlaggedTruncatedAndShortBuffersAndDrainsToTheNewest() throws {
        let truncated = Array(goodJPEG.prefix(8))
        let newest: [UInt8] = goodJPEG + [0, 0]
        let stream = ScriptedStream(granted: scriptedMJPEG, batches: [
            [.buffer(sequence: 0, bytes: goodJPEG)],
            [.buffer(sequence: 1, bytes: goodJPEG, flags: UInt32(0x40)),  // V4L2_BUF_FLAG_ERROR
             .buffer(sequence: 2, bytes: truncated),
             .buffer(sequence: 3, bytes: goodJPEG),
             .buffer(sequence: 5, bytes: newest)],
        ])
        let camera = try scriptedCamera(ScriptedOpener([.success(stream)]))
        #expect(try outcome(camera) == .frame(sequence: 0, bytes: goodJPEG))
        // Sequence 4 never arrived (a driver drop); 3 was good but 5 is newer (skipped).
        #expect(try outcome(camera) == .frame(sequence: 5, bytes: newest))
        let counters = camera.v4l2Counters
        #expect(counters.errorFlagged == 1)
        #expect(counters.truncatedJPEG == 1)
        #expect(counters.skipped == 1)
        #expect(counters.driverDrops == 1)
        #expect(counters.delivered == 2 && counters.dequeued == 5)
        #expect(counters.source.corrupt == 2)
        #expect(stream.requeued.count == 5)
    }

    @Test func withoutDrainingTheOldestGoodFrameComesFirst() throws {
        let stream = ScriptedStream(granted: scriptedYUYV, batches: [[.buffer(sequence: 0, bytes: yuyvImage),
                                                                     .buffer(sequence: 1, bytes: yuyvImage)]])
        var options = V4L2Options()
        options.drainToNewest = false
        let camera = try scriptedCamera(ScriptedOpener([.success(stream)]), options: options)
        #expect(try outcome(camera) == .frame(sequence: 0, bytes: yuyvImage))
        #expect(try outcome(camera) == .frame(sequence: 1, bytes: yuyvImage))
        #expect(camera.v4l2Counters.skipped == 0)
    }

    @Test func shortRawBuffersAreDiscarded() throws {
        let stream = ScriptedStream(granted: scriptedYUYV, batches: [[.buffer(sequence: 0, bytes: Array(yuyvImage.prefix(10)))]])
        let camera = try scriptedCamera(ScriptedOpener([.success(stream)]))
        #expect(try outcome(camera) == .noFrame)
        #expect(camera.v4l2Counters.shortFrames == 1)
    }

    @Test func aLostDeviceIsReopenedWithTheSameFormatAfterFailedAttempts() throws {
        let first = ScriptedStream(granted: scriptedYUYV, batches: [[.buffer(sequence: 0, bytes: yuyvImage)], [.failure(EIO)]])
        let second = ScriptedStream(granted: scriptedYUYV, batches: [[.buffer(sequence: 0, bytes: yuyvImage)]])
        let absent = CaptureError.system(call: "open", path: "/dev/scripted", errno: ENODEV)
        let opener = ScriptedOpener([.success(first), .failure(absent), .failure(absent), .success(second)])
        let camera = try scriptedCamera(opener)
        #expect(try outcome(camera) == .frame(sequence: 0, bytes: yuyvImage))
        var answers: [CaptureOutcome] = []
        for _ in 0..<10 {
            let answer = try outcome(camera)
            answers.append(answer)
            if case .frame = answer { break }
        }
        // The caller keeps getting answers through the outage, then frames again; positions
        // continue after the outage rather than restarting at 0.
        #expect(answers.first == .unavailable)
        #expect(answers.last == .frame(sequence: 1, bytes: yuyvImage))
        let counters = camera.v4l2Counters
        #expect(counters.deviceLost == 1)
        #expect(counters.reopenFailures == 2)
        #expect(counters.reconnects == 1)
        #expect(counters.outageSeconds > 0 && !counters.isLost)
        #expect(counters.lastError == absent.description)
        // Every reopen asks for exactly what the first open was granted.
        let reopenProposal = V4L2FormatProposal(pixelFormat: .yuyv, width: 4, height: 2, fps: 30)
        #expect(opener.proposals.dropFirst().allSatisfy { $0 == reopenProposal })
        #expect(opener.proposals.count == 4)
    }

    @Test func aDeviceBackInAnotherFormatIsAFailedReopen() throws {
        let first = ScriptedStream(granted: scriptedYUYV, batches: [[.failure(ENODEV)]])
        var smaller = scriptedYUYV
        smaller.width = 2
        let changed = ScriptedStream(granted: smaller, batches: [])
        let changedAgain = ScriptedStream(granted: smaller, batches: [])
        let camera = try scriptedCamera(ScriptedOpener([.success(first), .success(changed), .success(changedAgain)]))
        _ = try outcome(camera)
        let counters = camera.v4l2Counters
        #expect(counters.deviceLost == 1 && counters.reconnects == 0 && counters.isLost)
        #expect(counters.reopenFailures >= 1)
        #expect(counters.lastError?.contains("came back as YUYV 2x2") == true)
    }

    @Test func errorsThatAreNotALossAreThrownNamingTheCall() throws {
        let stream = ScriptedStream(granted: scriptedYUYV, batches: [[.failure(EINVAL)]])
        let camera = try scriptedCamera(ScriptedOpener([.success(stream)]))
        let error = #expect(throws: CaptureError.self) { _ = try camera.capture(timeout: .milliseconds(50)) }
        #expect(error?.description == "/dev/scripted: VIDIOC_DQBUF failed: Invalid argument (errno 22)")
        #expect(camera.v4l2Counters.deviceLost == 0)
    }

    @Test func theFirstOpenFailingIsThrown() {
        let opener = ScriptedOpener([.failure(.system(call: "VIDIOC_STREAMON", path: "/dev/scripted", errno: EINVAL))])
        #expect(throws: CaptureError.system(call: "VIDIOC_STREAMON", path: "/dev/scripted", errno: EINVAL)) {
            _ = try scriptedCamera(opener)
        }
    }

    @Test func stopEndsNextFrame() throws {
        let camera = try scriptedCamera(ScriptedOpener([.success(ScriptedStream(granted: scriptedYUYV, batches: []))]))
        camera.stop()
        #expect(try camera.nextFrame() == nil)
    }
}
