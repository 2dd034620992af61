import GridloopCore
import GridloopStore

/// The unit directory in force, as `gridloopd units list` shows it: every entry of the
/// directory file with its `file:line`, every unit the feeds taught (`learned_units`) with the
/// case that taught it, marked when a file entry overrides it, and the default unit.
public struct UnitsView: Codable, Sendable {
    /// One unit the directory knows for a level and code.
    public struct Row: Codable, Sendable {
        public var level: String
        /// COMMUNITY: the community code; STREET: the street code; DISTRICT: the district code.
        public var code: String
        /// DISTRICT: the category prefix of a file entry (nil: every category), or the case's
        /// category code (or 12319 type) of a learned unit.
        public var category: String?
        public var unitCode: String
        public var unitName: String
        /// `directory` (the file) or `learned` (the feeds).
        public var source: String
        /// The file entry's `file:line`, or `learned from case X at TIME`.
        public var origin: String
        /// Learned units only: the case that taught it and when (RFC 3339).
        public var learnedFromCase: String?
        public var learnedAt: String?
        /// Learned units only: the file entry (`file:line`) that wins over it, if any.
        public var overriddenBy: String?
    }

    /// The directory file, or `(built-in) deploy/units.yaml`.
    public var directorySource: String
    public var defaultUnit: UnitRef
    /// Where the default unit is written (`file:line`).
    public var defaultOrigin: String
    /// By level (COMMUNITY, STREET, DISTRICT), then code and category; a file entry before a
    /// unit learned for the same code.
    public var entries: [Row]

    /// The directory `directory` (loaded from `source`) with what `db` learned, at `level` only if given.
    public static func load(
        directory: UnitDirectory, source: String, level: LoopLevel?, from db: Database
    ) throws -> UnitsView {
        make(directory: directory, source: source, learned: try LearnedUnitQueries.all(from: db), level: level)
    }

    /// The view of `directory` and `learned` (no I/O).
    public static func make(
        directory: UnitDirectory, source: String, learned: [UnitKey: LearnedUnits.Learned], level: LoopLevel?
    ) -> UnitsView {
        var rows: [Row] = []
        for e in directory.entries where level == nil || e.level == level {
            rows.append(
                Row(
                    level: e.level.rawValue, code: e.code, category: e.category, unitCode: e.unit.unitCode,
                    unitName: e.unit.unitName, source: UnitResolvedBy.directory.rawValue, origin: e.origin))
        }
        for (key, l) in learned where level == nil || key.level == level {
            var code = key.code
            var category: String?
            if key.level == .district, let slash = key.code.firstIndex(of: "/") {
                code = String(key.code[..<slash])
                category = String(key.code[key.code.index(after: slash)...])
            }
            let at = RFC3339.format(l.at)
            rows.append(
                Row(
                    level: key.level.rawValue, code: code, category: category, unitCode: l.unit.unitCode,
                    unitName: l.unit.unitName, source: UnitResolvedBy.learned.rawValue,
                    origin: "learned from case \(l.caseId) at \(at)", learnedFromCase: l.caseId, learnedAt: at,
                    overriddenBy: directory.entry(for: key)?.origin))
        }
        rows.sort {
            let a = LoopLevel(rawValue: $0.level)?.rank ?? 0
            let b = LoopLevel(rawValue: $1.level)?.rank ?? 0
            return (a, $0.code, $0.category ?? "", $0.source) < (b, $1.code, $1.category ?? "", $1.source)
        }
        return UnitsView(
            directorySource: source, defaultUnit: directory.defaultUnit, defaultOrigin: directory.defaultOrigin,
            entries: rows)
    }

    public func json() throws -> String { try prettyJSON(self) }

    public func table() -> String {
        var out = """
            directory     \(directorySource)
            default unit  \(defaultUnit.unitCode) \(defaultUnit.unitName)   (\(defaultOrigin)): takes a case nobody else is known for
            """
        guard !entries.isEmpty else { return out + "\n\nno entries" }
        let codes = entries.map { $0.code + ($0.level == LoopLevel.district.rawValue ? " \($0.category ?? "*")" : "") }
        let units = entries.map { "\($0.unitCode) \($0.unitName)" }
        let codeWidth = max(codes.map(\.displayWidth).max() ?? 0, 4)
        let unitWidth = max(units.map(\.displayWidth).max() ?? 0, 4)
        out += "\n\n\("LEVEL".rightPad(9))  \("CODE".rightPad(codeWidth))  \("UNIT".rightPad(unitWidth))  SOURCE"
        for (i, e) in entries.enumerated() {
            var source = e.source == UnitResolvedBy.directory.rawValue ? "file \(e.origin)" : e.origin
            if let by = e.overriddenBy { source += " (overridden by \(by))" }
            out += "\n\(e.level.rightPad(9))  \(codes[i].rightPad(codeWidth))  \(units[i].rightPad(unitWidth))  \(source)"
        }
        let learned = entries.filter { $0.source == UnitResolvedBy.learned.rawValue }
        out +=
            "\n\n\(entries.count - learned.count) from the directory, \(learned.count) learned from the feeds"
            + " (\(learned.filter { $0.overriddenBy != nil }.count) overridden by the directory)"
        return out
    }
}
