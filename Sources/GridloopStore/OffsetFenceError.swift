import GridloopCore
import GridloopPostgres

/// Raised when the stored position of a partition is not the one this consumer expected:
/// another member of the group has moved it (we lost the partition). The batch is rolled back.
public struct OffsetFenceError: Error, CustomStringConvertible {
    public init() {}

    public var description: String {
        "the stored consumer offsets moved under this instance (partition taken over by another member); batch rolled back"
    }
}
