// `obscura cameras`: the camera specs Obscura understands, and the V4L2 devices present.

import ArgumentParser
import Capture
import Foundation

struct CamerasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cameras",
        abstract: "List camera specs (virtual cameras) and the V4L2 capture devices present.",
        discussion: "Pass any of these to `run` or `bench` as --camera SPEC."
    )

    @Flag(help: "Print JSON: the virtual camera examples and every V4L2 device with its formats, sizes, rates and controls.")
    var json = false

    struct Listing: Encodable {
        struct VirtualCamera: Encodable { var spec: String; var summary: String }
        var virtual: [VirtualCamera]
        var v4l2: [V4L2DeviceInfo]
    }

    /// "640x480 at 30, 25, 15 fps" or "16x16 to 1920x1080 in steps of 2x2".
    func describe(_ size: V4L2FrameSizeInfo) -> String {
        func rate(_ fps: Double) -> String { fps == fps.rounded() ? String(Int(fps)) : String(format: "%.2f", fps) }
        let rates = size.intervals.map { rate($0.fps) }
        let ratesText = rates.isEmpty ? "" : " at \(rates.joined(separator: ", ")) fps"
        switch size.kind {
        case .discrete:
            return "\(size.width)x\(size.height)\(ratesText)"
        case .stepwise, .continuous:
            let step = size.stepWidth.map { " in steps of \($0)x\(size.stepHeight ?? $0)" } ?? ""
            return "\(size.width)x\(size.height) to \(size.maximumWidth ?? size.width)x\(size.maximumHeight ?? size.height)\(step)\(ratesText)"
        }
    }

    func run() throws {
        let devices = V4L2Discovery.devices()
        if json {
            let listing = Listing(virtual: CameraSpec.examples.map { .init(spec: $0.spec, summary: $0.summary) }, v4l2: devices)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(listing), as: UTF8.self))
            return
        }
        print("Camera specs:")
        for line in CameraSpec.syntax { print("  \(line)") }
        print("")
        print("Virtual cameras (sample footage from tools/bootstrap):")
        let width = CameraSpec.examples.map(\.spec.count).max() ?? 0
        for example in CameraSpec.examples {
            print("  \(example.spec.padding(toLength: width, withPad: " ", startingAt: 0))  \(example.summary)")
        }
        print("")
        if devices.isEmpty {
            print("V4L2 devices: none found in /dev (no /dev/video* node could be opened and queried)")
            return
        }
        print("V4L2 devices:")
        for device in devices {
            print("  \(device.path)  \(device.card) (driver \(device.driver), bus \(device.busInfo))\(device.canCapture ? "" : "  [not a streaming capture device]")")
            for format in device.formats {
                let notes = [format.emulated ? "converted by libv4l2" : nil, format.supported ? nil : "not supported by Obscura"].compactMap { $0 }
                print("    \(format.pixelFormat)  \(format.description)\(notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")))")")
                for size in format.sizes {
                    print("      \(describe(size))")
                }
            }
            if !device.controls.isEmpty {
                print("    controls: \(device.controls.map(\.name).joined(separator: ", "))")
            }
        }
    }
}
