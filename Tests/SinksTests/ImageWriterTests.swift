// Still images: PGM (luma exactly), PPM (RGB against the BT.601 formula, and back through
// Capture's image-folder camera), JPEG decoded; the folder writer's names (numbered, from a list,
// from a closure, refused when they would leave the folder) and errors when the folder goes away.

import Capture
import Foundation
import Frames
import Redaction
import Sinks
import Testing

@Suite struct ImageWriterTests {
    @Test func pgmHoldsTheRedactedLuma() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("still.pgm")
        let writer = try ImageWriter(path: path)
        #expect(writer.kind == .pgm)
        let pool = testPool(width: 41, height: 23)
        for format in [PixelFormat.i420, .yuyv, .gray8] {
            let frame = redactedPattern(pool, format: format, width: 41, height: 23, index: 5)
            let luma = planarSamples(frame)[0]
            try writer.write(frame)
            let image = try parsePNM(try fileBytes(path))
            #expect(image.kind == "P5" && image.width == 41 && image.height == 23 && image.maximum == 255)
            #expect(image.pixels == luma, "\(format)")
        }
        #expect(writer.statistics.framesWritten == 3)
        #expect(isSinkFileMode(try permissions(path)))
        #expect(try folder.names() == ["still.pgm"], "no temporary file is left behind")
    }

    @Test(arguments: [PixelFormat.i420, .i422, .nv12, .yuyv, .gray8])
    func ppmHoldsRGBFromTheBT601Formula(format: PixelFormat) throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("still.ppm")
        let width = 37, height = 19
        let writer = try ImageWriter(path: path)
        let pool = testPool(width: width, height: height)
        let frame = redactedPattern(pool, format: format, width: width, height: height, index: 9)
        let planes = planarSamples(frame)
        try writer.write(frame)
        let image = try parsePNM(try fileBytes(path))
        #expect(image.kind == "P6" && image.width == width && image.height == height)
        #expect(image.pixels.count == width * height * 3)
        let chromaWidth = (width + 1) / 2
        let verticalShift = (format == .i420 || format == .nv12) ? 1 : 0
        var worst = 0.0
        for row in 0..<height {
            for column in 0..<width {
                let y = Double(planes[0][row * width + column])
                var cb = 0.0, cr = 0.0
                if format != .gray8 {
                    let chroma = (row >> verticalShift) * chromaWidth + column / 2
                    cb = Double(planes[1][chroma]) - 128
                    cr = Double(planes[2][chroma]) - 128
                }
                let expected = [y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb]
                for channel in 0..<3 {
                    let value = Double(image.pixels[(row * width + column) * 3 + channel])
                    worst = max(worst, abs(value - min(max(expected[channel], 0), 255)))
                }
            }
        }
        #expect(worst <= 1, "\(format): worst difference \(worst)")
    }

    @Test func ppmAndPgmFoldersPlayBackThroughTheImageFolderCamera() throws {
        let folder = try SinkTemporaryFolder()
        let width = 64, height = 48
        let pool = testPool(width: width, height: height)
        let pgm = try ImageFolderWriter(folder: folder.file("pgm"), extension: "pgm")
        let ppm = try ImageFolderWriter(folder: folder.file("ppm"), extension: ".ppm")
        var lumas: [[UInt8]] = []
        for index in 0..<4 {
            let frame = redactedGradient(pool, width: width, height: height, index: UInt64(index))
            lumas.append(planarSamples(frame)[0])
            try pgm.write(frame)
            try ppm.write(frame)
        }
        let greySource = try ImageFolderSource(path: pgm.folder, pacing: .freeRunning)
        var read = 0
        while let frame = try greySource.nextFrame() {
            #expect(planeRows(UnsafeRawBufferPointer(frame.buffer.bytes), frame.layout.planes[0]) == lumas[read])
            read += 1
        }
        #expect(read == 4)
        // PPM goes YUV → RGB here and RGB → YUV in the camera: the luma comes back within the
        // rounding of the two conversions, wherever the RGB was not clipped (where a chroma
        // sample spans two colours, a pixel's own luma with the shared chroma can fall outside
        // the RGB cube).
        let colourSource = try ImageFolderSource(path: ppm.folder, pacing: .freeRunning)
        #expect(colourSource.mode.format == .i420)
        read = 0
        var compared = 0
        while let frame = try colourSource.nextFrame() {
            let luma = planeRows(UnsafeRawBufferPointer(frame.buffer.bytes), frame.layout.planes[0])
            let rgb = try parsePNM(try fileBytes(ppm.folder + "/" + (try ppm.fileName(for: UInt64(read))))).pixels
            var worst = 0
            for pixel in 0..<(width * height) where !rgb[(pixel * 3)..<(pixel * 3 + 3)].contains(where: { $0 == 0 || $0 == 255 }) {
                worst = max(worst, abs(Int(luma[pixel]) - Int(lumas[read][pixel])))
                compared += 1
            }
            #expect(worst <= 2, "frame \(read): luma differs by up to \(worst)")
            read += 1
        }
        #expect(compared > width * height * 4 * 9 / 10, "most pixels are compared")
        #expect(read == 4)
    }

    @Test func jpegStillDecodesToTheRedactedFrame() throws {
        let folder = try SinkTemporaryFolder()
        let path = folder.file("still.JPEG")
        let writer = try ImageWriter(path: path, quality: 92)
        #expect(writer.kind == .jpeg)
        let pool = testPool(width: 96, height: 64)
        let frame = redactedPattern(pool, format: .nv12, width: 96, height: 64, index: 2)
        let planes = planarSamples(frame)
        try writer.write(frame)
        let decoded = try decodeJPEG(try fileBytes(path))
        #expect(decoded.format == .i420 && decoded.width == 96 && decoded.height == 64)
        #expect(psnr(decoded.planes[0], planes[0]) > 30)
    }

    @Test func unknownExtensionsAreRefused() throws {
        let folder = try SinkTemporaryFolder()
        #expect(throws: SinkError.self) { try ImageWriter(path: folder.file("still.png")) }
        #expect(throws: SinkError.self) { try ImageWriter(path: folder.file("still")) }
        #expect(throws: SinkError.self) { try ImageFolderWriter(folder: folder.file("out"), extension: "bmp") }
        #expect(throws: SinkError.self) { try ImageFolderWriter(folder: folder.file("out"), naming: .numbered(prefix: "a/b", digits: 6)) }
    }

    @Test func numberedNamesSortInFrameOrder() throws {
        let folder = try SinkTemporaryFolder()
        let writer = try ImageFolderWriter(folder: folder.file("frames"), extension: "jpg")
        let pool = testPool(width: 32, height: 32)
        for sequence: UInt64 in [0, 1, 9, 10, 123_456, 1_234_567] {
            try writer.write(redactedPattern(pool, format: .i420, width: 32, height: 32, index: sequence))
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: writer.folder)
        #expect(names.sorted() == ["frame-000000.jpg", "frame-000001.jpg", "frame-000009.jpg", "frame-000010.jpg",
                                   "frame-123456.jpg", "frame-1234567.jpg"])
        #expect(writer.lastPath == writer.folder + "/frame-1234567.jpg")
        #expect(try permissions(writer.folder) & 0o007 == 0, "the folder is not world-readable")
    }

    @Test func namesFromTheInputKeepTheirStemsAndTakeTheNewExtension() throws {
        let folder = try SinkTemporaryFolder()
        let writer = try ImageFolderWriter(folder: folder.path, extension: "pgm",
                                           naming: .names(["IMG_0001.ppm", "IMG_0002.JPG", "notes"]))
        let pool = testPool(width: 16, height: 16)
        for sequence: UInt64 in 0..<3 {
            try writer.write(redactedPattern(pool, format: .gray8, width: 16, height: 16, index: sequence))
        }
        #expect(try folder.names() == ["IMG_0001.pgm", "IMG_0002.pgm", "notes.pgm"])
        // A fourth frame has no name: an error, never a made-up name.
        #expect(throws: SinkError.self) { try writer.write(redactedPattern(pool, format: .gray8, width: 16, height: 16, index: 3)) }
        #expect(writer.statistics.errors == 1)

        let custom = try ImageFolderWriter(folder: folder.file("custom"), extension: "jpg",
                                           naming: .custom { "cam1-\($0).raw" })
        try custom.write(redactedPattern(pool, format: .gray8, width: 16, height: 16, index: 42))
        #expect(try FileManager.default.contentsOfDirectory(atPath: custom.folder) == ["cam1-42.jpg"])
    }

    @Test(arguments: ["../escape.jpg", "sub/name.jpg", "", ".hidden", ".."])
    func namesThatLeaveTheFolderAreRefused(name: String) throws {
        let folder = try SinkTemporaryFolder()
        let writer = try ImageFolderWriter(folder: folder.file("out"), naming: .names([name]))
        let pool = testPool(width: 16, height: 16)
        #expect(throws: SinkError.self) { try writer.write(redactedPattern(pool, format: .gray8, width: 16, height: 16, index: 0)) }
        #expect(writer.statistics.errors == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: writer.folder).isEmpty)
        #expect(try folder.names() == ["out"])
    }

    @Test func aVanishedFolderIsACountedErrorNotACrash() throws {
        let folder = try SinkTemporaryFolder()
        let writer = try ImageFolderWriter(folder: folder.file("out"))
        let pool = testPool(width: 16, height: 16)
        try writer.write(redactedPattern(pool, format: .i420, width: 16, height: 16, index: 0))
        // The card is pulled: the folder is gone.
        try FileManager.default.removeItem(atPath: writer.folder)
        do {
            try writer.write(redactedPattern(pool, format: .i420, width: 16, height: 16, index: 1))
            Issue.record("writing into a removed folder succeeded")
        } catch {
            #expect(error.reason.contains("errno"), "\(error)")
        }
        #expect(writer.statistics.errors == 1)
        #expect(writer.statistics.framesWritten == 1)
        // A file in the way of the folder fails at open.
        #expect(FileManager.default.createFile(atPath: folder.file("plain"), contents: Data()))
        #expect(throws: SinkError.self) { try ImageFolderWriter(folder: folder.file("plain")) }
        #expect(throws: SinkError.self) { try ImageFolderWriter(folder: folder.file("a/b/c")) }
    }

    @Test func aStillInAnUnwritableFolderIsACountedError() throws {
        // sysfs refuses new files even to root.
        let pool = testPool(width: 16, height: 16)
        let writer = try ImageWriter(path: "/sys/kernel/obscura-test.jpg")
        #expect(throws: SinkError.self) { try writer.write(redactedPattern(pool, format: .gray8, width: 16, height: 16, index: 0)) }
        #expect(writer.counters["errors"] == 1)
        #expect(writer.lastError?.reason.contains("errno") == true)
    }
}
