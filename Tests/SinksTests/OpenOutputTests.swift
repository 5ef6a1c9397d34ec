// The output factory: the kind chosen from the path (folder, extension), the sink it opens, and
// a clear error for a name it cannot place.

import Foundation
import Sinks
import Testing

@Suite struct OpenOutputTests {
    @Test func theKindComesFromThePath() throws {
        let folder = try SinkTemporaryFolder()
        #expect(try OutputKind.detect(path: folder.file("a.mjpeg")) == .mjpegStream)
        #expect(try OutputKind.detect(path: folder.file("a.MJPG")) == .mjpegStream)
        #expect(try OutputKind.detect(path: folder.file("a.y4m")) == .y4m)
        #expect(try OutputKind.detect(path: folder.file("a.jpeg")) == .still(.jpeg))
        #expect(try OutputKind.detect(path: folder.file("a.pgm")) == .still(.pgm))
        #expect(try OutputKind.detect(path: folder.file("a.ppm")) == .still(.ppm))
        #expect(try OutputKind.detect(path: folder.path) == .imageFolder)
        #expect(try OutputKind.detect(path: folder.file("new-folder/")) == .imageFolder)
        #expect {
            try OutputKind.detect(path: folder.file("clip.mp4"))
        } throws: { error in
            (error as? SinkError)?.reason.contains(".mjpeg") == true
        }
        #expect(throws: SinkError.self) { try OutputKind.detect(path: folder.file(".hidden")) }
    }

    @Test func itOpensTheMatchingSink() throws {
        let folder = try SinkTemporaryFolder()
        let pool = testPool(width: 32, height: 24)
        let cases: [(String, String)] = [("out.mjpeg", "mjpeg"), ("out.y4m", "y4m"), ("still.ppm", "image"), ("frames/", "images")]
        for (name, sinkName) in cases {
            let sink = try openOutput(path: folder.file(name), fps: 12, folderExtension: "pgm")
            #expect(sink.name == sinkName)
            try sink.write(redactedPattern(pool, format: .i420, width: 32, height: 24, index: 0))
            try sink.close()
            #expect(sink.counters["framesWritten"] == 1)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.file("frames")) == ["frame-000000.pgm"])
        #expect(try folder.names() == ["frames", "out.mjpeg", "out.mjpeg.index", "out.y4m", "still.ppm"])
    }
}
