import ArgumentParser
import Foundation
import GridloopSettings
import Logging

/// A failure that ends a command before it could do its work, other than a usage error: said
/// on stderr as one journald line at error priority (`<3>`), without ArgumentParser's usage text,
/// and ended with an exit status systemd's unit can tell apart (docs/OPERATIONS.md, "Exit status").
struct StartupFailure: Error, CustomStringConvertible {
    /// EX_CONFIG (sysexits.h): a configuration, policy, calendar or unit-directory file refused.
    /// The unit says `RestartPreventExitStatus=78`: restarting cannot fix a file.
    static let configExitStatus: Int32 = 78

    var message: String
    var metadata: Logger.Metadata
    var exitStatus: Int32

    var description: String { message }

    /// A configuration problem: the file, the line, the key and what is wrong.
    static func config(_ what: String, _ error: ConfigError) -> StartupFailure {
        var md: Logger.Metadata = ["file": "\(error.file)", "key": "\(error.key)"]
        if let line = error.line { md["line"] = "\(line)" }
        return StartupFailure(message: "\(what) refused: \(error)", metadata: md, exitStatus: configExitStatus)
    }

    /// Anything else that stops a command at start-up (a port in use, a database that does not answer).
    static func fatal(_ message: String) -> StartupFailure {
        StartupFailure(message: message, metadata: [:], exitStatus: EXIT_FAILURE)
    }

    /// Writes the journald line and exits.
    func exit() -> Never {
        Self.say(message, metadata: metadata)
        Foundation.exit(exitStatus)
    }

    /// One line at error priority on stderr, in the daemon's log format.
    static func say(_ message: String, metadata: Logger.Metadata = [:]) {
        let line = JournalLogHandler.line(priority: 3, message: message, metadata: metadata) + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
