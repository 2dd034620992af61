/// A handling unit (承办单位) as the platforms name it.
public struct UnitRef: Sendable, Hashable, Codable {
    public var unitCode: String
    public var unitName: String
    public init(unitCode: String, unitName: String) {
        self.unitCode = unitCode
        self.unitName = unitName
    }
}

/// Which unit takes a case at each level of the ladder, from the case's own codes (网格/组织架构),
/// as a directory file states it (see `docs/UNITS.md`): COMMUNITY by community code, STREET by
/// street code, DISTRICT by district and category (the functional department, 职能部门, for
/// that kind of problem), and the default unit (the district's supervision centre, 督查室)
/// that takes a case nobody else is known for. ESTATE is as the platform dispatched.
public struct UnitDirectory: Sendable, Hashable {
    /// One unit the directory names, with where it was written (`units.yaml:12`).
    public struct Entry: Sendable, Hashable {
        public var level: LoopLevel
        /// COMMUNITY: the community code; STREET: the street code; DISTRICT: the district code.
        public var code: String
        /// DISTRICT only: the category this department handles, a prefix of the 12345 category
        /// code (`09`, `0901`) or of the 12319 case type (`供水供气`); nil: every category.
        public var category: String?
        public var unit: UnitRef
        public var origin: String
        public init(level: LoopLevel, code: String, category: String? = nil, unit: UnitRef, origin: String) {
            self.level = level
            self.code = code
            self.category = category
            self.unit = unit
            self.origin = origin
        }
    }

    public private(set) var entries: [Entry]
    public var defaultUnit: UnitRef
    /// Where the default unit was written.
    public var defaultOrigin: String
    private var byKey: [UnitKey: Entry] = [:]
    private var departments: [String: [Entry]] = [:]

    public init(entries: [Entry], defaultUnit: UnitRef, defaultOrigin: String) {
        self.entries = entries
        self.defaultUnit = defaultUnit
        self.defaultOrigin = defaultOrigin
        for e in entries {
            switch e.level {
            case .community, .street: byKey[UnitKey(level: e.level, code: e.code)] = e
            case .district: departments[e.code, default: []].append(e)
            case .estate: break
            }
        }
        // The longest category prefix wins; an entry without a category comes last.
        for (k, list) in departments {
            departments[k] = list.sorted { ($0.category?.count ?? -1) > ($1.category?.count ?? -1) }
        }
    }

    /// A directory that names nobody: every escalation goes to `defaultUnit`.
    public static func empty(defaultUnit: UnitRef, origin: String = "built-in") -> UnitDirectory {
        UnitDirectory(entries: [], defaultUnit: defaultUnit, defaultOrigin: origin)
    }

    /// The entry naming the unit that takes `state`'s case at `level`, if the file has one.
    public func entry(level: LoopLevel, for state: CaseState) -> Entry? {
        UnitKey(level: level, state: state).flatMap(entry(for:))
    }

    /// The entry naming the unit for `key` (a level and a case's code there, as `LearnedUnits`
    /// keeps it): the one that wins over a unit learned for that key. At DISTRICT, among the
    /// entries of the district, the longest category prefix of the key's category wins; an entry
    /// without a category comes last.
    public func entry(for key: UnitKey) -> Entry? {
        switch key.level {
        case .estate:
            return nil
        case .community, .street:
            return byKey[key]
        case .district:
            guard let slash = key.code.firstIndex(of: "/"), let list = departments[String(key.code[..<slash])] else {
                return nil
            }
            let category = key.code[key.code.index(after: slash)...]
            return list.first { $0.category.map { category.hasPrefix($0) } ?? true }
        }
    }
}

/// What identifies the unit a case needs at a level: the level and the case's code there
/// (COMMUNITY: community code; STREET: street code; DISTRICT: `district/category`).
public struct UnitKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public var level: LoopLevel
    public var code: String
    public init(level: LoopLevel, code: String) {
        self.level = level
        self.code = code
    }

    /// The key of `state`'s case at `level`; nil at ESTATE or when the case lacks the code.
    public init?(level: LoopLevel, state: CaseState) {
        let code: String?
        switch level {
        case .estate: code = nil
        case .community: code = state.order.communityCode
        case .street: code = state.order.streetCode
        case .district:
            // A case without a category still finds its district's entry without one.
            code = state.order.districtCode.map { "\($0)/\(ClockKeeper.categoryCode(state) ?? "")" }
        }
        guard let code, !code.isEmpty else { return nil }
        self.init(level: level, code: code)
    }

    public var description: String {
        switch level {
        case .estate: "ESTATE \(code)"
        case .community: "COMMUNITY communityCode \(code)"
        case .street: "STREET streetCode \(code)"
        case .district: "DISTRICT district/category \(code)"
        }
    }
}
