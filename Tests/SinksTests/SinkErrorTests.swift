import Sinks
import Testing

@Test("A sink error names the path and the reason")
func sinkErrorDescription() {
    let error = SinkError(path: "out/stream.mjpeg", reason: "No space left on device (errno 28)")
    #expect(error.description == "out/stream.mjpeg: No space left on device (errno 28)")
}
