// The coefficient-domain editor: untouched blocks come back bit-exact, fill and pixelate write
// exactly what they promise (checked on coefficients and on decoded pixels), for 4:2:0, 4:2:2,
// greyscale and odd sizes; bad input is a typed error and a counter; the output never carries
// the input's APPn/COM markers; webcam MJPEG without Huffman tables works.

import Foundation
import Testing
import Codec
import Frames

extension JPEGCoefficientEditor {
    /// Reads `jpeg`, lets `edit` change the blocks, and returns the rewritten JPEG (allocates).
    func rewrite(_ jpeg: [UInt8], capacity: Int? = nil,
                 _ edit: (JPEGCoefficientEditor, JPEGBlockGeometry) -> Void = { _, _ in }) throws -> [UInt8] {
        let geometry = try jpeg.withUnsafeBytes { bytes in try read(bytes) }
        edit(self, geometry)
        let size = capacity ?? JPEGCoefficientEditor.maximumOutputSize(width: geometry.width, height: geometry.height,
                                                                       subsampling: geometry.header.subsampling)
        var output = [UInt8](repeating: 0, count: size)
        let written = try output.withUnsafeMutableBytes { buffer in try write(into: buffer) }
        return Array(output[..<written])
    }
}

/// One test image of each block structure the editor must handle.
enum CoefficientSamples {
    static func frame420() throws -> [UInt8] { try Fixtures.mjpegFrames("vtest_640x480.mjpeg", count: 1)[0] }
    static func frame422() throws -> [UInt8] { try Fixtures.mjpegFrames("vtest_640x480_422.mjpeg", count: 1)[0] }

    /// A greyscale JPEG of the footage's first frame's luma, made by the project's own encoder.
    static func grey() throws -> [UInt8] {
        let pool = makePool()
        let decoder = JPEGDecoder()
        let decoded = try decoder.decode(try frame420(), pool: pool, output: .gray)
        return try JPEGEncoder().encode(decoded, quality: 80)
    }

    static func all() throws -> [(name: String, jpeg: [UInt8])] {
        [("4:2:0", try frame420()), ("4:2:2", try frame422()), ("grey", try grey()),
         ("4:2:0 641x479", try makeJPEG(width: 641, height: 479, pixelFormat: "yuvj420p")),
         ("4:2:2 333x201", try makeJPEG(width: 333, height: 201, pixelFormat: "yuvj422p"))]
    }
}

/// Every plane's samples of a decoded JPEG.
func decodedPlanes(_ jpeg: [UInt8]) throws -> [[UInt8]] {
    let frame = try JPEGDecoder().decode(jpeg, pool: makePool(count: 1))
    return (0..<frame.layout.planes.count).map { frame.samples($0) }
}

/// The pixel rectangle of one component's block in its own plane.
func blockSamples(_ plane: [UInt8], planeWidth: Int, planeHeight: Int, column: Int, row: Int) -> [UInt8] {
    var samples: [UInt8] = []
    for y in (row * 8)..<min(row * 8 + 8, planeHeight) {
        for x in (column * 8)..<min(column * 8 + 8, planeWidth) { samples.append(plane[y * planeWidth + x]) }
    }
    return samples
}

@Suite("JPEG coefficient editing")
struct CoefficientTests {
    @Test("a read and write without edits decodes to exactly the original pixels")
    func unchangedRoundTrip() throws {
        let editor = JPEGCoefficientEditor()
        for (name, jpeg) in try CoefficientSamples.all() {
            let rewritten = try editor.rewrite(jpeg)
            #expect(try decodedPlanes(rewritten) == decodedPlanes(jpeg), "\(name)")
        }
        #expect(editor.counters.decoded == 5 && editor.counters.failed == 0)
    }

    @Test("one entropy decode for both: the luma decoded with the coefficients equals a grey decode, and the rewrite is unchanged")
    func readDecodingLuma() throws {
        let editor = JPEGCoefficientEditor()
        let decoder = JPEGDecoder()
        let pool = makePool(count: 3)
        let progressive = try Tools.run("cjpeg", ["-quality", "80", "-progressive", try Fixtures.path("stills/frame_002.ppm")])
        // Sequential but one scan per component: each scan's Huffman decoder must store chroma.
        let directory = try Tools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let scans = directory.appendingPathComponent("scans.txt")
        try Tools.write(Array("0;\n1;\n2;\n".utf8), to: scans)
        let multiScan = try Tools.run("cjpeg", ["-quality", "80", "-scans", scans.path, try Fixtures.path("stills/frame_003.ppm")])
        for (name, jpeg) in try CoefficientSamples.all() + [("progressive", progressive), ("one scan per component", multiScan)] {
            let reference = try decoder.decode(jpeg, pool: pool, output: .gray)
            let plain = try editor.rewrite(jpeg)
            var luma = try acquire(pool, FrameLayout(format: .i420, width: 16, height: 16))
            let geometry = try jpeg.withUnsafeBytes { try editor.read($0, decodingLumaInto: &luma) }
            #expect(luma.format == .gray8 && luma.width == geometry.width && luma.height == geometry.height, "\(name)")
            #expect(luma.samples(0) == reference.samples(0), "\(name): luma differs from a grey decode")
            var output = [UInt8](repeating: 0, count: plain.count + 4096)
            let written = try output.withUnsafeMutableBytes { try editor.write(into: $0) }
            let rewritten = Array(output[..<written])
            #expect(rewritten.count == plain.count && rewritten == plain, "\(name): the rewrite differs")
            #expect(try decodedPlanes(rewritten) == decodedPlanes(plain), "\(name): the rewrite decodes differently")
        }
        // Too small a frame for the luma: typed error, and the editor goes on.
        let small = FramePool(count: 1, bufferCapacity: 1000)
        var tiny = try acquire(small, FrameLayout(format: .gray8, width: 8, height: 8))
        let jpeg = try CoefficientSamples.frame420()
        #expect(throws: JPEGError.frameTooSmall(needed: FrameLayout(format: .gray8, width: 640, height: 480).byteCount, capacity: 1000)) {
            try jpeg.withUnsafeBytes { _ = try editor.read($0, decodingLumaInto: &tiny) }
        }
        var luma = try acquire(pool, FrameLayout(format: .gray8, width: 8, height: 8))
        #expect(throws: JPEGError.truncated) {
            try Array(jpeg[..<(jpeg.count / 2)]).withUnsafeBytes { _ = try editor.read($0, decodingLumaInto: &luma) }
        }
        #expect(editor.counters.frameTooSmall == 1 && editor.counters.truncated == 1)
        #expect(try decodedPlanes(editor.rewrite(jpeg)) == decodedPlanes(jpeg))
    }

    @Test("geometry: MCU size and block grids follow the sampling factors")
    func geometry() throws {
        let editor = JPEGCoefficientEditor()
        let expectations: [(String, [UInt8], Int, Int, [Int])] = [
            ("4:2:0", try CoefficientSamples.frame420(), 16, 16, [80, 60, 40, 30, 40, 30]),
            // ffmpeg writes 4:2:2 as luma 2x2 and chroma 1x2, so its MCUs are 16x16.
            ("4:2:2", try CoefficientSamples.frame422(), 16, 16, [80, 60, 40, 60, 40, 60]),
            ("4:2:2 from cjpeg", try Tools.run("cjpeg", ["-sample", "2x1", try Fixtures.path("stills/frame_001.ppm")]),
             16, 8, [80, 60, 40, 60, 40, 60]),
            ("grey", try CoefficientSamples.grey(), 8, 8, [80, 60]),
            ("641x479", try makeJPEG(width: 641, height: 479, pixelFormat: "yuvj420p"), 16, 16, [81, 60, 41, 30, 41, 30]),
        ]
        for (name, jpeg, mcuWidth, mcuHeight, grids) in expectations {
            let geometry = try jpeg.withUnsafeBytes { try editor.read($0) }
            editor.abort()
            #expect(geometry.mcuWidth == mcuWidth && geometry.mcuHeight == mcuHeight, "\(name)")
            #expect(geometry.componentCount == grids.count / 2, "\(name)")
            for component in 0..<geometry.componentCount {
                let blocks = geometry.component(component)
                #expect(blocks.widthInBlocks == grids[2 * component] && blocks.heightInBlocks == grids[2 * component + 1],
                        "\(name) component \(component): \(blocks)")
                #expect(blocks.dcQuantizer >= 1, "\(name) component \(component)")
            }
        }
    }

    @Test("fill everything: every sample of every plane decodes to 128")
    func fillAll() throws {
        let editor = JPEGCoefficientEditor()
        for (name, jpeg) in try CoefficientSamples.all() {
            var bits = 0
            let filled = try editor.rewrite(jpeg) { editor, geometry in
                editor.fillAll()
                // With the standard tables a zero block is a 2-bit DC difference and an end of
                // block of 4 bits (luma) or 2 bits (chroma); MCU padding blocks cost the same.
                for component in 0..<geometry.componentCount {
                    let blocks = geometry.component(component)
                    let padded = (blocks.widthInBlocks + blocks.horizontalSampling) * (blocks.heightInBlocks + blocks.verticalSampling)
                    bits += padded * (component == 0 ? 6 : 4)
                }
            }
            for (index, plane) in try decodedPlanes(filled).enumerated() {
                #expect(plane.allSatisfy { $0 == 128 }, "\(name) plane \(index)")
            }
            // Headers (JFIF, tables, frame and scan) are under 700 bytes.
            #expect(filled.count <= bits / 8 + 700, "\(name): a flat image is only DC differences and end-of-blocks (\(filled.count) bytes)")
        }
    }

    @Test("fill by mask: masked MCUs decode to 128 in every plane, all other pixels are bit-exact")
    func fillMasked() throws {
        let editor = JPEGCoefficientEditor()
        for (name, jpeg) in try CoefficientSamples.all() {
            let original = try decodedPlanes(jpeg)
            var maskedMCUs = Set<Int>()
            var geometryRead: JPEGBlockGeometry?
            let filled = try editor.rewrite(jpeg) { editor, geometry in
                geometryRead = geometry
                // A diagonal band and the last (cut) MCU column and row.
                var mask = [UInt8](repeating: 0, count: geometry.mcuColumns * geometry.mcuRows)
                for row in 0..<geometry.mcuRows {
                    for column in 0..<geometry.mcuColumns
                    where abs(column - row) <= 1 || column == geometry.mcuColumns - 1 || row == geometry.mcuRows - 1 {
                        mask[row * geometry.mcuColumns + column] = 1
                        maskedMCUs.insert(row * geometry.mcuColumns + column)
                    }
                }
                mask.withUnsafeBytes { bytes in
                    editor.apply(.fill, region: PixelRectangle(left: 0, top: 0, right: geometry.mcuColumns, bottom: geometry.mcuRows),
                                 mcuMask: bytes.baseAddress, maskStride: geometry.mcuColumns)
                }
            }
            let geometry = try #require(geometryRead)
            let planes = try decodedPlanes(filled)
            let frame = try JPEGDecoder().decode(jpeg, pool: makePool(count: 1))
            for index in planes.indices {
                let plane = frame.plane(index)
                // Plane samples per MCU along each axis.
                let perColumn = geometry.mcuWidth * plane.width / max(geometry.width, 1)
                let perRow = geometry.mcuHeight * plane.height / max(geometry.height, 1)
                var wrong = 0, changed = 0
                for y in 0..<plane.height {
                    for x in 0..<plane.width {
                        let mcu = (y / max(perRow, 1)) * geometry.mcuColumns + x / max(perColumn, 1)
                        let sample = planes[index][y * plane.width + x]
                        if maskedMCUs.contains(mcu) {
                            if sample != 128 { wrong += 1 }
                        } else if sample != original[index][y * plane.width + x] {
                            changed += 1
                        }
                    }
                }
                #expect(wrong == 0, "\(name) plane \(index): \(wrong) masked samples are not 128")
                #expect(changed == 0, "\(name) plane \(index): \(changed) samples outside the mask changed")
            }
        }
    }

    @Test("pixelate: each cell's blocks get the rounded mean of its quantised DCs and no AC")
    func pixelateCoefficients() throws {
        let jpeg = try CoefficientSamples.frame420()
        let editor = JPEGCoefficientEditor()
        let geometry = try jpeg.withUnsafeBytes { try editor.read($0) }
        // A region of 5x3 MCUs at (3, 2), cells of 32 pixels: 4x4 luma blocks, 2x2 chroma blocks,
        // the last column of cells cut to 2 luma blocks (1 chroma block) by the region's edge.
        let region = PixelRectangle(left: 3, top: 2, right: 8, bottom: 5)
        var before: [[[Int16]]] = []
        for component in 0..<3 {
            let blocks = geometry.component(component)
            before.append((0..<blocks.heightInBlocks).flatMap { row in
                (0..<blocks.widthInBlocks).map { editor.blockCoefficients(component: component, column: $0, row: row)! }
            })
        }
        editor.apply(.pixelate(cellSize: 32), region: region, mcuMask: nil, maskStride: 0)
        for component in 0..<3 {
            let blocks = geometry.component(component)
            let factor = component == 0 ? 2 : 1
            let cell = component == 0 ? 4 : 2
            let left = region.left * factor, top = region.top * factor
            let right = region.right * factor, bottom = region.bottom * factor
            for row in 0..<blocks.heightInBlocks {
                for column in 0..<blocks.widthInBlocks {
                    let after = try #require(editor.blockCoefficients(component: component, column: column, row: row))
                    let original = before[component][row * blocks.widthInBlocks + column]
                    guard column >= left, column < right, row >= top, row < bottom else {
                        #expect(after == original, "component \(component) block (\(column), \(row)) outside the region changed")
                        continue
                    }
                    let cellLeft = left + (column - left) / cell * cell, cellTop = top + (row - top) / cell * cell
                    var sum = 0, count = 0
                    for y in cellTop..<min(cellTop + cell, bottom) {
                        for x in cellLeft..<min(cellLeft + cell, right) {
                            sum += Int(before[component][y * blocks.widthInBlocks + x][0])
                            count += 1
                        }
                    }
                    let mean = (Double(sum) / Double(count)).rounded(.toNearestOrAwayFromZero)
                    #expect(Int(after[0]) == Int(mean), "component \(component) block (\(column), \(row))")
                    #expect(after[1...].allSatisfy { $0 == 0 }, "component \(component) block (\(column), \(row)) kept AC")
                }
            }
        }
        editor.abort()
    }

    @Test("pixelate by mask: masked cells decode flat, unmasked blocks of a cell are untouched")
    func pixelateMasked() throws {
        let editor = JPEGCoefficientEditor()
        for (name, jpeg) in try CoefficientSamples.all() {
            let original = try decodedPlanes(jpeg)
            var read: JPEGBlockGeometry?
            var mask: [UInt8] = []
            let region = PixelRectangle(left: 2, top: 2, right: 10, bottom: 9)
            let pixelated = try editor.rewrite(jpeg) { editor, geometry in
                read = geometry
                mask = [UInt8](repeating: 0, count: geometry.mcuColumns * geometry.mcuRows)
                // A checkerboard of masked MCUs inside the region.
                for row in region.top..<region.bottom {
                    for column in region.left..<region.right where (row + column) % 2 == 0 { mask[row * geometry.mcuColumns + column] = 1 }
                }
                mask.withUnsafeBytes { bytes in
                    editor.apply(.pixelate(cellSize: 16), region: region, mcuMask: bytes.baseAddress, maskStride: geometry.mcuColumns)
                }
            }
            let geometry = try #require(read)
            let luma = try decodedPlanes(pixelated)[0]
            let width = geometry.width, height = geometry.height
            var flat = 0, maskedCount = 0, changed = 0
            for row in 0..<geometry.mcuRows {
                for column in 0..<geometry.mcuColumns {
                    var samples: [UInt8] = [], originals: [UInt8] = []
                    for y in (row * geometry.mcuHeight)..<min((row + 1) * geometry.mcuHeight, height) {
                        for x in (column * geometry.mcuWidth)..<min((column + 1) * geometry.mcuWidth, width) {
                            samples.append(luma[y * width + x])
                            originals.append(original[0][y * width + x])
                        }
                    }
                    if mask[row * geometry.mcuColumns + column] != 0 {
                        maskedCount += 1
                        // One MCU is at most one cell (16 pixels at 4:2:0, 16x8 at 4:2:2, 2x2
                        // greyscale blocks), so each masked MCU decodes to one value.
                        if Set(samples).count == 1 { flat += 1 }
                    } else if samples != originals {
                        changed += 1
                    }
                }
            }
            #expect(maskedCount > 10 && flat == maskedCount, "\(name): \(flat) of \(maskedCount) masked MCUs are flat")
            #expect(changed == 0, "\(name): \(changed) unmasked MCUs changed")
        }
    }

    @Test("truncated, corrupt and empty input: typed errors, counted, and the editor keeps working")
    func badInput() throws {
        let jpeg = try CoefficientSamples.frame420()
        let editor = JPEGCoefficientEditor()
        func failure(_ bytes: [UInt8]) -> JPEGError? {
            do {
                try bytes.withUnsafeBytes { _ = try editor.read($0) }
                editor.abort()
                return nil
            } catch {
                return error as? JPEGError
            }
        }
        #expect(failure([]) == .empty)
        #expect(failure([0x00, 0x01, 0x02, 0x03]) == .notJPEG)
        let offsets = Array(stride(from: 3, to: jpeg.count, by: 997)) + [jpeg.count - 3]
        for offset in offsets {
            #expect(failure(Array(jpeg[..<offset])) == .truncated, "cut at \(offset) of \(jpeg.count)")
        }
        var generator = SplitMix64(state: 0xC0EF)
        var corruptFailures = 0
        for _ in 0..<100 {
            let length = Int.random(in: 1...3000, using: &generator)
            if failure([0xFF, 0xD8] + (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }) != nil {
                corruptFailures += 1
            }
        }
        #expect(corruptFailures == 100, "random bytes after an SOI always fail")
        let counters = editor.counters
        #expect(counters.empty == 1 && counters.notJPEG >= 1 && counters.truncated >= offsets.count)
        #expect(counters.failed == 2 + offsets.count + 100)
        #expect(counters.decoded == 0)
        // After all that, a good frame still round-trips exactly.
        #expect(try decodedPlanes(editor.rewrite(jpeg)) == decodedPlanes(jpeg))
    }

    @Test("random byte damage anywhere: each frame is either rewritten (and decodes) or a typed error, all counted")
    func damagedFrames() throws {
        let jpeg = try CoefficientSamples.frame420()
        let editor = JPEGCoefficientEditor()
        var generator = SplitMix64(state: 0xDA_3A6E)
        var rewritten = 0, failed = 0
        for _ in 0..<300 {
            var damaged = jpeg
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                damaged[Int.random(in: 2..<damaged.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            do {
                let output = try editor.rewrite(damaged) { editor, geometry in
                    editor.apply(.pixelate(cellSize: 32), region: PixelRectangle(left: 0, top: 0, right: geometry.mcuColumns, bottom: 4),
                                 mcuMask: nil, maskStride: 0)
                }
                // Damage a decoder cannot detect (one valid code turned into another) still
                // yields a well-formed JPEG.
                _ = try decodedPlanes(output)
                rewritten += 1
            } catch is JPEGError {
                failed += 1
            }
        }
        #expect(rewritten + failed == 300 && failed > 100, "\(rewritten) rewritten, \(failed) failed")
        #expect(editor.counters.decoded == rewritten && editor.counters.failed == failed)
    }

    @Test("an output buffer too small is .outputTooSmall, counted, and the next frame works")
    func outputTooSmall() throws {
        let jpeg = try CoefficientSamples.frame420()
        let editor = JPEGCoefficientEditor()
        let complete = try editor.rewrite(jpeg)
        for capacity in [1, 600, complete.count - 1] {
            #expect(throws: JPEGError.outputTooSmall(capacity: capacity)) { _ = try editor.rewrite(jpeg, capacity: capacity) }
        }
        #expect(try editor.rewrite(jpeg, capacity: complete.count) == complete, "an exact fit succeeds")
        #expect(editor.counters.frameTooSmall == 3 && editor.counters.decoded == 2)
    }

    @Test("a JPEG larger than the dimension limit is rejected before its coefficients are read")
    func tooLarge() throws {
        let editor = JPEGCoefficientEditor(maximumDimension: 320)
        let jpeg = try CoefficientSamples.frame420()
        #expect(throws: JPEGError.tooLarge(width: 640, height: 480, limit: 320)) {
            try jpeg.withUnsafeBytes { _ = try editor.read($0) }
        }
        #expect(editor.counters.tooLarge == 1)
    }

    @Test("a memory cap below the coefficient arrays' size is .limitExceeded, and the editor still works")
    func memoryLimit() throws {
        // 640x480 4:2:0 holds 1200 MCUs of 6 blocks of 128 bytes: 921,600 bytes of coefficients.
        let jpeg = try CoefficientSamples.frame420()
        let editor = JPEGCoefficientEditor(maximumMemory: 512 * 1024)
        #expect(throws: JPEGError.self) { try jpeg.withUnsafeBytes { _ = try editor.read($0) } }
        #expect(editor.counters.limitExceeded == 1)
        let roomy = JPEGCoefficientEditor(maximumMemory: 2 << 20)
        #expect(try decodedPlanes(roomy.rewrite(jpeg)) == decodedPlanes(jpeg))
    }

    @Test("MJPEG without Huffman tables (UVC webcams) is read with the standard tables")
    func missingHuffmanTables() throws {
        let complete = try Tools.run("cjpeg", ["-quality", "75", "-sample", "2x1", try Fixtures.path("stills/frame_005.ppm")])
        var stripped: [UInt8] = [0xFF, 0xD8]
        var index = 2
        while index + 4 <= complete.count, complete[index] == 0xFF {
            let marker = complete[index + 1]
            if marker == 0xDA { stripped += complete[index...]; break }
            let length = Int(complete[index + 2]) << 8 | Int(complete[index + 3])
            if marker != 0xC4 { stripped += complete[index..<(index + 2 + length)] }
            index += 2 + length
        }
        #expect(stripped.count < complete.count - 100, "the DHT segments were removed")
        let editor = JPEGCoefficientEditor()
        let fromStripped = try editor.rewrite(stripped) { editor, geometry in
            editor.apply(.fill, region: PixelRectangle(left: 0, top: 0, right: 4, bottom: 4), mcuMask: nil, maskStride: 0)
        }
        let fromComplete = try editor.rewrite(complete) { editor, geometry in
            editor.apply(.fill, region: PixelRectangle(left: 0, top: 0, right: 4, bottom: 4), mcuMask: nil, maskStride: 0)
        }
        #expect(try decodedPlanes(fromStripped) == decodedPlanes(fromComplete))
    }

    @Test("the output carries no APPn or COM marker of the input (an EXIF thumbnail would be unredacted)")
    func noMetadataCopied() throws {
        let jpeg = try CoefficientSamples.frame420()
        // An APP1 "Exif" segment and a comment after the SOI.
        let exif: [UInt8] = [0xFF, 0xE1, 0x00, 0x10] + Array("Exif\0\0THUMBNAIL".utf8).prefix(14)
        let comment: [UInt8] = [0xFF, 0xFE, 0x00, 0x0A] + Array("secret!!".utf8)
        let decorated = [0xFF, 0xD8] + exif + comment + Array(jpeg[2...])
        let editor = JPEGCoefficientEditor()
        let rewritten = try editor.rewrite(decorated)
        var markers: [UInt8] = []
        var index = 2
        while index + 4 <= rewritten.count, rewritten[index] == 0xFF, rewritten[index + 1] != 0xDA {
            markers.append(rewritten[index + 1])
            index += 2 + (Int(rewritten[index + 2]) << 8 | Int(rewritten[index + 3]))
        }
        #expect(!markers.isEmpty)
        #expect(markers.allSatisfy { $0 == 0xE0 || $0 == 0xDB || $0 == 0xC0 || $0 == 0xC4 || $0 == 0xDD },
                "markers before the scan: \(markers.map { String($0, radix: 16) })")
        #expect(!String(decoding: rewritten, as: UTF8.self).contains("secret"))
        #expect(try decodedPlanes(rewritten) == decodedPlanes(jpeg))
    }

    @Test("a progressive JPEG is rewritten as a baseline one with the same pixels")
    func progressiveInput() throws {
        let progressive = try Tools.run("cjpeg", ["-quality", "80", "-progressive", try Fixtures.path("stills/frame_002.ppm")])
        let editor = JPEGCoefficientEditor()
        let rewritten = try editor.rewrite(progressive)
        let decoder = JPEGDecoder()
        #expect(try decoder.readHeader(progressive).isProgressive)
        #expect(try !decoder.readHeader(rewritten).isProgressive)
        #expect(try decodedPlanes(rewritten) == decodedPlanes(progressive))
    }
}
