// The kernels under motion detection against plain references on random inputs of odd sizes
// and strides: connected components against a flood fill, and the SIMD 3x3 erosion and dilation
// against the nine-neighbour scalar loop (also in place).

import Testing
import Frames
import Analysis

/// Reference labelling: flood fill (8-connected) from each unlabelled foreground pixel in raster
/// order, so labels are numbered by the raster order of each component's first pixel.
func floodFillLabels(mask: [UInt8], width: Int, height: Int, stride: Int) -> (labels: [Int32], components: [MaskComponent]) {
    var labels = [Int32](repeating: 0, count: width * height)
    var components: [MaskComponent] = []
    var pending: [(Int, Int)] = []
    for row in 0..<height {
        for column in 0..<width where mask[row * stride + column] != 0 && labels[row * width + column] == 0 {
            let label = Int32(components.count + 1)
            var left = column, right = column, top = row, bottom = row, area = 0
            labels[row * width + column] = label
            pending.append((column, row))
            while let (x, y) = pending.popLast() {
                area += 1
                left = min(left, x); right = max(right, x); top = min(top, y); bottom = max(bottom, y)
                for neighbourY in max(y - 1, 0)...min(y + 1, height - 1) {
                    for neighbourX in max(x - 1, 0)...min(x + 1, width - 1)
                    where mask[neighbourY * stride + neighbourX] != 0 && labels[neighbourY * width + neighbourX] == 0 {
                        labels[neighbourY * width + neighbourX] = label
                        pending.append((neighbourX, neighbourY))
                    }
                }
            }
            components.append(MaskComponent(box: DetectionBox(x: left, y: top, width: right - left + 1, height: bottom - top + 1), area: area))
        }
    }
    return (labels, components)
}

let motionKernelSizes: [(width: Int, height: Int)] = [(1, 1), (1, 17), (17, 1), (2, 2), (13, 7), (31, 29), (33, 3), (161, 121)]

@Suite("Motion kernels")
struct MotionComponentsTests {
    @Test("connected components equal a flood fill on random masks of odd sizes and strides")
    func componentsMatchFloodFill() {
        var random = MotionTestRandom(state: 7)
        let labeler = ConnectedComponents(maximumWidth: 161, maximumHeight: 121)
        var checked = 0
        for size in motionKernelSizes {
            for density in [5, 30, 45, 60, 90] {
                for padding in [0, 3] {
                    let stride = size.width + padding
                    var mask = [UInt8](repeating: 0, count: stride * size.height)
                    for index in mask.indices { mask[index] = random.next(in: 0...99) < density ? 255 : 0 }
                    // Padding bytes set to foreground: the labeler must not read past the width.
                    for row in 0..<size.height { for column in size.width..<stride { mask[row * stride + column] = 255 } }
                    let count = mask.withUnsafeBytes {
                        labeler.label(mask: $0.baseAddress!, width: size.width, height: size.height, stride: stride)
                    }
                    let reference = floodFillLabels(mask: mask, width: size.width, height: size.height, stride: stride)
                    #expect(count == reference.components.count, "\(size) density \(density)")
                    #expect(labeler.components == reference.components, "\(size) density \(density)")
                    #expect(Array(labeler.labels[0..<(size.width * size.height)]) == reference.labels, "\(size) density \(density)")
                    checked += 1
                }
            }
        }
        #expect(checked == motionKernelSizes.count * 10)
    }

    @Test("a U shape and a diagonal chain are one component each (merging, 8-connectivity)")
    func shapes() {
        let rows = [
            "#...#.#...",
            "#...#..#..",
            "#...#...#.",
            "#####.....",
        ]
        let width = rows[0].count, height = rows.count
        let mask = rows.flatMap { $0.map { $0 == "#" ? UInt8(255) : 0 } }
        let labeler = ConnectedComponents(maximumWidth: width, maximumHeight: height)
        let count = mask.withUnsafeBytes { labeler.label(mask: $0.baseAddress!, width: width, height: height, stride: width) }
        #expect(count == 2)
        #expect(labeler.components == [
            MaskComponent(box: DetectionBox(x: 0, y: 0, width: 5, height: 4), area: 11),
            MaskComponent(box: DetectionBox(x: 6, y: 0, width: 3, height: 3), area: 3),
        ])
    }

    @Test("3x3 erosion and dilation equal the scalar reference, out of place and in place", arguments: [true, false])
    func morphologyMatchesReference(erosion: Bool) {
        var random = MotionTestRandom(state: 11)
        for size in motionKernelSizes {
            for padding in [0, 5] {
                let stride = size.width + padding
                var source = [UInt8](repeating: 0, count: stride * size.height)
                for index in source.indices {
                    // Half grey noise, half binary: both uses of the kernel.
                    source[index] = index % 2 == 0 ? UInt8(random.next(in: 0...255)) : (random.next(in: 0...3) == 0 ? 255 : 0)
                }
                var expected = [UInt8](repeating: 0, count: size.width * size.height)
                var actual = expected
                var scratch = [UInt8](repeating: 0, count: morphologyScratchCount(width: size.width, height: size.height))
                source.withUnsafeBytes { input in
                    expected.withUnsafeMutableBytes { output in
                        morphology3x3Reference(source: input.baseAddress!, width: size.width, height: size.height, stride: stride,
                                               destination: output.baseAddress!, destinationStride: size.width, erosion: erosion)
                    }
                    actual.withUnsafeMutableBytes { output in
                        scratch.withUnsafeMutableBytes { temporary in
                            let kernel = erosion ? erode3x3 : dilate3x3
                            kernel(input.baseAddress!, size.width, size.height, stride, output.baseAddress!, size.width, temporary.baseAddress!)
                        }
                    }
                }
                #expect(actual == expected, "\(size) stride \(stride)")
                // In place, with the source's stride.
                var inPlace = source
                inPlace.withUnsafeMutableBytes { plane in
                    scratch.withUnsafeMutableBytes { temporary in
                        let kernel = erosion ? erode3x3 : dilate3x3
                        kernel(plane.baseAddress!, size.width, size.height, stride, plane.baseAddress!, stride, temporary.baseAddress!)
                    }
                }
                var inPlaceRows: [UInt8] = []
                for row in 0..<size.height { inPlaceRows += inPlace[(row * stride)..<(row * stride + size.width)] }
                #expect(inPlaceRows == expected, "in place \(size) stride \(stride)")
            }
        }
    }
}
