// The pattern camera (determinism, formats), pacing against ContinuousClock (nominal rate,
// skipping instead of bursting, free-running), looping and sequence numbers across loops, and
// frames returning their buffers to the pool.

import Foundation
import Testing
@testable import Capture
import Frames

@Suite struct PatternSourceTests {
    /// All bytes of a frame's planes (padding excluded).
    func bytes(_ frame: borrowing Frame) -> [UInt8] {
        (0..<frame.format.planeCount).flatMap { planeSamples(frame, $0) }
    }

    @Test(arguments: [PixelFormat.i420, .gray8, .nv12, .yuyv, .i422])
    func deterministicAndMoving(format: PixelFormat) throws {
        let first = try PatternSource(width: 97, height: 61, fps: 30, format: format, pacing: .freeRunning)
        let second = try PatternSource(width: 97, height: 61, fps: 30, format: format, pacing: .freeRunning)
        var frames: [[UInt8]] = []
        try drain(first, limit: 5) { frames.append(bytes($0)) }
        var again: [[UInt8]] = []
        try drain(second, limit: 5) { again.append(bytes($0)) }
        #expect(frames == again)
        for index in 1..<frames.count { #expect(frames[index] != frames[index - 1]) }
        #expect(first.mode == SourceMode(width: 97, height: 61, format: format, fps: 30))
    }

    @Test func frameLimitEndsTheSource() throws {
        let source = try openCamera(spec: "pattern:64x48@30?frames=12&pacing=free")
        #expect(try drain(source) == 12)
        #expect(try !gotFrame(source))
    }

    @Test func rejectsBadGeometry() {
        let error = expectCaptureError { () throws(CaptureError) in _ = try PatternSource(width: 0, height: 10, fps: 30) }
        guard case .invalidSpec? = error else { Issue.record("got \(String(describing: error))"); return }
        let compressed = expectCaptureError { () throws(CaptureError) in _ = try PatternSource(width: 10, height: 10, fps: 30, format: .mjpeg) }
        guard case .invalidSpec? = compressed else { Issue.record("got \(String(describing: compressed))"); return }
    }
}

@Suite(.serialized) struct PacingTests {
    @Test func nominalPacingRunsAtTheRate() throws {
        // 10 frames at 50 fps: the first at once, the tenth 9 intervals later (180 ms).
        let source = try openCamera(spec: "pattern:160x120@50")
        let start = ContinuousClock.now
        var times: [ContinuousClock.Instant] = []
        try drain(source, limit: 10) { times.append($0.captureTime) }
        let elapsed = ContinuousClock.now - start
        #expect(times.count == 10)
        #expect(elapsed >= .milliseconds(150) && elapsed <= .milliseconds(600), "took \(elapsed)")
        for index in 1..<times.count { #expect(times[index] > times[index - 1]) }
    }

    @Test func fileSourcesArePacedToo() throws {
        let source = try openCamera(spec: "file:\(try fixture("vtest_640x480.mjpeg"))?fps=50")
        let start = ContinuousClock.now
        try drain(source, limit: 10)
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(150) && elapsed <= .milliseconds(600), "took \(elapsed)")
    }

    @Test func lateConsumerSkipsInsteadOfBursting() throws {
        let source = try PatternSource(width: 64, height: 48, fps: 100, pacing: .nominal)
        _ = try source.nextFrame()
        sleepUntil(.now + .milliseconds(65))   // about 5 intervals late
        _ = try source.nextFrame()
        #expect(source.counters.skipped >= 3, "skipped \(source.counters.skipped)")
        // No burst: the frames after the late one still come one interval apart.
        let start = ContinuousClock.now
        try drain(source, limit: 3)
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(20), "took \(elapsed)")
    }

    @Test func pacerSchedulesFromTheStart() {
        var pacer = FramePacer(pacing: .nominal, fps: 100)
        let start = ContinuousClock.now
        for _ in 0..<20 {
            _ = pacer.waitForNextFrame()
            // Work that takes most of each interval must not push the schedule back.
            sleepUntil(.now + .milliseconds(7))
        }
        let elapsed = ContinuousClock.now - start
        // 19 intervals (190 ms) plus the last 7 ms of work; sleeping a whole interval after
        // each frame's work would take 20 x 17 = 340 ms.
        #expect(elapsed >= .milliseconds(185) && elapsed <= .milliseconds(300), "took \(elapsed)")
    }

    @Test func specPacingWinsOverTheArgument() throws {
        let source = try openCamera(spec: "pattern:64x48@50?pacing=nominal", pacing: .freeRunning)
        let start = ContinuousClock.now
        try drain(source, limit: 10)
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(150) && elapsed <= .milliseconds(600), "took \(elapsed)")
    }

    /// CPU time this thread has used.
    func threadCPUTime() -> Duration {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
    }

    @Test(arguments: [Pacing.nominal, .nominalBusy])
    func busyPacingKeepsTheRateAndTheCPU(pacing: Pacing) throws {
        // 10 frames at 50 fps either way; a busy wait spends the waiting on the CPU, a sleep
        // does not (generous bounds: this machine is shared).
        let source = try openCamera(spec: "pattern:64x48@50", pacing: pacing)
        let start = ContinuousClock.now, cpuStart = threadCPUTime()
        try drain(source, limit: 10)
        let elapsed = ContinuousClock.now - start, cpu = threadCPUTime() - cpuStart
        #expect(elapsed >= .milliseconds(150) && elapsed <= .milliseconds(600), "took \(elapsed)")
        if pacing == .nominalBusy {
            #expect(cpu > elapsed / 3, "busy: \(cpu) of CPU in \(elapsed)")
        } else {
            #expect(cpu < elapsed / 3, "sleeping: \(cpu) of CPU in \(elapsed)")
        }
    }

    @Test func busyPacingIsASpecOption() throws {
        #expect(try CameraSpec(parsing: "pattern:64x48@50?pacing=busy").description.contains("64x48"))
        let source = try openCamera(spec: "pattern:64x48@50?pacing=busy", pacing: .freeRunning)
        let start = ContinuousClock.now
        try drain(source, limit: 10)
        #expect(ContinuousClock.now - start >= .milliseconds(150))
    }

    @Test func freeRunningDoesNotWait() throws {
        let source = try openCamera(spec: "pattern:64x48@1", pacing: .freeRunning)
        let start = ContinuousClock.now
        #expect(try drain(source, limit: 200) == 200)
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(source.counters.skipped == 0)
    }
}

@Suite struct LoopingTests {
    @Test func mjpegLoopsWithMonotonicSequence() throws {
        let folder = try TemporaryFolder()
        var stream = Data()
        for index in 1...3 { stream.append(try contents(try fixture(String(format: "stills/frame_%03d.jpg", index)))) }
        let path = try folder.write("three.mjpeg", stream)
        let source = try openCamera(spec: "file:\(path)?loop=true&pacing=free")
        var sequences: [UInt64] = []
        var sizes: [Int] = []
        try drain(source, limit: 10) { frame in
            sequences.append(frame.sequence)
            sizes.append(frame.payloadSize)
        }
        #expect(sequences == Array(0..<10))
        #expect(Array(sizes[0..<3]) == Array(sizes[3..<6]))
        #expect(source.counters.loops == 3)
        #expect(source.counters.delivered == 10)

        let once = try openCamera(spec: "file:\(path)?loop=false&pacing=free")
        #expect(try drain(once) == 3)
        #expect(try !gotFrame(once))
        #expect(once.counters.loops == 0)
    }

    @Test func y4mLoops() throws {
        let source = try openCamera(spec: "file:\(try fixture("vtest_640x480_mono.y4m"))?loop=true&pacing=free")
        var first: [UInt8] = []
        var thirtyFirst: [UInt8] = []
        var last: UInt64 = 0
        try drain(source, limit: 65) { frame in
            if frame.sequence == 0 { first = planeSamples(frame, 0) }
            if frame.sequence == 30 { thirtyFirst = planeSamples(frame, 0) }
            last = frame.sequence
        }
        #expect(last == 64)
        #expect(source.counters.loops == 2)
        #expect(!first.isEmpty && first == thirtyFirst)
    }
}

@Suite struct PoolTests {
    @Test(arguments: ["pattern:64x48@30", "file:vtest_640x480.mjpeg", "file:vtest_640x480.y4m", "file:stills?images=ppm"])
    func framesReturnToThePool(spec: String) throws {
        var parsed = try CameraSpec(parsing: spec)
        if case let .file(path, options) = parsed {
            parsed = .file(path: try fixture(path), options: options)
        }
        let source = try openCamera(spec: parsed, pacing: .freeRunning, poolSize: 3)
        let pool = try #require(poolOf(source))
        #expect(pool.available == 3)
        do {
            let first = try requireFrame(source)
            let second = try requireFrame(source)
            let third = try requireFrame(source)
            #expect(pool.available == 0)
            #expect(first.sequence == 0 && second.sequence == 1 && third.sequence == 2)
            _ = consume first
            #expect(pool.available == 1)
            _ = consume second
            _ = consume third
        }
        #expect(pool.available == 3)
        try drain(source, limit: 20)
        #expect(pool.available == 3)
        #expect(pool.exhaustedCount == 0)
    }

    @Test func exhaustedPoolIsReportedNotHung() throws {
        let source = try PatternSource(width: 32, height: 32, fps: 30, pacing: .freeRunning, poolSize: 1)
        let held = try requireFrame(source)
        let start = ContinuousClock.now
        let error = expectCaptureError { () throws(CaptureError) in _ = try source.nextFrame() }
        #expect(ContinuousClock.now - start >= .seconds(1))
        guard case let .system(call, _, code)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(call == "FramePool.acquireBuffer")
        #expect(code == ENOBUFS)
        #expect(source.counters.poolExhausted == 1)
        _ = consume held
        #expect(try gotFrame(source))
    }

    func poolOf(_ source: any FrameSource) -> FramePool? {
        switch source {
        case let source as PatternSource: source.pool
        case let source as MJPEGFileSource: source.pool
        case let source as Y4MFileSource: source.pool
        case let source as ImageFolderSource: source.pool
        default: nil
        }
    }
}
