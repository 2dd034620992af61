/// How events change a case. Lenient by design: the platform is the source of truth, so
/// every event of an existing case is applied and recorded, even an unusual one.
extension CaseState {
    /// The state a DISPATCH creates; nil for any other event (the order does not exist yet).
    public static func start(from event: CaseEvent) -> CaseState? {
        guard event.type == .dispatch, let order = event.order, let assignee = event.assignee else { return nil }
        return CaseState(
            caseId: event.caseId, source: event.source, orderNo: event.orderNo, status: .dispatched,
            level: assignee.level, unitCode: assignee.unitCode, unitName: assignee.unitName, order: order,
            assignedAt: event.eventTime, lastSequence: event.sequence ?? 0, eventCount: 1,
            lastEventTime: event.eventTime)
    }

    /// Whether the case still needs handling (not closed, not withdrawn).
    public var isOpen: Bool { status != .closed && status != .withdrawn }

    /// The state after `event`; `gapBefore` counts 12319 events missing before it.
    public func applying(_ event: CaseEvent, gapBefore: Int = 0) -> CaseState {
        var s = self
        let t = event.eventTime
        switch event.type {
        case .dispatch, .redispatch:
            if let a = event.assignee {
                s.level = a.level
                s.unitCode = a.unitCode
                s.unitName = a.unitName
            }
            if event.type == .dispatch, let order = event.order { s.order = order }
            s.status = .dispatched
            s.assignedAt = t
            s.signedAt = nil
        case .sign:
            s.status = .signed
            s.signedAt = t
        case .return:
            s.status = .returned
        case .reply:
            s.status = .replied
            s.repliedAt = t
            s.repliedLevel = s.level
            s.lastResult = event.result
        case .extendApprove:
            s.extensionDays += event.days ?? 0
        case .extendApply, .extendReject:
            break
        case .suspend:
            if s.suspendedSince == nil { s.suspendedSince = t }
        case .resume:
            s.suspendedSince = nil
        case .visit:
            s.lastSatisfaction = event.satisfaction
            if event.satisfaction != .unsatisfied, s.status == .replied {
                s.status = .closed
                s.closedAt = t
            }
        case .reopen:
            s.status = .reopened
            s.repliedAt = nil
            s.closedAt = nil
        case .withdraw:
            s.status = .withdrawn
            s.closedAt = t
            s.suspendedSince = nil
        }
        s.eventCount += 1
        s.lastEventTime = max(s.lastEventTime, t)
        s.lastSequence = max(s.lastSequence, event.sequence ?? 0)
        if gapBefore > 0 { s.gapCount += 1 }
        return s
    }
}
