// Nothing raw on disk (issue 5): the firmware runs on footage with a known face, writing a
// redacted stream and snapshots into a data folder with its temporary folder (TMPDIR) beside it,
// and then every file in both is read back. tools/raw-on-disk-check makes the footage and does
// the reading (OpenCV decodes, so the check does not trust this project's own decoder): every
// file must be a JPEG, an MJPEG stream or an index, and no image in them may match the input's
// face region. The check's threshold is proven able to fail on a plain re-encode of the input.

import Foundation
import Testing

private func python(_ arguments: [String]) throws -> Outcome {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = [packageRoot + "/tools/raw-on-disk-check"] + arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Outcome(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                   errors: String(decoding: errorData, as: UTF8.self))
}

@Test func noFileTheFirmwareWritesHoldsAnUnmaskedFace() throws {
    let faces = packageRoot + "/Fixtures/faces"
    try #require(FileManager.default.fileExists(atPath: faces), "missing \(faces): run tools/bootstrap")
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("obscura-raw-on-disk-\(getpid())").path
    try? FileManager.default.removeItem(atPath: work)
    defer { try? FileManager.default.removeItem(atPath: work) }
    let input = work + "/input", data = work + "/data", temporary = work + "/tmp"
    for folder in [data, temporary] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }

    let made = try python(["make-footage", faces, input])
    try #require(made.status == 0, "\(made.output)\(made.errors)")

    // The firmware's main job, as a device runs it, and offline redaction, both into `data`.
    let run = try obscura(["run", "--camera", "file:\(input)/footage.mjpeg?loop=false", "--free-running",
                           "--output", data + "/redacted.mjpeg", "--snapshots", data + "/snapshots"],
                          environment: ["TMPDIR": temporary])
    #expect(run.status == 0, "\(run.errors)")
    // A budget keeps the debug build's detectors quick; what they do not reach is masked.
    let offline = try obscura(["redact", input + "/footage.mjpeg", data + "/offline.mjpeg", "--budget-ms", "150"],
                              environment: ["TMPDIR": temporary])
    #expect(offline.status == 0, "\(offline.errors)")

    let checked = try python(["check", input, data, temporary])
    #expect(checked.status == 0, "\(checked.output)\(checked.errors)")
    #expect(checked.output.contains("images;"), "\(checked.output)")
}
