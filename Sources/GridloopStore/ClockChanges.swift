import Foundation
import GridloopCore
import GridloopPostgres

/// What the SLA clocks write with a batch, in the batch's transaction.
public struct ClockChanges: Sendable {
    public var clocks: [String: CaseClock] = [:]
    /// When each changed clock next needs attention (absent: nothing pending).
    public var due: [String: Int64] = [:]
    public var decisions: [DecisionRecord] = []
    public init() {}
    public var isEmpty: Bool { clocks.isEmpty && decisions.isEmpty }

    /// The COPY bodies of the clocks and of the decisions, built by `prepare()`: the intake
    /// thread builds them while the commit thread is still writing the batch before.
    var prepared: Prepared?

    struct Prepared: Sendable {
        /// Rows of `clock_stage`, one per changed clock (nil: none).
        var clocks: [UInt8]?
        /// The decisions' `sla_decisions` and outbox rows, each id once (nil: none).
        var copies: (records: [UInt8], outbox: [UInt8])?
    }

    /// Encodes the clocks (JSON) and decisions into their COPY bodies now, so that writing them
    /// is I/O only. Call it once the changes are complete: later changes are not in the bodies.
    public mutating func prepare() {
        guard prepared == nil else { return }
        var body: [UInt8]?
        if !clocks.isEmpty {
            var copy = CopyBinaryWriter(capacity: clocks.count * 512)
            for clock in clocks.values.sorted(by: { $0.caseId < $1.caseId }) {
                copy.text(clock.caseId)
                copy.text(clock.topic)
                copy.int(Int(clock.partition))
                copy.text(clock.level.rawValue)
                copy.timestamp(epochMillis: due[clock.caseId])
                copy.text(utf8: clock.json)
                copy.endRow()
            }
            body = copy.finished
        }
        prepared = Prepared(clocks: body, copies: DecisionRow.copies(decisions))
    }
}
