/// How the unit scorecard (评议) weighs and ranks the units: the weight of each rate in the
/// composite score, how many handlings a unit needs to be ranked, and how long the red and black
/// lists are (docs/SCORECARD.md). The `evaluation:` section of the policy file.
public struct EvaluationPolicy: Sendable, Hashable {
    /// The rates the composite can weigh, by their key in the policy file.
    public enum Rate: String, Sendable, Hashable, CaseIterable {
        case response, onTime, resolution, satisfaction, overdue, `return`, reopen

        /// Whether a lower rate is the better one (the composite then scores 1 - rate).
        public var lowerIsBetter: Bool { self == .overdue || self == .return || self == .reopen }
    }

    /// Weight of each rate (missing: 0). Only the ratios between them matter.
    public var weights: [Rate: Double]
    /// A unit is ranked at a level when it had at least this many handlings in the period.
    public var minCases: Int
    /// How many units the red (红榜) and black (黑榜) lists of each level name.
    public var listSize: Int

    /// 30/35/35 for response, resolution and satisfaction, as some counties publish them; 5
    /// handlings to be ranked and lists of 3 are local choices.
    public static let standard = EvaluationPolicy(
        weights: [.response: 30, .resolution: 35, .satisfaction: 35], minCases: 5, listSize: 3)

    public init(weights: [Rate: Double], minCases: Int, listSize: Int) {
        self.weights = weights
        self.minCases = minCases
        self.listSize = listSize
    }

    /// 100 × Σ weight × score / Σ weight over the weighted rates that have a figure (score: the
    /// rate, or 1 - rate where lower is better); nil when none has.
    public func composite(_ rates: [Rate: Double?]) -> Double? {
        var sum = 0.0
        var weight = 0.0
        for rate in Rate.allCases {
            guard let w = weights[rate], w > 0, let value = rates[rate] ?? nil else { continue }
            sum += w * (rate.lowerIsBetter ? 1 - value : value)
            weight += w
        }
        return weight > 0 ? 100 * sum / weight : nil
    }
}
