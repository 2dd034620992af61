// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Gridloop",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gridloopd", targets: ["gridloopd"]),
        .executable(name: "gridloop-broker", targets: ["gridloop-broker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
    ],
    targets: [
        // C libraries, as system libraries found through pkg-config.
        .systemLibrary(
            name: "CRdKafka", pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(
            name: "CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),

        // Pure core: canonical case model, feed adapters, state machine. No I/O, no C.
        .target(name: "GridloopCore"),

        // Adapters: one Swift owner for each C library.
        .target(name: "GridloopKafka", dependencies: ["CRdKafka"]),
        .target(name: "GridloopPostgres", dependencies: ["CLibPQ"]),
        // A small blocking HTTP/1.1 listener for /metrics, /healthz and /readyz (no NIO: three
        // GET endpoints do not justify an event loop in the build).
        .target(name: "GridloopHTTP"),

        // The pipeline: intake -> store -> outbox relay.
        .target(
            name: "GridloopWorker",
            dependencies: [
                "GridloopCore", "GridloopKafka", "GridloopPostgres", "GridloopHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),

        // Executables.
        .executableTarget(
            name: "gridloopd",
            dependencies: [
                "GridloopWorker", "GridloopCore", "GridloopHTTP", "GridloopKafka",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        .executableTarget(name: "gridloop-broker", dependencies: ["GridloopKafka"]),

        .testTarget(name: "GridloopCoreTests", dependencies: ["GridloopCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "GridloopKafkaTests", dependencies: ["GridloopKafka"]),
        .testTarget(name: "GridloopHTTPTests", dependencies: ["GridloopHTTP"]),
        .testTarget(
            name: "GridloopIntegrationTests",
            dependencies: [
                "GridloopWorker", "GridloopCore", "GridloopKafka", "GridloopPostgres", "GridloopHTTP",
                .product(name: "Logging", package: "swift-log"),
            ]),
    ]
)
