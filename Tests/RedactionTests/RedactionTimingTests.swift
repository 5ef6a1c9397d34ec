// Time of one redaction of typical regions (three 60x120 boxes at 640x480 I420), per method,
// printed for the notes. It asserts nothing about time, because debug builds are an order of
// magnitude slower; run it in release:
//   swift test -c release --filter redactionTiming

import Analysis
import Frames
import Redaction
import Testing

@Test("redaction timing: three 60x120 boxes at 640x480 I420, and a foreground silhouette")
func redactionTiming() {
    let layout = FrameLayout(format: .i420, width: 640, height: 480)
    let pool = FramePool(count: 1, layout: layout)
    let boxes = [DetectionBox(x: 100, y: 100, width: 60, height: 120), DetectionBox(x: 300, y: 200, width: 60, height: 120),
                 DetectionBox(x: 500, y: 300, width: 60, height: 120)]
    let detections = boxes.map { Observation(box: $0, objectClass: .person) }
    // A 1/4-scale mask with one person-sized blob (20x40 coarse pixels = 80x160 full).
    var coarse = [UInt8](repeating: 0, count: 160 * 120)
    for row in 40..<80 { for column in 70..<90 { coarse[row * 160 + column] = 255 } }
    let foreground = ForegroundMask(width: 160, height: 120, pixels: coarse, scale: 4)
    for method in RedactionMethod.allCases {
        for policy in [RedactionPolicy.detections(margin: 0.3), .foreground(margin: 0.3)] {
            let redactor = Redactor(configuration: RedactionConfiguration(policy: policy, method: method))
            let input = RedactionInput(detections: detections, foreground: foreground)
            var samples: [Duration] = []
            for iteration in 0..<120 {
                // Random content once; later frames reuse the (partly redacted) buffer, which
                // costs the same to redact and keeps a debug run of this test short.
                let frame = iteration == 0 ? randomFrame(pool, layout, seed: 3)
                    : pool.makeFrame(layout: layout, sequence: UInt64(iteration), captureTime: .now)!
                let clock = ContinuousClock()
                let start = clock.now
                let result = redactor.redact(frame, analysis: input)
                let elapsed = clock.now - start
                #expect(result.maskedFraction > 0)
                if iteration >= 20 { samples.append(elapsed) }
            }
            samples.sort()
            let median = samples[samples.count / 2], high = samples[samples.count * 99 / 100]
            print("redaction \(method) \(policy): median \(microseconds(median)) µs, p99 \(microseconds(high)) µs")
        }
    }
}

func microseconds(_ duration: Duration) -> Int {
    Int(duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
}
