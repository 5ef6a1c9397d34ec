// Analysis kernels on real frames of the sample footage at 640x480 and 1280x720: motion on the
// 1/4 grey image, each required cascade over the whole frame (one thread), the tracker with
// 20 objects, the budget scheduler at a 20 ms budget, and the detect stage's work on the footage
// with the motion detector's regions at a fixed amount of work. Frames are decoded once in setup.

import Analysis
import Benchmark
import Codec
import Foundation
import Frames

let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The grey (Y) planes of the first `count` frames of a sample MJPEG file, tightly packed.
func footageFrames(_ name: String, count: Int) -> (width: Int, height: Int, frames: [[UInt8]]) {
    let path = repositoryRoot + "/Fixtures/" + name
    guard let data = FileManager.default.contents(atPath: path) else {
        fatalError("fixture \(path) is missing: run tools/bootstrap")
    }
    let bytes = [UInt8](data.prefix(8 << 20))
    let decoder = JPEGDecoder()
    var frames: [[UInt8]] = []
    var start = 0, index = 2, width = 0, height = 0
    while index + 1 < bytes.count, frames.count < count {
        if bytes[index] == 0xFF && bytes[index + 1] == 0xD9 {
            let jpeg = Array(bytes[start...(index + 1)])
            let pool = FramePool(count: 1, bufferCapacity: 4 << 20)
            let decoded: (width: Int, height: Int, pixels: [UInt8])? = jpeg.withUnsafeBytes { payload in
                guard let frame = try? decoder.decode(payload, from: pool, output: .gray) else { return nil }
                let plane = frame.plane(0)
                var packed = [UInt8](repeating: 0, count: frame.width * frame.height)
                for row in 0..<frame.height {
                    let source = frame.buffer.baseAddress + plane.offset + row * plane.stride
                    packed.withUnsafeMutableBytes { $0.baseAddress!.advanced(by: row * frame.width).copyMemory(from: source, byteCount: frame.width) }
                }
                return (frame.width, frame.height, packed)
            }
            guard let decoded else { fatalError("cannot decode frame \(frames.count) of \(path)") }
            width = decoded.width
            height = decoded.height
            let packed = decoded.pixels
            frames.append(packed)
            start = index + 2
            index += 2
        } else {
            index += 1
        }
    }
    return (width, height, frames)
}

func cascade(_ file: String) -> CascadeDetector {
    do {
        return CascadeDetector(classifier: try CascadeClassifier.load(path: "/usr/share/opencv4/" + file))
    } catch {
        fatalError("\(error) (tools/bootstrap installs opencv-data)")
    }
}

let cascades = [
    ("frontalface_default", "haarcascades/haarcascade_frontalface_default.xml", DetectionParameters(scaleFactor: 1.2, minNeighbors: 3)),
    ("lbp frontalface_improved", "lbpcascades/lbpcascade_frontalface_improved.xml", DetectionParameters(scaleFactor: 1.2, minNeighbors: 3)),
    ("fullbody", "haarcascades/haarcascade_fullbody.xml", DetectionParameters(scaleFactor: 1.1, minNeighbors: 3)),
    ("licence_plate_rus_16stages", "haarcascades/haarcascade_licence_plate_rus_16stages.xml", DetectionParameters(scaleFactor: 1.1, minNeighbors: 3)),
]

/// This thread's CPU time in microseconds (CLOCK_THREAD_CPUTIME_ID, nanosecond resolution): on
/// a shared machine it moves much less with other processes' load than wall time does, and
/// unlike the benchmark's user-CPU metric it is not counted in 10 ms ticks.
let threadCPUMetric = BenchmarkMetric.custom("Thread CPU (μs)", polarity: .prefersSmaller, useScalingFactor: false)

func threadCPUNanoseconds() -> Int {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return time.tv_sec * 1_000_000_000 + time.tv_nsec
}

let workMetric = BenchmarkMetric.custom("Work units (thousands)", polarity: .prefersSmaller, useScalingFactor: false)
let regionWorkMetric = BenchmarkMetric.custom("Of which moving regions (thousands)", polarity: .prefersSmaller, useScalingFactor: false)
let unverifiedMetric = BenchmarkMetric.custom("Unverified (permille)", polarity: .prefersSmaller, useScalingFactor: false)

/// Footage frames with the moving regions motion found in each, and a scheduler that keeps its
/// result from frame to frame as the detect stage does.
final class FootageSchedule {
    let width: Int, height: Int
    let frames: [[UInt8]]
    let regions: [[DetectionBox]]
    let scheduler: BudgetScheduler
    var result = ScheduleResult()
    var index = 0

    init(name: String, frames count: Int, configuration: BudgetSchedulerConfiguration = BudgetSchedulerConfiguration()) throws {
        let footage = footageFrames(name, count: count)
        width = footage.width
        height = footage.height
        frames = footage.frames
        let small = DetectionSize(width: width / 4, height: height / 4)
        let motion = MotionDetector(width: small.width, height: small.height)
        var image = [UInt8](repeating: 0, count: small.width * small.height)
        var regions: [[DetectionBox]] = []
        for frame in frames {
            frame.withUnsafeBytes { source in
                image.withUnsafeMutableBytes { destination in
                    downscaleBox(source: source.baseAddress!, width: footage.width, height: footage.height, stride: footage.width,
                                 factor: 4, destination: destination.baseAddress!, destinationStride: small.width)
                }
            }
            regions.append(motion.update(image: image).regions.map { $0.fullFrameBox(factor: 4) })
        }
        self.regions = regions
        // The pipeline's default detectors (ObscuraRuntime's AnalysisSettings).
        scheduler = try BudgetScheduler(detectors: [
            ScheduledDetector(objectClass: .person, detector: cascade("haarcascades/haarcascade_fullbody.xml"),
                              parameters: DetectionParameters(scaleFactor: 1.1, minNeighbors: 3)),
            ScheduledDetector(objectClass: .face, detector: cascade("haarcascades/haarcascade_frontalface_default.xml"),
                              parameters: DetectionParameters(scaleFactor: 1.2, minNeighbors: 3)),
        ], configuration: configuration)
    }

    func step(_ benchmark: Benchmark, budget: FrameBudget) {
        let cpuStart = threadCPUNanoseconds()
        frames[index].withUnsafeBufferPointer { pixels in
            let plane = GrayPlane(base: pixels.baseAddress!, width: width, height: height, stride: width)
            scheduler.schedule(plane, motionRegions: regions[index], budget: budget, into: &result)
        }
        benchmark.measurement(threadCPUMetric, (threadCPUNanoseconds() - cpuStart) / 1000)
        benchmark.measurement(workMetric, result.workUsed / 1000)
        benchmark.measurement(regionWorkMetric, result.regionWorkUsed / 1000)
        benchmark.measurement(unverifiedMetric, Int((result.unverifiedFraction * 1000).rounded()))
        index = (index + 1) % frames.count
    }
}

/// One cascade over the first frames of the footage in turn, into a kept array.
final class WholeFrameDetection {
    let footage: (width: Int, height: Int, frames: [[UInt8]])
    let detector: CascadeDetector
    var boxes: [DetectionBox] = []
    var index = 0

    init(name: String, file: String) {
        footage = footageFrames(name, count: 4)
        detector = cascade(file)
    }

    func detect(_ benchmark: Benchmark, parameters: DetectionParameters) {
        let cpuStart = threadCPUNanoseconds()
        footage.frames[index].withUnsafeBufferPointer { pixels in
            let plane = GrayPlane(base: pixels.baseAddress!, width: footage.width, height: footage.height, stride: footage.width)
            detector.detect(plane, parameters: parameters, into: &boxes)
        }
        blackHole(boxes.count)
        benchmark.measurement(threadCPUMetric, (threadCPUNanoseconds() - cpuStart) / 1000)
        index = (index + 1) % footage.frames.count
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(3), maxIterations: 2_000)

    for (name, size) in [("vtest_640x480.mjpeg", "640x480"), ("vtest_1280x720.mjpeg", "1280x720")] {
        Benchmark("Motion \(size) (1/4 grey image)") { benchmark in
            let footage = footageFrames(name, count: 60)
            let width = footage.width / 4, height = footage.height / 4
            let motion = MotionDetector(width: width, height: height)
            var small = [[UInt8]](repeating: [UInt8](repeating: 0, count: width * height), count: footage.frames.count)
            for index in footage.frames.indices {
                footage.frames[index].withUnsafeBytes { source in
                    small[index].withUnsafeMutableBytes { destination in
                        downscaleBox(source: source.baseAddress!, width: footage.width, height: footage.height, stride: footage.width,
                                     factor: 4, destination: destination.baseAddress!, destinationStride: width)
                    }
                }
            }
            for frame in small { _ = motion.update(image: frame) }
            var index = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(motion.update(image: small[index]).regions.count)
                index = (index + 1) % small.count
            }
        }

        for (cascadeName, file, parameters) in cascades {
            // One detector for the whole run (setup), so that samples after the first show the
            // steady state, not a fresh detector's first pass (buffers, compiled cascade).
            Benchmark("Cascade \(cascadeName) \(size), whole frame",
                      configuration: .init(metrics: [.wallClock, threadCPUMetric, .mallocCountTotal], warmupIterations: 1,
                                           scalingFactor: .one, maxDuration: .seconds(3), maxIterations: 2_000),
                      closure: { benchmark, context in
                          for _ in benchmark.scaledIterations { context.detect(benchmark, parameters: parameters) }
                      }, setup: { WholeFrameDetection(name: name, file: file) })
        }

        Benchmark("Budget scheduler \(size), 20 ms budget, person and face") { benchmark in
            let footage = footageFrames(name, count: 8)
            let scheduler = try BudgetScheduler(detectors: [
                ScheduledDetector(objectClass: .person, detector: cascade("haarcascades/haarcascade_fullbody.xml"),
                                  parameters: DetectionParameters(scaleFactor: 1.1, minNeighbors: 3)),
                ScheduledDetector(objectClass: .face, detector: cascade("haarcascades/haarcascade_frontalface_default.xml"),
                                  parameters: DetectionParameters(scaleFactor: 1.2, minNeighbors: 3)),
            ])
            // Two moving regions of pedestrian size, as motion would report them.
            let regions = [DetectionBox(x: footage.width / 4, y: footage.height / 3, width: footage.width / 10, height: footage.height / 4),
                           DetectionBox(x: footage.width / 2, y: footage.height / 2, width: footage.width / 12, height: footage.height / 5)]
            var index = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                footage.frames[index].withUnsafeBufferPointer { pixels in
                    let plane = GrayPlane(base: pixels.baseAddress!, width: footage.width, height: footage.height, stride: footage.width)
                    blackHole(scheduler.schedule(plane, motionRegions: regions, budget: .time(milliseconds: 20)).unverifiedFraction)
                }
                index = (index + 1) % footage.frames.count
            }
        }
    }

    // The detect stage's work on the footage at a fixed amount of work, so that before/after
    // comparisons do not depend on how busy the machine is (a time budget does: a slower run
    // examines less). Motion regions come from the motion detector on the 1/4 image, as in the
    // pipeline; one frame per sample, the same frames in the same order on every run.
    var examinedMotion = BudgetSchedulerConfiguration()
    examinedMotion.examinedMotionKeepsTilesVerified = true
    for (label, budget, configuration) in [("no limit", FrameBudget.unlimited, BudgetSchedulerConfiguration()),
                                           ("120k work units", .workUnits(120_000), BudgetSchedulerConfiguration()),
                                           ("no limit, examined motion keeps tiles", .unlimited, examinedMotion),
                                           ("120k work units, examined motion keeps tiles", .workUnits(120_000), examinedMotion)] {
        Benchmark("Detect stage on footage 640x480, person and face, \(label)",
                  configuration: .init(metrics: [.wallClock, threadCPUMetric, .mallocCountTotal, workMetric, regionWorkMetric, unverifiedMetric],
                                       timeUnits: .microseconds, warmupIterations: 0, scalingFactor: .one,
                                       maxDuration: .seconds(120), maxIterations: 120),
                  closure: { benchmark, context in
                      for _ in benchmark.scaledIterations { context.step(benchmark, budget: budget) }
                  }, setup: { try FootageSchedule(name: "vtest_640x480.mjpeg", frames: 60, configuration: configuration) })
    }

    Benchmark("Tracker and counting, 20 objects") { benchmark in
        let tracker = Tracker()
        let aggregator = CountAggregator(lines: [CountingLine(name: "middle", from: Point(x: 320, y: 0), to: Point(x: 320, y: 480))],
                                         zones: [CountingZone(name: "left", polygon: [Point(x: 0, y: 0), Point(x: 320, y: 0), Point(x: 320, y: 480), Point(x: 0, y: 480)])])
        var observations: [Observation] = []
        observations.reserveCapacity(20)
        var frame: UInt64 = 0
        let start = ContinuousClock.now
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            frame &+= 1
            observations.removeAll(keepingCapacity: true)
            for object in 0..<20 {
                // Twenty people walking right at different heights and speeds, wrapping around.
                let x = Int((frame &* UInt64(2 + object % 3) &+ UInt64(object * 29)) % 600)
                observations.append(Observation(box: DetectionBox(x: x, y: 20 + object * 22, width: 24, height: 48), objectClass: .person))
            }
            let tracks = tracker.update(observations, frameSequence: frame)
            blackHole(aggregator.observe(tracks, at: start + .milliseconds(Int64(frame) * 33)))
        }
    }
}
