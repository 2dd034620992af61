import GridloopCore
import GridloopStore

/// Who would take a case one level up, and why (`gridloopd units resolve CASEID`): the case's
/// level and assignee now, and the unit the directory in force, what the feeds taught or the
/// default unit names at the next level (`UnitResolution`).
public struct UnitResolveView: Codable, Sendable {
    public var caseId: String
    public var status: String
    public var level: String
    /// The current assignee.
    public var assignee: UnitRef
    /// The next level up; nil at DISTRICT.
    public var nextLevel: String?
    /// The unit that would take the case there; nil at DISTRICT.
    public var nextUnit: UnitRef?
    /// `directory`, `learned` or `default`; nil at DISTRICT.
    public var resolvedBy: String?
    /// The code looked up at the next level (e.g. `STREET streetCode 340111002`), if the case has one.
    public var key: String?
    /// Why, for people: the directory line, the case that taught it, or what was missing; at
    /// DISTRICT, that urges go to the current assignee.
    public var why: String
    /// The directory file in force.
    public var directorySource: String

    /// The case `caseId` resolved against `directory` and what `db` learned; nil if there is no such case.
    public static func load(
        caseId: String, directory: UnitDirectory, source: String, from db: Database
    ) throws -> UnitResolveView? {
        guard let state = try CaseQueries.state(caseId: caseId, from: db) else { return nil }
        return make(
            state: state, directory: directory, source: source,
            learned: LearnedUnits(try LearnedUnitQueries.all(from: db)))
    }

    /// The view of `state` (no I/O).
    public static func make(
        state: CaseState, directory: UnitDirectory, source: String, learned: LearnedUnits
    ) -> UnitResolveView {
        var view = UnitResolveView(
            caseId: state.caseId, status: state.status.rawValue, level: state.level.rawValue,
            assignee: UnitRef(unitCode: state.unitCode, unitName: state.unitName),
            why: "already at DISTRICT: urges go to the current assignee", directorySource: source)
        if let next = state.level.next {
            let r = UnitResolution.resolve(level: next, for: state, directory: directory, learned: learned)
            view.nextLevel = next.rawValue
            view.nextUnit = r.unit
            view.resolvedBy = r.resolvedBy.rawValue
            view.key = r.key?.description
            view.why = r.why
        }
        return view
    }

    public func json() throws -> String { try prettyJSON(self) }

    public func text() -> String {
        var out = """
            case          \(caseId)
            now           \(status) at \(level): \(assignee.unitCode) \(assignee.unitName)
            """
        if let nextLevel, let nextUnit, let resolvedBy {
            out += """

                one level up  \(nextLevel): \(nextUnit.unitCode) \(nextUnit.unitName)
                resolved by   \(resolvedBy)\(key.map { " (\($0))" } ?? "")
                why           \(why)
                """
        } else {
            out += "\none level up  none: \(why)"
        }
        out += "\ndirectory     \(directorySource)"
        return out
    }
}
