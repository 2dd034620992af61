import GridloopCore

/// A consumer position: the next offset to read on one partition. The same value as a
/// message's `SourceCoordinates` (a partition and an offset in it), named for what it means here.
public typealias PartitionOffset = SourceCoordinates
