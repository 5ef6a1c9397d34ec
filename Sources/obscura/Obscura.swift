// The `obscura` command: a thin layer over Runtime. Each subcommand is its own type.

import ArgumentParser
import ObscuraRuntime

@main
struct Obscura: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "obscura",
        abstract: "Privacy-first edge-camera firmware, and an emulator that runs it as a given single-board computer.",
        discussion: """
            Obscura captures from a camera (a V4L2 device or a virtual camera backed by a file or a \
            built-in pattern), analyses every frame within the board's per-frame time budget, and \
            redacts it (people, faces and everything that moves are masked) before anything is \
            written, and reports per-stage latency on the host and as emulated on the board.

            Start with:
              obscura run --camera pattern:640x480@10 --board rpi-4b --frames 100
              obscura run --camera file:Fixtures/vtest_640x480.mjpeg --output /tmp/redacted.mjpeg
              obscura redact INPUT OUTPUT   # redact a recording or stills offline
              obscura cameras        # the camera specs you can pass
              obscura boards         # the boards you can emulate
            """,
        version: ObscuraVersion.current,
        subcommands: [RunCommand.self, RedactCommand.self, BenchCommand.self, DetectCommand.self, CamerasCommand.self, BoardsCommand.self, VersionCommand.self]
    )
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")

    func run() {
        print("obscura \(ObscuraVersion.current)")
    }
}
