/// The bounds the feed adapters put on what they keep from a message. Ids, codes and names
/// are stored as PostgreSQL `text` and shown to people, so each has a length (counted in
/// Unicode scalars: a count of `Character`s would let one letter carry any number of
/// combining marks) and none may hold a control character.
public enum FeedLimits {
    /// An order number (12345 `orderNo`, 12319 `case_id`): the 12345 contract's "1–40 chars".
    public static let orderNumber = 40
    /// Any other id or code: `msgId` (a UUID, 36), `msgType`, `event`, unit, category and
    /// region codes, `repeatOf`.
    public static let code = 64
    /// A name kept with the case: unit name, category name (`case_type`).
    public static let name = 200
    /// The 12345 appeal text (`order.content`), as the contract limits it.
    public static let content = 4000
    /// A whole message value. The largest message the contracts describe is a DISPATCH with
    /// 4000 characters of appeal text (about 12 KB); the bound is twenty times that, so only
    /// damage or abuse reaches it, and every string of a message is bounded by it.
    public static let messageBytes = 256 * 1024
    /// Characters of message content quoted in a rejection reason (codes only, never personal data).
    public static let quoted = 40
}
