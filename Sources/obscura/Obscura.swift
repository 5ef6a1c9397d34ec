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
            reports per-stage latency on the host and as emulated on the board.

            Start with:
              obscura run --camera pattern:640x480@30 --board rpi-4b --frames 300
              obscura cameras        # the camera specs you can pass
              obscura boards         # the boards you can emulate
            """,
        version: ObscuraVersion.current,
        subcommands: [RunCommand.self, BenchCommand.self, DetectCommand.self, CamerasCommand.self, BoardsCommand.self, VersionCommand.self]
    )
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")

    func run() {
        print("obscura \(ObscuraVersion.current)")
    }
}
