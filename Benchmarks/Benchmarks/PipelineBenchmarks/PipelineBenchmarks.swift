// Pool acquire/release, capture and decode alone, and a whole frame through the pipeline
// (decode, motion, detection under the generic board's budget, tracking), at 640x480 and
// 1280x720: time per frame and mallocs per frame. Capture and decode from the pattern allocate
// nothing per frame; MJPEG adds libjpeg's per-image working memory (see JPEGBenchmarks); the
// analysis stages still allocate (detector and scheduler result arrays).

import Benchmark
import Boards
import Capture
import Foundation
import Frames
import ObscuraRuntime

let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A config that turns analysis off, so the capture, pool and decode path is measured alone.
let noAnalysisConfig: String = {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("obscura-bench-no-analysis.yaml").path
    try? "analysis:\n  enabled: false\n".write(toFile: path, atomically: true, encoding: .utf8)
    return path
}()

/// A free-running pipeline on `camera` as the generic board, warmed up so pools and histograms
/// are in their steady state before measuring. `analysis` false leaves only capture and decode.
func makePipeline(camera: String, analysis: Bool = true) -> Pipeline {
    var options = RunOptions()
    if !analysis { options.configFile = noAnalysisConfig }
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
        Benchmark("Capture and decode only, pattern \(width)x\(height)",
                  configuration: .init(scalingFactor: .one)) { benchmark in
            let pipeline = makePipeline(camera: "pattern:\(width)x\(height)@30", analysis: false)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try pipeline.step())
            }
        }

        Benchmark("Capture and decode only, MJPEG \(width)x\(height)",
                  configuration: .init(scalingFactor: .one)) { benchmark in
            let pipeline = makePipeline(camera: "file:\(repositoryRoot)/Fixtures/vtest_\(width)x\(height).mjpeg?loop=true", analysis: false)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try pipeline.step())
            }
        }

        Benchmark("Whole frame with analysis, pattern \(width)x\(height)",
                  configuration: .init(scalingFactor: .one)) { benchmark in
            let pipeline = makePipeline(camera: "pattern:\(width)x\(height)@30")
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try pipeline.step())
            }
        }

        Benchmark("Whole frame with analysis, MJPEG \(width)x\(height)",
                  configuration: .init(scalingFactor: .one)) { benchmark in
            let pipeline = makePipeline(camera: "file:\(repositoryRoot)/Fixtures/vtest_\(width)x\(height).mjpeg?loop=true")
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try pipeline.step())
            }
        }
    }
}
