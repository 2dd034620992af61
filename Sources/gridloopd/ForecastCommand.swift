import ArgumentParser
import Foundation
import GridloopCore
import GridloopForesight
import GridloopSettings
import GridloopStore

/// `gridloopd forecast`: the open clocks that fall due within a window, with the probability
/// that each breaches, from the units' own history (docs/FORECAST.md).
struct ForecastCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "At-risk forecast: the open sign and handle clocks due within a window, with each one's probability "
            + "of breaching, and each unit's expected breaches.",
        discussion: """
            The probability is a Kaplan–Meier estimate of the time the unit takes, at that level, \
            to sign (or reply to) a case, with handlings still open or gone elsewhere counted as \
            censored, conditioned on the time already used: P = S(deadline) / S(now). A unit with \
            fewer than --min-handlings handlings borrows the history of its level and category, \
            then of its level; the ESTIMATE column says which. With --at, the forecast is made as \
            of that instant from the history as it stood then. Definitions: docs/FORECAST.md.
            Example: gridloopd forecast --within 8h --level ESTATE
            """)

    @OptionGroup var options: ConfigOptions
    @Option(help: "The window, in each clock's countable time: 8h, 30m, 1wd, 4wh, ...") var within: String = "8h"
    @Option(help: "Forecast as of this past instant (RFC 3339), from the history as it stood then.") var at: String?
    @Option(help: "Only the clocks at this level: ESTATE, COMMUNITY, STREET or DISTRICT.") var level: String?
    @Option(help: "Only this unit code.") var unit: String?
    @Option(help: "Days of history before the instant that the estimates use.") var historyDays = 90
    @Option(help: "Handlings a unit needs at a level and clock for its own estimate.") var minHandlings = 20
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard let w = TimeLimit(within), w.amount > 0 else {
            throw ValidationError("--within: a positive limit such as 8h, 30m, 1wd or 4wh, got '\(within)'")
        }
        _ = w
        if let at, RFC3339.parse(at) == nil {
            throw ValidationError("--at: an instant in RFC 3339 with an offset, e.g. 2026-11-16T08:30:00+08:00, got '\(at)'")
        }
        if let level, LoopLevel(rawValue: level) == nil {
            throw ValidationError("--level: ESTATE, COMMUNITY, STREET or DISTRICT, got '\(level)'")
        }
        if historyDays < 1 { throw ValidationError("--history-days: at least 1") }
        if minHandlings < 1 { throw ValidationError("--min-handlings: at least 1") }
    }

    func run() throws {
        let config = try options.load()
        let sla = try options.loadSLA(config)
        let db = try CommandDatabase.connectMigrated(config)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let instant = at.flatMap(RFC3339.parse) ?? now
        let inputs = Forecast.Inputs(
            policy: sla.policy, calendar: sla.calendar, at: instant, window: TimeLimit(within)!,
            historyDays: historyDays, minHandlings: minHandlings, maxHandlings: config.forecastHistoryMaxHandlings)
        let forecast = try Forecast.load(
            inputs, asOfNow: at == nil, level: level.flatMap(LoopLevel.init(rawValue:)), unit: unit, db: db)
        print(json ? try forecast.json() : forecast.text())
    }
}
