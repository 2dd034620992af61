import CoreMetrics
import Foundation
import GridloopCore
import GridloopPipeline
import GridloopSettings
import GridloopStore
import Logging

/// Keeps `gridloop_cases_at_risk{level}` current: the expected number of breaches (the sum of
/// the forecast's probabilities, docs/FORECAST.md) among the open clocks due by the end of the
/// working day (`1wd`: midnight of today when it is a working day, else of the next one), every
/// `intervalMillis`, with the policy and calendars in force. Sums as the clocks come
/// (`ForecastModel`): it reads only the clocks due in that window, a page at a time.
public struct AtRiskGauge: AnalyticsTask {
    public let name = "gauge"
    private let config: GridloopConfig
    private let keeper: @Sendable () -> ClockKeeper
    private let intervalMillis: Int
    private var gauges: [LoopLevel: Gauge] = [:]

    public init(config: GridloopConfig, keeper: @escaping @Sendable () -> ClockKeeper, intervalMillis: Int = 60_000) {
        self.config = config
        self.keeper = keeper
        self.intervalMillis = intervalMillis
    }

    public mutating func round(_ db: Database) throws -> Int {
        let keeper = keeper()
        let inputs = ForecastModel.Inputs(
            policy: keeper.policy, calendar: keeper.calculator.calendar, at: Int64(Date().timeIntervalSince1970 * 1000),
            window: ForecastModel.dayWindow, maxHandlings: config.forecastHistoryMaxHandlings)
        let model = try ForecastModel.load(inputs, db: db)
        var byLevel: [LoopLevel: Double] = [:]
        try model.openClocks(db: db) { byLevel[$0.level, default: 0] += $0.probability ?? 0 }
        for level in LoopLevel.allCases {
            let gauge = gauges[level] ?? Gauge(label: Metric.casesAtRisk, dimensions: [("level", level.rawValue)])
            gauges[level] = gauge
            gauge.record(byLevel[level] ?? 0)
        }
        return intervalMillis
    }

    /// Another instance computes the gauge now: this one stops exporting its last values, so
    /// that a sum over the instances counts the group's once.
    public mutating func lost() {
        for gauge in gauges.values { gauge.destroy() }
        gauges = [:]
    }
}
