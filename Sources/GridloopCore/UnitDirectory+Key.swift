extension UnitDirectory {
    /// The entry that names the unit for `key` (the level and the case's code there, as
    /// `LearnedUnits` keeps it), by the same rule as `entry(level:for:)`: the one that would win
    /// over a unit learned for that key. `gridloopd units list` marks such learned units.
    public func entry(for key: UnitKey) -> Entry? {
        switch key.level {
        case .estate:
            return nil
        case .community, .street:
            return entries.last { $0.level == key.level && $0.code == key.code }
        case .district:
            // `district/category`: the longest category prefix wins, an entry without one comes last.
            guard let slash = key.code.firstIndex(of: "/") else { return nil }
            let district = key.code[..<slash]
            let category = key.code[key.code.index(after: slash)...]
            return
                entries
                .filter { $0.level == .district && $0.code == district && ($0.category.map { category.hasPrefix($0) } ?? true) }
                .max { ($0.category?.count ?? -1) < ($1.category?.count ?? -1) }
        }
    }
}
