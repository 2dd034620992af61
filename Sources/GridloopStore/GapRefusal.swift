import GridloopCore
import GridloopPostgres

/// A `gaps ack` that cannot be done, with the reason for the person who asked.
public struct GapRefusal: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
