import XCTest

@testable import GridloopCore

/// The at-risk forecast's estimator on examples small enough to compute by hand.
final class SurvivalCurveTests: XCTestCase {
    private let hour: Int64 = 3_600_000
    private func obs(_ hours: Int64, _ reached: Bool) -> SurvivalCurve.Observation {
        SurvivalCurve.Observation(time: hours * hour, reached: reached)
    }

    /// Six handlings: signed after 1 h; watched 2 h, then escalated away (censored); signed after
    /// 3 h, twice; still open after 4 h (censored); signed after 5 h.
    ///   t = 1: 6 at risk, 1 signs: S = 5/6
    ///   t = 3: 4 at risk (the one censored at 2 h is gone), 2 sign: S = 5/6 × 2/4 = 5/12
    ///   t = 5: 1 at risk (the one censored at 4 h is gone), 1 signs: S = 0
    func testAHandComputedCurveWithCensoring() {
        let curve = SurvivalCurve([obs(3, true), obs(1, true), obs(4, false), obs(2, false), obs(5, true), obs(3, true)])
        XCTAssertEqual(curve.observations, 6)
        XCTAssertEqual(curve.reached, 4)
        XCTAssertEqual(curve.survival(at: 0), 1)
        XCTAssertEqual(curve.survival(at: hour - 1), 1)
        XCTAssertEqual(curve.survival(at: hour), 5.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(curve.survival(at: 3 * hour - 1), 5.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(curve.survival(at: 3 * hour), 5.0 / 12, accuracy: 1e-12)
        XCTAssertEqual(curve.survival(at: 4 * hour), 5.0 / 12, accuracy: 1e-12)
        XCTAssertEqual(curve.survival(at: 5 * hour), 0)
        XCTAssertEqual(curve.survival(at: 100 * hour), 0)

        // Conditioned on the time used: 2 h used of a 4 h limit: S(4)/S(2) = (5/12)/(5/6) = 1/2.
        XCTAssertEqual(curve.breachProbability(used: 2 * hour, budget: 4 * hour)!, 0.5, accuracy: 1e-12)
        // Nothing used of a 3 h limit: S(3) = 5/12.
        XCTAssertEqual(curve.breachProbability(used: 0, budget: 3 * hour)!, 5.0 / 12, accuracy: 1e-12)
        // 3.5 h used of a 6 h limit: S(6)/S(3.5) = 0/(5/12) = 0: every such handling signed by 5 h.
        XCTAssertEqual(curve.breachProbability(used: 7 * hour / 2, budget: 6 * hour)!, 0, accuracy: 1e-12)
        // No handling went 5 h unsigned: the curve cannot say.
        XCTAssertNil(curve.breachProbability(used: 5 * hour, budget: 6 * hour))
        // A limit already used up is not a forecast.
        XCTAssertNil(curve.breachProbability(used: 4 * hour, budget: 4 * hour))
    }

    /// A milestone and a censoring at the same time: the censored handling was at risk then.
    /// t = 2: 3 at risk, 1 signs: S = 2/3 (not 1/2, as censoring first would give).
    func testMilestonesComeBeforeCensoringsAtATie() {
        let curve = SurvivalCurve([obs(2, false), obs(2, true), obs(3, true)])
        XCTAssertEqual(curve.survival(at: 2 * hour), 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(curve.survival(at: 3 * hour), 0)
    }

    /// Handlings that never reached the milestone (all censored) say every one is still without
    /// it: a clock like them breaches.
    func testOnlyCensoredHandlingsGiveCertainBreach() {
        let curve = SurvivalCurve([obs(1, false), obs(5, false), obs(9, false)])
        XCTAssertEqual(curve.reached, 0)
        XCTAssertEqual(curve.breachProbability(used: 2 * hour, budget: 8 * hour), 1)
        XCTAssertEqual(SurvivalCurve([]).survival(at: hour), 1)
    }

    /// The forecaster uses a unit's own history when it has enough handlings, borrows from the
    /// level and category, then the level, when it has not, and says which it used.
    func testTheForecasterBorrowsWhenAUnitHasTooFewHandlings() {
        func h(_ unit: String, _ category: String, _ hours: Int64, _ reached: Bool, level: LoopLevel = .estate)
            -> BreachForecaster.Handling
        {
            BreachForecaster.Handling(
                level: level, unitCode: unit, categoryCode: category, kind: .sign, observation: obs(hours, reached))
        }
        // E1 always signs within 1 h (3 handlings); E2 signs after 5 h (1 handling) and has
        // another case still open after 6 h; category 0305 at the estate level is E1 and E2.
        // Category 0401 holds one handling of E3 that signed after 3 h.
        let history = [
            h("E1", "0305", 1, true), h("E1", "0305", 1, true), h("E1", "0305", 1, true),
            h("E2", "0305", 5, true), h("E2", "0305", 6, false),
            h("E3", "0401", 3, true),
            h("C1", "0305", 1, true, level: .community),
        ]
        let f = BreachForecaster(history: history, minHandlings: 3)

        // E1 has 3 handlings: its own curve; none went an hour unsigned: it cannot say, so the
        // category pool answers. Category 0305 at the estate: 1,1,1,5 signed, 6 censored:
        // S(1) = 2/5 (5 at risk, 3 sign), S(5) = 2/5 × 1/2 = 1/5, S(6) = 1/5.
        let own = f.estimate(level: .estate, unitCode: "E1", categoryCode: "0305", kind: .sign, used: 0, budget: 2 * hour)
        XCTAssertEqual(own.basis, .unit)
        XCTAssertEqual(own.handlings, 3)
        XCTAssertEqual(own.probability!, 0, accuracy: 1e-12)
        let borrowed = f.estimate(
            level: .estate, unitCode: "E1", categoryCode: "0305", kind: .sign, used: 2 * hour, budget: 4 * hour)
        XCTAssertEqual(borrowed.basis, .levelCategory)
        XCTAssertEqual(borrowed.handlings, 5)
        XCTAssertEqual(borrowed.probability!, 1, accuracy: 1e-12)  // S(4)/S(2) = (2/5)/(2/5)
        let borrowed2 = f.estimate(
            level: .estate, unitCode: "E2", categoryCode: "0305", kind: .sign, used: 2 * hour, budget: 6 * hour)
        XCTAssertEqual(borrowed2.basis, .levelCategory)  // E2 has 2 handlings, fewer than 3
        XCTAssertEqual(borrowed2.probability!, 0.5, accuracy: 1e-12)  // S(6)/S(2) = (1/5)/(2/5)

        // A new unit in a category with one handling: the level's pool, all six estate handlings:
        // t=1: 6 at risk, 3 sign: 1/2; t=3: 3 at risk, 1: 1/3; t=5: 2 at risk, 1: 1/6; 6 censored.
        let level = f.estimate(level: .estate, unitCode: "E9", categoryCode: "0401", kind: .sign, used: 0, budget: 4 * hour)
        XCTAssertEqual(level.basis, .level)
        XCTAssertEqual(level.handlings, 6)
        XCTAssertEqual(level.probability!, 1.0 / 3, accuracy: 1e-12)

        // Open 7 h at the estate: E2's case still open after 6 h keeps the category's curve at
        // 1/5 beyond it, so S(9)/S(7) = 1.
        let late = f.estimate(level: .estate, unitCode: "E2", categoryCode: "0305", kind: .sign, used: 7 * hour, budget: 9 * hour)
        XCTAssertEqual(late.basis, .levelCategory)
        XCTAssertEqual(late.probability!, 1, accuracy: 1e-12)
        // Open 2 h at the community, where the one handling signed after 1 h: no pool can say.
        let beyond = f.estimate(
            level: .community, unitCode: "C1", categoryCode: "0305", kind: .sign, used: 2 * hour, budget: 3 * hour)
        XCTAssertEqual(beyond.basis, .beyondHistory)
        XCTAssertEqual(beyond.probability, 1)

        // No street handling at all.
        let none = f.estimate(level: .street, unitCode: "S1", categoryCode: "0305", kind: .sign, used: 0, budget: hour)
        XCTAssertEqual(none.basis, .none)
        XCTAssertNil(none.probability)
        XCTAssertEqual(
            f.estimate(level: .estate, unitCode: "E1", categoryCode: "0305", kind: .handle, used: 0, budget: hour).basis, .none)
    }
}
