import Foundation

/// Where the tests find the repository's files (`deploy/`, `schemas/`), as in the integration
/// tests' `TestEnvironment`.
enum TestEnvironment {
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}
