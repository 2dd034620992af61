import ArgumentParser
import Foundation
import GridloopCore
import GridloopSettings

/// A failure after the arguments were accepted: printed as `Error: <message>`, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
