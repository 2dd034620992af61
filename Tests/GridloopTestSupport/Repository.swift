import Foundation

/// Where the tests find the repository's files (`deploy/`, `schemas/`, `scripts/`).
public enum Repository {
    /// The repository's root: this file is `Tests/GridloopTestSupport/Repository.swift`.
    public static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}
