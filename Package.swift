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
        // 1.11.0: `LogHandler.log(event:)`, which JournalLogHandler implements.
        .package(url: "https://github.com/apple/swift-log", from: "1.11.0"),
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
        .target(name: "GridloopKafka", dependencies: ["CRdKafka", "GridloopCore"]),
        .target(name: "GridloopPostgres", dependencies: ["CLibPQ"]),
        // A small blocking HTTP/1.1 listener for /metrics, /healthz and /readyz (no NIO: three
        // GET endpoints do not justify an event loop in the build).
        .target(name: "GridloopHTTP"),

        // The configuration: the file, the environment, the SLA policy and calendars, and the
        // defaults embedded in the binary. Parses and validates; no I/O but reading files.
        .target(
            name: "GridloopSettings",
            dependencies: [
                "GridloopCore",
                .product(name: "Yams", package: "Yams"),
            ]),

        // Every SQL statement: the schema and its migrations, the intake's commit, the clocks,
        // the outbox's queue, and the queries the health probe and the commands run.
        .target(name: "GridloopStore", dependencies: ["GridloopCore", "GridloopPostgres"]),

        // The daemon's workers: intake -> store -> outbox relay, the health probe, telemetry.
        .target(
            name: "GridloopPipeline",
            dependencies: [
                "GridloopCore", "GridloopKafka", "GridloopPostgres", "GridloopStore", "GridloopSettings",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]),

        // The analytics, off the engine's path: the scorecard's facts, the at-risk forecast's
        // computation, its gauge and the morning digest, run by one instance of the group at a
        // time (the analytics lease).
        .target(
            name: "GridloopAnalytics",
            dependencies: [
                "GridloopCore", "GridloopStore", "GridloopSettings", "GridloopPipeline",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]),

        // What the commands show people, in three rooms, as the district's loop has them:
        // the views (a case, the status, units, dead letters and their re-drive, intake gaps,
        // and what every report shares to render), evaluation (评议 and 公示: the 721 report, the
        // unit scorecard and its publication) and foresight (事前应对: the at-risk forecast,
        // what-if). Each formats what GridloopStore reads.
        .target(
            name: "GridloopViews",
            dependencies: ["GridloopCore", "GridloopKafka", "GridloopStore", "GridloopSettings"]),
        .target(
            name: "GridloopEvaluation",
            dependencies: ["GridloopCore", "GridloopStore", "GridloopAnalytics", "GridloopViews"]),
        .target(
            name: "GridloopForesight",
            dependencies: [
                "GridloopCore", "GridloopStore", "GridloopSettings", "GridloopAnalytics", "GridloopViews",
            ]),

        // Executables.
        .executableTarget(
            name: "gridloopd",
            dependencies: [
                "GridloopCore", "GridloopHTTP", "GridloopKafka", "GridloopSettings", "GridloopStore",
                "GridloopPipeline", "GridloopAnalytics", "GridloopViews", "GridloopEvaluation", "GridloopForesight",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        .executableTarget(name: "gridloop-broker", dependencies: ["GridloopKafka"]),

        // What two test targets share (a test target cannot use another's code); no product uses it.
        .target(name: "GridloopTestSupport", path: "Tests/GridloopTestSupport"),
        .testTarget(
            name: "GridloopCoreTests", dependencies: ["GridloopCore"],
            resources: [.copy("Fixtures")]),
        .testTarget(name: "GridloopKafkaTests", dependencies: ["GridloopCore", "GridloopKafka"]),
        .testTarget(name: "GridloopHTTPTests", dependencies: ["GridloopHTTP", "GridloopTestSupport"]),
        .testTarget(name: "GridloopSettingsTests", dependencies: ["GridloopCore", "GridloopSettings", "GridloopTestSupport"]),
        .testTarget(name: "GridloopStoreTests", dependencies: ["GridloopStore", "GridloopPostgres", "GridloopTestSupport"]),
        .testTarget(
            name: "GridloopPipelineTests",
            dependencies: [
                "GridloopCore", "GridloopKafka", "GridloopPipeline", "GridloopPostgres", "GridloopSettings", "GridloopStore",
            ]),
        .testTarget(
            name: "GridloopdTests",
            dependencies: [
                "gridloopd", "GridloopKafka", "GridloopPipeline",
                "GridloopTestSupport", .product(name: "Logging", package: "swift-log"),
            ]),
        // Reads Package.swift: the targets' dependencies point one way.
        .testTarget(name: "GridloopArchitectureTests"),
        .testTarget(
            name: "GridloopIntegrationTests",
            dependencies: [
                "GridloopCore", "GridloopKafka", "GridloopPostgres", "GridloopSettings", "GridloopStore", "GridloopPipeline",
                "GridloopTestSupport", .product(name: "Logging", package: "swift-log"),
            ]),
    ]
)
