// Pool acquire/release and a whole frame through the runtime skeleton, at 640x480 and
// 1280x720: time per frame and mallocs per frame. The pattern source measures Obscura's own
// code alone (expected: 0 mallocs per frame); the MJPEG source adds libjpeg's per-image working
// memory (see JPEGBenchmarks).

import Benchmark
import Boards
import Capture
import Foundation
import Frames
import ObscuraRuntime

let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A free-running pipeline on `camera` as the generic board, warmed up so pools and histograms
/// are in their steady state before measuring.
func makePipeline(camera: String) -> Pipeline {
    var options = RunOptions()
    options.camera = camera
    options.board = "generic"
    options.boardsDirectory = repositoryRoot + "/Boards"
    options.pacing = .freeRunning
    do {
        let session = try Session.open(options)
        _ = try session.pipeline.run(frameLimit: 20)
        return session.pipeline
    } catch {
        fatalError("cannot open \(camera): \(error) (run tools/bootstrap for the sample footage)")
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .memoryLeaked],
        maxDuration: .seconds(3), maxIterations: 100_000)

    Benchmark("Pool acquire and release (640x480 I420)") { benchmark in
        let layout = FrameLayout(format: .i420, width: 640, height: 480)
        let pool = FramePool(count: 4, layout: layout)
        let start = ContinuousClock.now
        benchmark.startMeasurement()
        for iteration in benchmark.scaledIterations {
            let frame = pool.makeFrame(layout: layout, sequence: UInt64(iteration), captureTime: start)
            blackHole(frame?.sequence)
        }
    }

    for (width, height) in [(640, 480), (1280, 720)] {
        Benchmark("Frame through the skeleton, pattern \(width)x\(height)",
                  configuration: .init(scalingFactor: .one)) { benchmark in
            let pipeline = makePipeline(camera: "pattern:\(width)x\(height)@30")
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try pipeline.step())
            }
        }

        Benchmark("Frame through the skeleton, MJPEG \(width)x\(height)",
                  configuration: .init(scalingFactor: .one)) { benchmark in
            let pipeline = makePipeline(camera: "file:\(repositoryRoot)/Fixtures/vtest_\(width)x\(height).mjpeg?loop=true")
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try pipeline.step())
            }
        }
    }
}
