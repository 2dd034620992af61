import ArgumentParser
import Foundation
import GridloopCore
import GridloopEvaluation
import GridloopSettings
import GridloopStore
import GridloopViews

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Reports for people.",
        subcommands: [Report721Command.self, ScorecardCommand.self])

    struct Report721Command: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "721",
            abstract:
                "Share of cases resolved at estate/community, street and district against the 70/20/10 target, with breach rates."
        )
        @OptionGroup var options: ConfigOptions
        @Option(help: "First day, YYYY-MM-DD (Asia/Shanghai), inclusive.") var from: String
        @Option(help: "Last day, YYYY-MM-DD (Asia/Shanghai), inclusive.") var to: String
        @Option(help: "One row per street or community as well.") var by: String?
        @Option(help: "Also write a self-contained HTML page with a chart to this file.") var html: String?
        @Flag(help: "Print JSON instead of the table.") var json = false

        func validate() throws {
            for (name, value) in [("--from", from), ("--to", to)] where LocalDate(value) == nil {
                throw ValidationError("\(name): expected a date YYYY-MM-DD, got '\(value)'")
            }
            if let a = LocalDate(from), let b = LocalDate(to), a.day > b.day { throw ValidationError("--from is after --to") }
            if let by, by != "street", by != "community" { throw ValidationError("--by: street or community, got '\(by)'") }
        }

        func run() throws {
            let config = try options.load()
            let db = try CommandDatabase.connectMigrated(config)
            let report = try Report721.load(from: from, to: to, by: by, db: db)
            if let html {
                do {
                    try report.html(deployment: config.deploymentName).write(toFile: html, atomically: true, encoding: .utf8)
                } catch {
                    throw CommandFailure(message: "cannot write the HTML page \(html): \(error.localizedDescription)")
                }
            }
            print(json ? try report.json() : report.text())
            if let html, !json { print("\nHTML page written to \(html)") }
        }
    }
}

extension ReportCommand {
    struct ScorecardCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "scorecard",
            abstract: "评议: each handling unit's response, on-time, return, resolution, satisfaction and reopen rates, "
                + "composite score, rank within its level and the red and black lists.",
            discussion: "A handling counts in the period it began in. Definitions: docs/SCORECARD.md.")
        @OptionGroup var options: ConfigOptions
        @Option(help: "The month, YYYY-MM (Asia/Shanghai); or --from and --to.") var month: String?
        @Option(help: "First day, YYYY-MM-DD (Asia/Shanghai), inclusive.") var from: String?
        @Option(help: "Last day, YYYY-MM-DD (Asia/Shanghai), inclusive.") var to: String?
        @Option(help: "Only the units of this level: ESTATE, COMMUNITY, STREET or DISTRICT.") var level: String?
        @Option(help: "Only this unit code (ranks stay those of the whole level).") var unit: String?
        @Flag(help: "Print JSON instead of the table.") var json = false
        @Flag(help: "Print CSV instead of the table.") var csv = false
        @Option(
            help: "Also write a self-contained HTML page (ranking tables, lists, rate bars, six-month trend lines) to this file."
        )
        var html: String?
        @Flag(
            help: ArgumentHelp(
                "Publish the period's scorecard: one gridloop.report.scorecard event per level on topics.reports, "
                    + "through the outbox (a running gridloopd's relay sends it). Figures unchanged since the last "
                    + "revision: nothing; changed: the next revision."))
        var publish = false
        @Flag(
            help: ArgumentHelp(
                "For the monthly timer: publish the previous month's scorecards if today (Asia/Shanghai) is on or "
                    + "after this month's first working day by the calendars in force and they are not published "
                    + "yet; otherwise say why not and do nothing. No period option."))
        var scheduled = false
        @Option(help: ArgumentHelp("With --scheduled: act as if today were this date, YYYY-MM-DD.", visibility: .hidden))
        var today: String?

        /// The period's first and last day, `YYYY-MM-DD`.
        func period() throws -> (from: String, to: String) {
            if let month {
                guard let bounds = Scorecard.monthBounds(month) else {
                    throw ValidationError("--month: expected a month YYYY-MM, got '\(month)'")
                }
                return bounds
            }
            guard let from, let to else { throw ValidationError("give --month, or --from and --to") }
            return (from, to)
        }

        static func text(_ d: LocalDate) -> String {
            let c = d.civil
            return String(format: "%04d-%02d-%02d", c.year, c.month, c.day)
        }

        func validate() throws {
            if scheduled {
                if month != nil || from != nil || to != nil || unit != nil {
                    throw ValidationError("--scheduled publishes the previous month: no --month, --from, --to or --unit")
                }
                if let today, LocalDate(today) == nil {
                    throw ValidationError("--today: expected a date YYYY-MM-DD, got '\(today)'")
                }
                return
            }
            if today != nil { throw ValidationError("--today goes with --scheduled") }
            if publish, unit != nil { throw ValidationError("--publish publishes whole levels: no --unit") }
            if month != nil, from != nil || to != nil { throw ValidationError("--month or --from/--to, not both") }
            if month == nil, (from == nil) != (to == nil) { throw ValidationError("--from and --to go together") }
            let (a, b) = try period()
            for (name, value) in [("--from", a), ("--to", b)] where LocalDate(value) == nil {
                throw ValidationError("\(name): expected a date YYYY-MM-DD, got '\(value)'")
            }
            if let x = LocalDate(a), let y = LocalDate(b), x.day > y.day { throw ValidationError("--from is after --to") }
            if let level, LoopLevel(rawValue: level) == nil {
                throw ValidationError("--level: ESTATE, COMMUNITY, STREET or DISTRICT, got '\(level)'")
            }
            if json, csv { throw ValidationError("--json or --csv, not both") }
        }

        func run() throws {
            let config = try options.load()
            let sla = try options.loadSLA(config)
            let evaluation = sla.policy.evaluation
            let db = try CommandDatabase.connectMigrated(config)
            let now = Int64(Date().timeIntervalSince1970) * 1000
            if scheduled {
                try runScheduled(config: config, calendar: sla.calendar, evaluation: evaluation, now: now, db: db)
                return
            }
            let (a, b) = try period()
            var card = try Scorecard.load(
                from: a, to: b, level: level, unit: unit, evaluation: evaluation, asOf: RFC3339.format(now), db: db)
            if html != nil { try card.loadTrend(evaluation: evaluation, db: db) }
            if let html {
                do {
                    try card.html(deployment: config.deploymentName).write(toFile: html, atomically: true, encoding: .utf8)
                } catch {
                    throw CommandFailure(message: "cannot write the HTML page \(html): \(error.localizedDescription)")
                }
            }
            if csv {
                print(card.csv(), terminator: "")
            } else {
                print(json ? try card.json() : card.text())
            }
            if let html, !json, !csv { print("\nHTML page written to \(html)") }
            if publish {
                try report(card.publish(topic: config.topics.reports, deployment: config.deploymentName, db: db), config)
            }
        }

        /// The monthly timer's run (deploy/gridloopd-scorecard.timer).
        func runScheduled(
            config: GridloopConfig, calendar: WorkingCalendar, evaluation: EvaluationPolicy, now: Int64,
            db: Database
        ) throws {
            let day = today.flatMap { LocalDate($0) } ?? LocalDate(containing: now)
            let (y, m, _) = day.civil
            var first = LocalDate(year: y, month: m, day: 1)!
            while !calendar.isWorkingDay(first) { first = LocalDate(day: first.day + 1) }
            let previous = String(format: "%04d-%02d", m == 1 ? y - 1 : y, m == 1 ? 12 : m - 1)
            let (a, b) = Scorecard.monthBounds(previous)!
            if calendar.isFallback(day) {
                FileHandle.standardError.write(
                    Data("warning: no official calendar for \(y); the first working day is taken as the first weekday\n".utf8))
            }
            guard first.day <= day.day else {
                print(
                    "not due: the scorecards of \(previous) are published on \(Self.text(first)), the first working day of the month"
                )
                return
            }
            let done = try Scorecard.publishedLevels(from: a, to: b, db: db)
            guard done.isEmpty else {
                print(
                    "already published: the scorecards of \(previous) (\(done.joined(separator: ", "))); "
                        + "`gridloopd report scorecard --month \(previous) --publish` publishes a revision if figures changed")
                return
            }
            let card = try Scorecard.load(from: a, to: b, level: level, evaluation: evaluation, asOf: RFC3339.format(now), db: db)
            guard !card.units.isEmpty else {
                print("nothing to publish: no handlings began in \(previous)")
                return
            }
            try report(card.publish(topic: config.topics.reports, deployment: config.deploymentName, db: db), config)
        }

        func report(_ publications: [Scorecard.Publication], _ config: GridloopConfig) throws {
            if publications.isEmpty { print("nothing to publish: no handlings in the period") }
            for p in publications {
                print(
                    p.queued
                        ? "published \(p.level): revision \(p.revision), event \(p.eventId), queued for \(config.topics.reports)"
                        : "unchanged \(p.level): the figures are those of revision \(p.revision) (\(p.eventId)); nothing emitted")
            }
        }
    }
}
