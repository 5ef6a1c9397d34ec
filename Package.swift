// swift-tools-version: 6.1
// Obscura: privacy-first edge-camera firmware and its board emulator.
// Module shape follows docs/ARCHITECTURE.md: C is fenced into shim targets (CJPEG, later CV4L2),
// pixel code in Frames has no dependencies, one module per stage, a thin CLI.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Obscura",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "obscura", targets: ["obscura"]),
        .library(name: "Frames", targets: ["Frames"]),
        .library(name: "Codec", targets: ["Codec"]),
        .library(name: "Capture", targets: ["Capture"]),
        .library(name: "Analysis", targets: ["Analysis"]),
        .library(name: "Redaction", targets: ["Redaction"]),
        .library(name: "Sinks", targets: ["Sinks"]),
        .library(name: "Boards", targets: ["Boards"]),
        .library(name: "ObscuraRuntime", targets: ["ObscuraRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // C shim over libjpeg(-turbo): the setjmp/longjmp error handling lives here, because
        // libjpeg's error_exit must not return and Swift cannot catch a longjmp.
        .target(
            name: "CJPEG",
            linkerSettings: [.linkedLibrary("jpeg")]
        ),
        // C shim over libv4l2 and the V4L2 ioctls: variadic v4l2_open/v4l2_ioctl and the VIDIOC_*
        // macros become fixed-arity functions and constants Swift can call.
        .target(
            name: "CV4L2",
            linkerSettings: [.linkedLibrary("v4l2")]
        ),
        .target(name: "Frames", swiftSettings: strict),
        .target(name: "Codec", dependencies: ["Frames", "CJPEG"], swiftSettings: strict),
        .target(name: "Capture", dependencies: ["Frames", "Codec", "CV4L2"], swiftSettings: strict),
        .target(name: "Analysis", dependencies: ["Frames"], swiftSettings: strict),
        // Codec for the coefficient-domain path: MJPEG redacted without a full decode and re-encode.
        .target(name: "Redaction", dependencies: ["Frames", "Analysis", "Codec"], swiftSettings: strict),
        // Writers of redacted output; each takes only RedactedFrame (DESIGN.md, invariant 2).
        .target(name: "Sinks", dependencies: ["Frames", "Codec", "Redaction"], swiftSettings: strict),
        .target(
            name: "Boards",
            dependencies: ["Frames", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        // Not "Runtime": that name is taken by the Swift toolchain's own backtracing module,
        // which packages such as ordo-one/benchmark import.
        .target(
            name: "ObscuraRuntime",
            dependencies: [
                "Frames", "Codec", "Capture", "Analysis", "Redaction", "Sinks", "Boards",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "obscura",
            dependencies: [
                "ObscuraRuntime", "Analysis", "Codec", "Frames", "Capture", "Redaction", "Sinks", "Boards",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "FramesTests", dependencies: ["Frames"], swiftSettings: strict),
        .testTarget(name: "CodecTests", dependencies: ["Codec", "Frames"], swiftSettings: strict),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "Codec", "Frames"], swiftSettings: strict),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Frames"], swiftSettings: strict),
        .testTarget(name: "RedactionTests", dependencies: ["Redaction", "Analysis", "Codec", "Frames"], swiftSettings: strict),
        .testTarget(name: "SinksTests", dependencies: ["Sinks", "Redaction", "Analysis", "Codec", "Capture", "Frames"], swiftSettings: strict),
        .testTarget(name: "BoardsTests", dependencies: ["Boards"], swiftSettings: strict),
        .testTarget(name: "RuntimeTests", dependencies: ["ObscuraRuntime", "Capture", "Boards", "Frames", "Redaction", "Sinks", "Codec"], swiftSettings: strict),
        .testTarget(name: "ObscuraTests", dependencies: ["obscura"], swiftSettings: strict),
    ]
)
