import ArgumentParser
import GridloopCore
import GridloopSettings
import GridloopViews

/// `gridloopd units list|resolve`: the unit directory in force, and who would take a case one
/// level up (see docs/UNITS.md).
struct UnitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "units", abstract: "Look at the unit directory: who takes a case one level up.",
        subcommands: [List.self, Resolve.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The directory in force: the file's entries, the units learned from the feeds, the default unit.",
            discussion: """
                The directory file (units.directory) wins over a unit learned from the feeds for the \
                same code; such learned units are marked "overridden by" the file's line.
                """)
        @OptionGroup var options: ConfigOptions
        @Option(help: "Only this level: COMMUNITY, STREET or DISTRICT.") var level: String?
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            if let level, UnitsCommand.level(level) == nil {
                throw ValidationError("--level: expected COMMUNITY, STREET or DISTRICT, got '\(level)'")
            }
        }

        func run() throws {
            let config = try options.load()
            let sla = try options.loadSLA(config)
            let db = try CommandDatabase.connectMigrated(config)
            let view = try UnitsView.load(
                directory: sla.units, source: sla.unitsSource, level: level.flatMap(UnitsCommand.level), from: db)
            print(json ? try view.json() : view.table())
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Who would take a case one level up, and why.",
            discussion: "CASEID is <source>:<order number>, e.g. 12345:HF261123000095.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The case id, <source>:<order number>.") var caseId: String
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            let config = try options.load()
            let sla = try options.loadSLA(config)
            let db = try CommandDatabase.connectMigrated(config)
            guard let view = try UnitResolveView.load(caseId: caseId, directory: sla.units, source: sla.unitsSource, from: db)
            else {
                throw CommandFailure(
                    message: "no case \(caseId) (case ids look like 12345:HF261123000095 or 12319:12319-2026-000001)")
            }
            print(json ? try view.json() : view.text())
        }
    }

    /// A level of the directory, written in any case; ESTATE is not one (the platform's choice).
    static func level(_ text: String) -> LoopLevel? {
        LoopLevel(rawValue: text.uppercased()).flatMap { $0 == .estate ? nil : $0 }
    }
}
