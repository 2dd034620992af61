import ArgumentParser
import Foundation
import GridloopCore
import GridloopEvaluation
import GridloopSettings
import GridloopStore
import GridloopViews

struct DLQCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Look at and re-drive dead letters.", subcommands: [List.self, Retry.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters, newest first.")
        @OptionGroup var options: ConfigOptions
        @Option(help: "At most this many.") var limit = 100
        @Flag(help: "Print a JSON array.") var json = false

        func run() throws {
            let config = try options.load()
            let db = try CommandDatabase.connectMigrated(config)
            let letters = try DeadLetterView.list(limit: limit, from: db)
            if json {
                print(try DeadLetterView.json(letters))
            } else {
                print(DeadLetterView.table(letters))
            }
        }
    }
}

extension DLQCommand {
    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish dead letters again to the partition they came from, after a fix.",
            discussion: """
                The original key, bytes and headers go back to the partition the message came from, \
                with a gridloop-retry-of header. The intake applies it if it is valid now, or \
                dead-letters it again as a new row. Each dead letter is retried once; `dlq list` \
                shows which were, and where they went.
                """)
        @OptionGroup var options: ConfigOptions
        @Argument(help: "Dead letter ids (from dlq list).") var ids: [Int64] = []
        @Flag(help: "Every dead letter not retried yet.") var all = false
        @Flag(help: "Print one JSON object: published (id, topic, partition, newOffset, headers) and failed (id, error).")
        var json = false

        func validate() throws {
            if ids.isEmpty == !all { throw ValidationError("give dead letter ids, or --all") }
        }

        func run() throws {
            let config = try options.load()
            let db = try CommandDatabase.connectMigrated(config)
            // A refusal (unknown id, retried already) prints as "Error: ..." and exits 1.
            let summary = try DeadLetterRetry.retry(ids: all ? nil : ids, config: config, db: db)
            if json {
                print(try prettyJSON(summary))
            } else if summary.published.isEmpty && summary.failed.isEmpty {
                print("nothing to retry: no dead letter is waiting (gridloopd dlq list shows them all)")
            } else {
                for o in summary.published {
                    let headers = o.headers.map { "\($0) original header(s)" } ?? "no headers kept (stored before migration 003)"
                    print("dead letter \(o.id) published again to \(o.topic)[\(o.partition)]@\(o.newOffset), \(headers)")
                }
            }
            if !summary.failed.isEmpty {
                for f in summary.failed { FileHandle.standardError.write(Data("gridloopd: \(f)\n".utf8)) }
                throw ExitCode(1)
            }
        }
    }
}
