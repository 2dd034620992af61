/// The Kaplan–Meier estimate of S(t) = P(T > t), where T is the countable time from a unit's
/// assignment of a case to a milestone of a clock (SIGN for the sign clock, REPLY for the handle
/// clock), from handlings observed in the past. A handling that has not reached its milestone
/// (still open, or it left the unit by a return, an escalation or a withdrawal first) is
/// censored: it says only that T exceeded the time it was watched.
///
/// At a time where milestones and censorings tie, the milestones come first (the usual
/// convention: a handling censored at t was at risk at t).
public struct SurvivalCurve: Sendable, Hashable {
    /// One handling: `time` of countable time watched (milliseconds), and whether its milestone
    /// was reached at that time (`true`) or it was censored there (`false`).
    public struct Observation: Sendable, Hashable {
        public var time: Int64
        public var reached: Bool
        public init(time: Int64, reached: Bool) {
            self.time = time
            self.reached = reached
        }
    }

    /// The distinct times at which a milestone was reached, ascending.
    public private(set) var times: [Int64] = []
    /// S just after each of `times`.
    public private(set) var survivals: [Double] = []
    /// How many handlings the estimate rests on, and how many of them reached the milestone.
    public let observations: Int
    public let reached: Int

    public init<S: Sequence>(_ sample: S) where S.Element == Observation {
        let sorted = sample.sorted { $0.time < $1.time }
        observations = sorted.count
        reached = sorted.reduce(0) { $0 + ($1.reached ? 1 : 0) }
        var atRisk = sorted.count
        var s = 1.0
        var i = 0
        while i < sorted.count {
            let t = sorted[i].time
            var events = 0
            var censored = 0
            while i < sorted.count, sorted[i].time == t {
                if sorted[i].reached { events += 1 } else { censored += 1 }
                i += 1
            }
            if events > 0 {
                s *= 1 - Double(events) / Double(atRisk)
                times.append(t)
                survivals.append(s)
            }
            atRisk -= events + censored
        }
    }

    /// S(t): the estimated share of handlings that had not reached the milestone after `t` of
    /// countable time. Beyond the last observation it stays at its last value.
    public func survival(at t: Int64) -> Double {
        // The last step at or before t.
        var lo = 0
        var hi = times.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if times[mid] <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? 1 : survivals[lo - 1]
    }

    /// P(T > budget | T > used) = S(budget) / S(used): the probability that a handling which has
    /// used `used` of its limit without reaching the milestone is still without it at `budget`
    /// (a breach). 0 when the budget is already used up is not asked for: nil when `used` is not
    /// before `budget`, and nil when no handling of the sample lasted `used` without reaching the
    /// milestone (S(used) = 0: the sample cannot say).
    public func breachProbability(used: Int64, budget: Int64) -> Double? {
        guard used < budget else { return nil }
        let now = survival(at: used)
        guard now > 0 else { return nil }
        return min(1, survival(at: budget) / now)
    }
}
