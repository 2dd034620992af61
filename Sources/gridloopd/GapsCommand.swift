import ArgumentParser
import Foundation
import GridloopStore
import GridloopViews

/// `gridloopd gaps list|ack`: the ranges of intake partitions that the broker deleted before the
/// intake applied them (retention ran out while the daemon or the database was down), or a
/// stored offset beyond the end of a recreated topic.
struct GapsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gaps", abstract: "Look at and acknowledge intake offset gaps (messages lost before they were applied).",
        subcommands: [List.self, Ack.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the intake gaps of the consumer group, newest first.")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Only those not acknowledged yet.") var open = false
        @Option(help: "At most this many.") var limit = 100
        @Flag(help: "Print a JSON array.") var json = false

        func run() throws {
            let config = try options.load()
            let db = try CommandDatabase.connectMigrated(config)
            let gaps = try IntakeGapView.list(consumerGroup: config.consumerGroup, open: open, limit: limit, from: db)
            print(json ? try IntakeGapView.json(gaps) : IntakeGapView.table(gaps))
        }
    }

    struct Ack: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Acknowledge a gap: /readyz stops reporting it, and a partition stopped for it is read again.",
            discussion: """
                Acknowledging says that someone has seen the loss and dealt with it (for example, \
                asked the platform to send those orders again). The record stays; `gaps list` shows \
                who acknowledged it and when.
                """)
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The gap's id (from gaps list).") var id: Int64
        @Option(help: "Who acknowledges (default: the login name).") var by: String?
        @Flag(help: "Print the acknowledged gap as JSON.") var json = false

        func run() throws {
            let config = try options.load()
            let db = try CommandDatabase.connectMigrated(config)
            let who = by ?? ProcessInfo.processInfo.environment["USER"] ?? NSUserName()
            do {
                let gap = try IntakeGapView.acknowledge(id: id, consumerGroup: config.consumerGroup, by: who, db: db)
                print(json ? try prettyJSON(gap) : "gap \(gap.id) acknowledged by \(who): \(gap.summary)")
            } catch let refusal as GapRefusal {
                throw CommandFailure(message: refusal.message)
            }
        }
    }
}
