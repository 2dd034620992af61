/// One key of the daemon's configuration: everything the file parser, the environment, the
/// reload and the documentation need to know about it, in one entry of `GridloopConfig.keys`.
public struct ConfigKey: Sendable {
    /// When a changed value takes effect in a running daemon.
    public enum Change: String, Sendable, Equatable {
        /// Only after a restart: a reload names the key in `needs_restart=` and keeps the old value in use.
        case restart
        /// On reload (SIGHUP, `systemctl reload gridloopd`).
        case reload
    }

    /// `section.name`, as written in the YAML file (`name:` under `section:`).
    public let path: String
    /// The environment variable that overrides the file, if there is one.
    public let variable: String?
    public let change: Change
    /// One line for people: what the key is for, and its values when they are not obvious.
    public let summary: String
    /// Parses and validates a value and stores it in the configuration.
    let parse: @Sendable (inout GridloopConfig, ConfigInput) throws -> Void
    /// Whether two configurations differ in this key, as a reload compares them.
    let differs: @Sendable (GridloopConfig, GridloopConfig) -> Bool
    /// The value of a configuration in the form one would write it (`30s`, `off`); nil: not set.
    let show: @Sendable (GridloopConfig) -> String?

    /// `compared` is what a reload compares: usually the stored value; for a secret file, the
    /// secret read from it, so that a changed password is noticed.
    init<Compared: Equatable & Sendable>(
        _ path: String, _ variable: String?, _ change: Change, _ summary: String,
        compared: @escaping @Sendable (GridloopConfig) -> Compared,
        show: @escaping @Sendable (GridloopConfig) -> String?,
        parse: @escaping @Sendable (inout GridloopConfig, ConfigInput) throws -> Void
    ) {
        precondition(path.split(separator: ".").count == 2, "a key is section.name: \(path)")
        precondition(!summary.contains("|"), "a summary is one cell of a markdown table: \(path)")
        self.path = path
        self.variable = variable
        self.change = change
        self.summary = summary
        self.parse = parse
        self.differs = { compared($0) != compared($1) }
        self.show = show
    }

    /// The section, `intake` of `intake.holdWait`.
    public var section: String { String(path.prefix { $0 != "." }) }
    /// The name within the section, `holdWait` of `intake.holdWait`.
    public var name: String { String(path.drop { $0 != "." }.dropFirst()) }
    /// The value when neither the file nor the environment sets the key; nil: not set.
    public var defaultValue: String? { show(GridloopConfig()) }
}
