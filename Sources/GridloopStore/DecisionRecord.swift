import Foundation
import GridloopCore
import GridloopPostgres

/// A decision as written: its outbox row (the published event) and its record in `sla_decisions`.
public struct DecisionRecord: Sendable {
    public var decision: SLADecision
    /// The case's level when the decision was taken (for an escalation, the level it left).
    public var level: LoopLevel
    /// The unit that held the case then (for an escalation, the unit it left).
    public var unitCode: String
    /// The topic the event goes to (recorded in `sla_decisions`).
    public var topic: String
    /// The event's JSON (`OutboundEvent.json`).
    public var payload: [UInt8]

    package init(decision: SLADecision, level: LoopLevel, unitCode: String, topic: String, payload: [UInt8]) {
        self.decision = decision
        self.level = level
        self.unitCode = unitCode
        self.topic = topic
        self.payload = payload
    }
}
