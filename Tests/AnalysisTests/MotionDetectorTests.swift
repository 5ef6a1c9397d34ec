// MotionDetector on synthetic scenes whose truth is known: a moving square, static noise, a
// global brightness jump and a gain change, a still object with and without freezing, speckle,
// ignore masks, the area filter, and buffer reuse across frames.

import Testing
import Frames
import Analysis

/// Deterministic generator (SplitMix64) so every run sees the same noise.
struct MotionTestRandom {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    /// Uniform in `range`.
    mutating func next(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }
}

/// A textured static background with per-frame noise, onto which tests paint objects.
struct MotionTestScene {
    let width: Int
    let height: Int
    var noise: Int
    var random = MotionTestRandom(state: 42)
    let backdrop: [UInt8]

    init(width: Int = 160, height: Int = 120, noise: Int = 4) {
        self.width = width
        self.height = height
        self.noise = noise
        // Smooth gradients in 40 ... 150: room for +60 without clipping at 255.
        var pixels = [UInt8](repeating: 0, count: width * height)
        for row in 0..<height {
            for column in 0..<width {
                pixels[row * width + column] = UInt8(40 + (column * 70) / width + (row * 40) / height)
            }
        }
        backdrop = pixels
    }

    /// One frame: backdrop + `brightness`, times `gain`, plus noise, with `squares` painted at
    /// `backdrop + contrast`.
    mutating func frame(squares: [DetectionBox] = [], contrast: Int = 80, brightness: Int = 0, gain: Double = 1) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height)
        for index in 0..<pixels.count {
            var value = Double(Int(backdrop[index]) + brightness) * gain
            value += Double(noise > 0 ? random.next(in: -noise...noise) : 0)
            pixels[index] = UInt8(min(max(value.rounded(), 0), 255))
        }
        for square in squares {
            for row in max(square.y, 0)..<min(square.y + square.height, height) {
                for column in max(square.x, 0)..<min(square.x + square.width, width) {
                    let index = row * width + column
                    pixels[index] = UInt8(min(max(Int(pixels[index]) + contrast, 0), 255))
                }
            }
        }
        return pixels
    }
}

/// Feeds `count` frames of the empty scene, so the background has settled.
func learnEmptyScene(_ detector: MotionDetector, _ scene: inout MotionTestScene, frames count: Int = 30) {
    for _ in 0..<count { _ = detector.update(image: scene.frame()) }
}

@Suite("Motion detector")
struct MotionDetectorTests {
    @Test("a moving square is found with its exact box on every frame")
    func movingSquare() {
        var scene = MotionTestScene()
        let detector = MotionDetector(width: scene.width, height: scene.height)
        learnEmptyScene(detector, &scene)
        for step in 0..<30 {
            let square = DetectionBox(x: 10 + 4 * step, y: 30 + step, width: 16, height: 16)
            let result = detector.update(image: scene.frame(squares: [square]))
            #expect(result.regions.map(\.box) == [square], "frame \(step)")
            #expect(result.regions.first?.area == 256)
            #expect(!result.lightingChange)
            #expect(result.foreground[square.x + 8, square.y + 8])
        }
        #expect(detector.counters.frames == 60)
        #expect(detector.counters.regionsReported == 30)
        #expect(detector.counters.lightingChanges == 0)
    }

    @Test("odd image sizes (the scalar tails of the row kernels) find a moving square")
    func oddSize() {
        var scene = MotionTestScene(width: 45, height: 23)
        let detector = MotionDetector(width: 45, height: 23)
        learnEmptyScene(detector, &scene)
        for step in 0..<8 {
            let square = DetectionBox(x: 3 + 4 * step, y: 6, width: 7, height: 9)
            #expect(detector.update(image: scene.frame(squares: [square])).regions.map(\.box) == [square], "frame \(step)")
        }
    }

    @Test("static noise of +-20 grey levels gives no regions", arguments: [4, 12, 20])
    func staticNoise(noise: Int) {
        var scene = MotionTestScene(noise: noise)
        let detector = MotionDetector(width: scene.width, height: scene.height)
        var regionFrames = 0
        var largestFraction = 0.0
        for _ in 0..<200 {
            let result = detector.update(image: scene.frame())
            if !result.regions.isEmpty { regionFrames += 1 }
            largestFraction = max(largestFraction, result.changedFraction)
        }
        #expect(regionFrames == 0)
        #expect(largestFraction == 0)
        #expect(detector.counters.lightingChanges == 0)
    }

    @Test("a sudden rise in noise (sensor gain) is neither motion nor a lighting change")
    func noiseRise() {
        var scene = MotionTestScene(noise: 3)
        let detector = MotionDetector(width: scene.width, height: scene.height)
        learnEmptyScene(detector, &scene)
        scene.noise = 20
        for step in 0..<50 {
            #expect(detector.update(image: scene.frame()).regions.isEmpty, "frame \(step)")
        }
        #expect(detector.counters.lightingChanges == 0)
    }

    @Test("a sudden +60 brightness jump is a lighting change, not a frame-sized region; motion is still found")
    func brightnessJump() {
        var scene = MotionTestScene()
        let detector = MotionDetector(width: scene.width, height: scene.height)
        learnEmptyScene(detector, &scene, frames: 40)
        for step in 0..<40 {
            let square = DetectionBox(x: 10 + 3 * step, y: 50, width: 14, height: 14)
            let brightness = step >= 10 ? 60 : 0
            let result = detector.update(image: scene.frame(squares: [square], brightness: brightness))
            #expect(result.lightingChange == (step == 10), "frame \(step)")
            // The offset is compensated on the jump frame itself, so the square is still there
            // and nothing else is. While the background re-learns fast the square may drag a
            // pixel of trail.
            #expect(result.regions.count == 1, "frame \(step)")
            if let box = result.regions.first?.box {
                #expect(box.intersectionOverUnion(square) >= 0.8, "frame \(step): \(box) for \(square)")
                #expect(box.x <= square.x && box.y <= square.y && box.x + box.width >= square.x + square.width
                        && box.y + box.height >= square.y + square.height, "frame \(step): \(box) for \(square)")
            }
            #expect(result.changedFraction < 0.05)
        }
        #expect(detector.counters.lightingChanges == 1)
        #expect(detector.counters.backgroundResets == 0)
    }

    @Test("a gain change (x1.6) gives no frame-sized region and is counted")
    func gainChange() {
        var scene = MotionTestScene()
        let detector = MotionDetector(width: scene.width, height: scene.height)
        learnEmptyScene(detector, &scene)
        var largest = 0
        for step in 0..<30 {
            let result = detector.update(image: scene.frame(gain: step >= 5 ? 1.6 : 1))
            largest = max(largest, result.regions.map(\.area).max() ?? 0)
            if step >= 5 { #expect(result.changedFraction < 0.5, "frame \(step)") }
        }
        #expect(detector.counters.lightingChanges >= 1)
        #expect(largest < scene.width * scene.height / 10)
        // Settled afterwards: a square is found alone.
        let square = DetectionBox(x: 60, y: 40, width: 12, height: 20)
        let result = detector.update(image: scene.frame(squares: [square], gain: 1.6))
        #expect(result.regions.map(\.box) == [square])
    }

    @Test("a still object stays foreground for 100 frames while frozen, and melts when not")
    func frozenStillObject() {
        let person = DetectionBox(x: 70, y: 40, width: 14, height: 30)
        var frozenScene = MotionTestScene(), meltingScene = MotionTestScene()
        let frozenDetector = MotionDetector(width: 160, height: 120)
        let meltingDetector = MotionDetector(width: 160, height: 120)
        learnEmptyScene(frozenDetector, &frozenScene)
        learnEmptyScene(meltingDetector, &meltingScene)
        var meltedAt: Int?
        for step in 0..<100 {
            let meltingResult = meltingDetector.update(image: meltingScene.frame(squares: [person], contrast: 70))
            if meltedAt == nil && meltingResult.regions.isEmpty { meltedAt = step }
            let frozenResult = frozenDetector.update(image: frozenScene.frame(squares: [person], contrast: 70), frozen: [person])
            #expect(frozenResult.regions.map(\.box) == [person], "frame \(step)")
            #expect(frozenResult.foreground.count(in: person) == person.area, "frame \(step)")
            if step == 99 {
                let centre = (person.y + person.height / 2) * 160 + person.x + person.width / 2
                let backdrop = Int(frozenScene.backdrop[centre])
                #expect(abs(Int(frozenDetector.backgroundImage()[centre]) - backdrop) <= 2)
                #expect(Int(meltingDetector.backgroundImage()[centre]) - backdrop >= 25)
            }
        }
        #expect(meltedAt != nil, "without freezing the still object must become background")
        // Still foreground learns at the normal rate (0.03): contrast 70 falls under the
        // threshold of 12 after about 60 frames.
        if let meltedAt { #expect(meltedAt > 30 && meltedAt < 100, "melted at frame \(meltedAt)") }
        let last = meltingDetector.update(image: meltingScene.frame(squares: [person], contrast: 70))
        #expect(last.foreground.count(in: person) == 0)
        // Once unfrozen, the frozen one melts too.
        var unfrozenMelted = false
        for _ in 0..<100 where !unfrozenMelted {
            unfrozenMelted = frozenDetector.update(image: frozenScene.frame(squares: [person], contrast: 70)).regions.isEmpty
        }
        #expect(unfrozenMelted)
    }

    @Test("isolated pixels and 2x2 specks are removed; a 5x5 block is kept")
    func speckle() {
        var scene = MotionTestScene(noise: 0)
        let detector = MotionDetector(width: scene.width, height: scene.height)
        learnEmptyScene(detector, &scene, frames: 5)
        var specks: [DetectionBox] = []
        // A lattice of single pixels and 2x2 specks, at least 2 pixels apart so closing cannot
        // join them into something that survives.
        for row in stride(from: 4, to: 100, by: 6) {
            for column in stride(from: 4, to: 150, by: 6) {
                let size = (row / 6 + column / 6) % 2 == 0 ? 1 : 2
                specks.append(DetectionBox(x: column, y: row, width: size, height: size))
            }
        }
        let speckled = detector.update(image: scene.frame(squares: specks, contrast: 100))
        #expect(speckled.regions.isEmpty)
        #expect(speckled.changedFraction == 0)
        let block = DetectionBox(x: 40, y: 108, width: 5, height: 5)
        let withBlock = detector.update(image: scene.frame(squares: specks + [block], contrast: 100))
        #expect(withBlock.regions.map(\.box) == [block])
    }

    @Test("ignore rectangles and an ignore bitmap suppress motion inside them and clip it at their edge")
    func ignoreMask() {
        let ignored = DetectionBox(x: 0, y: 0, width: 80, height: 120)
        var configuration = MotionConfiguration()
        configuration.ignoreRectangles = [ignored]
        var scene = MotionTestScene()
        let detector = MotionDetector(width: scene.width, height: scene.height, configuration: configuration)
        var bitmap = [UInt8](repeating: 0, count: 160 * 120)
        for row in 0..<120 { for column in 0..<80 { bitmap[row * 160 + column] = 1 } }
        let bitmapDetector = MotionDetector(width: 160, height: 120)
        bitmapDetector.setIgnore(rectangles: [], bitmap: bitmap)
        var bitmapScene = MotionTestScene()
        learnEmptyScene(detector, &scene)
        learnEmptyScene(bitmapDetector, &bitmapScene)

        let inside = DetectionBox(x: 20, y: 20, width: 20, height: 20)
        #expect(detector.update(image: scene.frame(squares: [inside])).regions.isEmpty)
        #expect(bitmapDetector.update(image: bitmapScene.frame(squares: [inside])).regions.isEmpty)
        let straddling = DetectionBox(x: 70, y: 60, width: 20, height: 20)
        let clipped = DetectionBox(x: 80, y: 60, width: 10, height: 20)
        #expect(detector.update(image: scene.frame(squares: [straddling])).regions.map(\.box) == [clipped])
        #expect(bitmapDetector.update(image: bitmapScene.frame(squares: [straddling])).regions.map(\.box) == [clipped])
        // Control: without the mask the same square is reported.
        var plainScene = MotionTestScene()
        let plain = MotionDetector(width: 160, height: 120)
        learnEmptyScene(plain, &plainScene)
        #expect(plain.update(image: plainScene.frame(squares: [inside])).regions.map(\.box) == [inside])
    }

    @Test("regions outside the area limits are dropped and counted")
    func areaFilter() {
        var configuration = MotionConfiguration()
        configuration.minimumAreaFraction = 30.0 / (160 * 120)
        configuration.maximumAreaFraction = 1000.0 / (160 * 120)
        var scene = MotionTestScene()
        let detector = MotionDetector(width: 160, height: 120, configuration: configuration)
        learnEmptyScene(detector, &scene)
        let small = DetectionBox(x: 10, y: 10, width: 5, height: 5)
        let medium = DetectionBox(x: 40, y: 10, width: 10, height: 10)
        let large = DetectionBox(x: 80, y: 40, width: 40, height: 30)
        let result = detector.update(image: scene.frame(squares: [small, medium, large]))
        #expect(result.regions.map(\.box) == [medium])
        #expect(detector.counters.regionsFilteredBySize == 2)
        #expect(detector.counters.regionsReported == 1)
    }

    @Test("boxes scale to full-frame pixels and back, outwards")
    func fullFrameScaling() {
        let region = MotionRegion(box: DetectionBox(x: 3, y: 5, width: 7, height: 11), area: 40)
        #expect(region.fullFrameBox(factor: 4) == DetectionBox(x: 12, y: 20, width: 28, height: 44))
        #expect(downscaledBox(region.fullFrameBox(factor: 4), factor: 4) == region.box)
        // Outwards: x 13 ..< 31 touches analysed columns 3 ... 7.
        #expect(downscaledBox(DetectionBox(x: 13, y: 21, width: 18, height: 3), factor: 4) == DetectionBox(x: 3, y: 5, width: 5, height: 1))
        #expect(downscaledBox(DetectionBox(x: -5, y: -4, width: 6, height: 4), factor: 4) == DetectionBox(x: -2, y: -1, width: 3, height: 1))
    }

    @Test("steady state reuses the same buffers when the caller drops each result")
    func buffersAreReused() {
        var scene = MotionTestScene()
        let detector = MotionDetector(width: scene.width, height: scene.height)
        learnEmptyScene(detector, &scene)
        var regionAddresses: Set<UInt> = []
        var maskAddresses: Set<UInt> = []
        for step in 0..<20 {
            let image = scene.frame(squares: [DetectionBox(x: 10 + 5 * step, y: 40, width: 10, height: 10)])
            let result = detector.update(image: image)
            #expect(result.regions.count == 1)
            result.regions.withUnsafeBufferPointer { _ = regionAddresses.insert(UInt(bitPattern: $0.baseAddress)) }
            result.foreground.pixels.withUnsafeBufferPointer { _ = maskAddresses.insert(UInt(bitPattern: $0.baseAddress)) }
        }
        #expect(regionAddresses.count == 1)
        #expect(maskAddresses.count == 1)
    }
}
