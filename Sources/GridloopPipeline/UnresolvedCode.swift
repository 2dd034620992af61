import GridloopCore

/// A code the directory file lacks, as warned about once: the level, the case's code there
/// (nil: the case has none) and how the unit was found instead.
struct UnresolvedCode: Hashable {
    var level: LoopLevel
    var key: UnitKey?
    var resolvedBy: UnitResolvedBy
}
