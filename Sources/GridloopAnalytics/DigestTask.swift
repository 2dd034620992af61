import CoreMetrics
import Foundation
import GridloopCore
import GridloopPipeline
import GridloopSettings
import GridloopStore
import Logging

/// Queues the morning digests (`gridloop.unit.digest`) once a working day at
/// `forecast.digestAt`, or at the first round after it when no instance ran then
/// (docs/FORECAST.md): looks once a minute; on a due day not yet recorded, forecasts the clocks
/// due by the day's end and queues one event per unit with a clock at or above
/// `forecast.digestThreshold`, with the day, in one transaction (`DigestQueries.queue`: several
/// instances, or a lease taken over mid-round, still queue one set).
public struct DigestTask: AnalyticsTask {
    public let name = "digest"
    private let config: GridloopConfig
    private let keeper: @Sendable () -> ClockKeeper
    private let logger: Logging.Logger
    private let onQueued: @Sendable () -> Void

    public init(
        config: GridloopConfig, keeper: @escaping @Sendable () -> ClockKeeper, logger: Logging.Logger,
        onQueued: @escaping @Sendable () -> Void
    ) {
        self.config = config
        self.keeper = keeper
        self.logger = logger
        self.onQueued = onQueued
    }

    /// A digest not queued this long after `forecast.digestAt` on a working day is late
    /// (`gridloop_digest_overdue` 1, an alert): a round runs every minute and takes seconds, so
    /// half an hour is many failed rounds, not a slow one.
    public static let overdueAfterMinutes = 30
    private var overdue: Gauge?

    public mutating func round(_ db: Database) throws -> Int {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        // Said before the attempt: an attempt that fails leaves it at 1 until one succeeds.
        let gauge = overdue ?? Gauge(label: Metric.digestOverdue)
        overdue = gauge
        gauge.record(try isOverdue(now: now, db: db) ? 1 : 0)
        if case .queued(let n) = try queue(now: now, db: db) {
            logger.notice("morning digests queued", metadata: ["units": "\(n)", "topic": "\(config.topics.supervision)"])
            onQueued()
        }
        gauge.record(0)
        return 60_000
    }

    /// Another instance holds the lease: only it says whether the digest is late.
    public mutating func lost() {
        overdue?.destroy()
        overdue = nil
    }

    /// Whether today is a working day more than `overdueAfterMinutes` past its digest time with
    /// no digest queued.
    func isOverdue(now: Int64, db: Database) throws -> Bool {
        let today = LocalDate(containing: now)
        guard keeper().calculator.calendar.isWorkingDay(today),
            now >= today.startMillis + Int64(config.digestAt + Self.overdueAfterMinutes) * 60_000
        else { return false }
        return try !DigestQueries.queued(day: today.description, db: db)
    }

    /// What `queue` did.
    public enum Outcome: Equatable, Sendable {
        /// Today is not a working day, or its digest time has not come.
        case notDue
        /// Queued already (by this daemon or another).
        case done
        /// Queued now: this many events.
        case queued(Int)
    }

    /// At `now`: on a working day at or after `digestAt`, queues the day's digests once.
    public func queue(now: Int64, db: Database) throws -> Outcome {
        let keeper = keeper()
        let calendar = keeper.calculator.calendar
        let today = LocalDate(containing: now)
        guard calendar.isWorkingDay(today), now >= today.startMillis + Int64(config.digestAt) * 60_000 else {
            return .notDue
        }
        let day = today.description
        if try DigestQueries.queued(day: day, db: db) { return .done }
        let model = try ForecastModel.load(
            ForecastModel.Inputs(
                policy: keeper.policy, calendar: calendar, at: now, window: ForecastModel.dayWindow,
                maxHandlings: config.forecastHistoryMaxHandlings), db: db)
        var digest = MorningDigest(threshold: config.digestThreshold)
        try model.openClocks(db: db) { digest.add($0) }
        let names = try ScorecardQueries.unitNames(codes: digest.unitCodes, db: db)
        let messages = try digest.messages(
            day: day, at: now, until: model.windowEnd, names: names, topic: config.topics.supervision,
            deployment: config.deploymentName)
        return try DigestQueries.queue(day: day, computedAt: now, messages: messages, db: db) ? .queued(messages.count) : .done
    }
}
