// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "TokenBridge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tokenbridge", targets: ["tokenbridge"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
    ],
    targets: [
        // MARK: - C libraries (module map + shim.h only)
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CLibWebSockets", pkgConfig: "libwebsockets",
            providers: [.apt(["libwebsockets-dev"])]),
        .systemLibrary(
            name: "CRabbitMQ", pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]),
        .systemLibrary(name: "CEpoll"),
        // jemalloc's options, set where it reads them: a C global in the executable.
        .target(name: "CAllocatorSettings"),

        // MARK: - Wrappers: each owns one C library and its thread
        .target(name: "Curl", dependencies: ["CCurl", "CEpoll"]),
        .target(name: "AMQP", dependencies: ["CRabbitMQ", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "WebServer",
            dependencies: ["CLibWebSockets", .product(name: "Logging", package: "swift-log")]),

        // MARK: - Domain (no C)
        .target(name: "BridgeCore", dependencies: [.product(name: "Logging", package: "swift-log")]),
        .target(name: "OpenAIWire", dependencies: ["BridgeCore"]),
        .target(
            name: "OpenAIUpstream",
            dependencies: ["BridgeCore", "OpenAIWire", "Curl", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "HTTPIngress",
            dependencies: ["BridgeCore", "OpenAIWire", "WebServer", .product(name: "Logging", package: "swift-log")]),
        .target(name: "SimulatedModel", dependencies: ["BridgeCore"]),
        .target(name: "Centrifuge", dependencies: ["BridgeCore", .product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "ChannelBridge",
            dependencies: ["BridgeCore", "Centrifuge", "WebServer", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "CentrifugoSink",
            dependencies: ["BridgeCore", "Curl", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "RabbitMQBridge",
            dependencies: ["BridgeCore", "OpenAIWire", "AMQP", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "Bench",
            dependencies: ["BridgeCore", "OpenAIWire", "SimulatedModel", "Curl", "AMQP", "CEpoll", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "BridgeConfig",
            dependencies: ["BridgeCore", .product(name: "Yams", package: "Yams")]),

        // MARK: - The executable: parse, load, wire
        .executableTarget(
            name: "tokenbridge",
            dependencies: [
                "BridgeCore", "BridgeConfig", "OpenAIUpstream", "SimulatedModel", "HTTPIngress", "WebServer",
                "Curl", "Bench", "AMQP", "RabbitMQBridge", "Centrifuge", "ChannelBridge", "CentrifugoSink",
                "CAllocatorSettings",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // jemalloc serves every malloc of the process (linked ahead of glibc, it wins symbol
            // lookup for the Swift runtime and the C libraries too). Measured at 100 streams: the
            // bridge's CPU per token fell 15-20% against glibc's malloc, whose arena lock the curl
            // and server threads fought over (one frees what the other allocated).
            linkerSettings: [.linkedLibrary("jemalloc")]),

        // MARK: - Tests
        .testTarget(name: "BridgeCoreTests", dependencies: ["BridgeCore"]),
        .testTarget(name: "CentrifugoSinkTests", dependencies: ["CentrifugoSink", "BridgeCore", "Curl"]),
        .testTarget(name: "OpenAIWireTests", dependencies: ["OpenAIWire", "BridgeCore"]),
        .testTarget(
            name: "OpenAIUpstreamTests",
            dependencies: ["OpenAIUpstream", "Curl", "WebServer", "BridgeCore", "HTTPIngress", "SimulatedModel"]),
        .testTarget(name: "BridgeConfigTests", dependencies: ["BridgeConfig", "BridgeCore"]),
        .testTarget(name: "CurlTests", dependencies: ["Curl"]),
        .testTarget(name: "AMQPTests", dependencies: ["AMQP", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "SimulatedModelTests", dependencies: ["SimulatedModel", "BridgeCore"]),
        .testTarget(name: "BenchTests", dependencies: ["Bench"]),
        .testTarget(name: "RabbitMQBridgeTests", dependencies: ["RabbitMQBridge", "AMQP", "BridgeCore"]),
        .testTarget(
            name: "CentrifugeTests",
            dependencies: ["Centrifuge", "BridgeCore", .product(name: "Crypto", package: "swift-crypto")]),
    ],
    swiftLanguageModes: [.v6]
)
