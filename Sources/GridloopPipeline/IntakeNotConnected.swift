/// The intake's store was asked for while the intake has no session.
struct IntakeNotConnected: Error, CustomStringConvertible {
    var description: String { "intake: not connected to the database" }
}
