// swift-tools-version: 6.1
// Obscura's benchmarks, a package of their own so the main build does not pull in
// ordo-one/benchmark. Run from this folder: `swift package benchmark` (all), or
// `swift package benchmark --target JPEGBenchmarks`. Malloc counts come from the
// MallocInterposer trait.
import PackageDescription

let package = Package(
    name: "ObscuraBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named explicitly: a path dependency is otherwise known by its folder name, which differs
        // between clones.
        .package(name: "Obscura", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "JPEGBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Codec", package: "Obscura"),
                .product(name: "Frames", package: "Obscura"),
            ],
            path: "Benchmarks/JPEGBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "AnalysisBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Analysis", package: "Obscura"),
                .product(name: "Codec", package: "Obscura"),
                .product(name: "Frames", package: "Obscura"),
            ],
            path: "Benchmarks/AnalysisBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "PipelineBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Frames", package: "Obscura"),
                .product(name: "Capture", package: "Obscura"),
                .product(name: "ObscuraRuntime", package: "Obscura"),
                .product(name: "Boards", package: "Obscura"),
            ],
            path: "Benchmarks/PipelineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RedactionBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Redaction", package: "Obscura"),
                .product(name: "Analysis", package: "Obscura"),
                .product(name: "Codec", package: "Obscura"),
                .product(name: "Frames", package: "Obscura"),
            ],
            path: "Benchmarks/RedactionBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
