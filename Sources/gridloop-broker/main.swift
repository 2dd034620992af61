// gridloop-broker: the development broker. Runs librdkafka's mock Kafka cluster as a process of
// its own, creates the topics, prints `BOOTSTRAP=<list>` and stays up until SIGTERM or SIGINT.
//
// Threading: the main thread parses argv, blocks SIGTERM/SIGINT (before librdkafka starts any
// thread, so every thread inherits the mask and only `sigwait` sees them), owns the
// `MockCluster`, and then sleeps in `sigwait`. The mock brokers run on librdkafka's threads;
// their log lines go to `KafkaLog`'s default sink (key=value lines on stderr).
import GridloopKafka

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

let usage = """
    usage: gridloop-broker [--brokers N] [--partitions N] [--topic NAME]... [--bootstrap-file PATH]

    Runs librdkafka's mock Kafka cluster (rdkafka_mock.h) in this process until SIGTERM or
    SIGINT, for development, the demo, tests and benchmarks. Prints one line
    BOOTSTRAP=<host:port,...> on stdout and, with --bootstrap-file, writes the list to PATH
    (through a temporary file and a rename, so a reader never sees a partial list).
    SIGUSR1 takes every broker down (topics and messages kept), SIGUSR2 brings them back.

      --brokers N          mock brokers (default 1)
      --partitions N       partitions of every topic (default 6)
      --topic NAME         a topic to create (repeatable). Default: hotline.12345.workorders,
                           hotline.12319.cases, gridloop.intake.dlq, gridloop.escalations,
                           gridloop.supervision, gridloop.outcomes, gridloop.reports
      --bootstrap-file P   also write the bootstrap list to P
      --help               this text

    Limits of the librdkafka 2.0.2 mock: nothing is persisted; each partition keeps only
    about 5 MB (and at most 100,000 produced batches): older batches are dropped, so a consumer
    that falls further behind than that loses data. Consume while producing, or use more
    partitions for big loads. A fetch returns at most one produced batch per partition.
    """

func writeStderr(_ text: String) {
    var t = text
    t.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func fail(_ message: String) -> Never {
    writeStderr("gridloop-broker: \(message)\n\n\(usage)\n")
    exit(2)
}

struct Options {
    var brokers = 1
    var partitions = 6
    var topics: [String] = []
    var bootstrapFile: String?
}

func parse(_ argv: [String]) -> Options {
    var o = Options()
    var args = argv[...]
    func positive(_ flag: String) -> Int {
        guard let v = args.popFirst().flatMap({ Int($0) }), v > 0 else { fail("\(flag) needs a positive number") }
        return v
    }
    while let arg = args.popFirst() {
        switch arg {
        case "--help", "-h":
            print(usage)
            exit(0)
        case "--brokers": o.brokers = positive(arg)
        case "--partitions": o.partitions = positive(arg)
        case "--topic":
            guard let v = args.popFirst(), !v.isEmpty, !v.hasPrefix("--") else { fail("--topic needs a name") }
            o.topics.append(v)
        case "--bootstrap-file":
            guard let v = args.popFirst(), !v.isEmpty, !v.hasPrefix("--") else { fail("--bootstrap-file needs a path") }
            o.bootstrapFile = v
        default: fail("unknown argument \(arg)")
        }
    }
    if o.topics.isEmpty {
        o.topics = [
            "hotline.12345.workorders", "hotline.12319.cases", "gridloop.intake.dlq", "gridloop.escalations",
            "gridloop.supervision", "gridloop.outcomes", "gridloop.reports",
        ]
    }
    return o
}

/// Writes `text` to `path` atomically: a temporary file in the same directory, then rename(2).
/// Returns why it failed, or nil.
func writeAtomically(_ text: String, to path: String) -> String? {
    let tmp = "\(path).\(getpid()).tmp"
    guard let f = fopen(tmp, "w") else { return "cannot write \(tmp): \(String(cString: strerror(errno)))" }
    let written = fputs(text, f) >= 0 && fflush(f) == 0
    let closed = fclose(f) == 0
    guard written, closed, rename(tmp, path) == 0 else {
        let reason = String(cString: strerror(errno))
        unlink(tmp)
        return "cannot write \(path): \(reason)"
    }
    return nil
}

/// Runs the broker until a stop signal; returns the exit status.
func run(_ options: Options) -> Int32 {
    // Block the stop signals before any librdkafka thread starts, then wait for one of them.
    var stopSignals = sigset_t()
    sigemptyset(&stopSignals)
    sigaddset(&stopSignals, SIGTERM)
    sigaddset(&stopSignals, SIGINT)
    sigaddset(&stopSignals, SIGUSR1)
    sigaddset(&stopSignals, SIGUSR2)
    pthread_sigmask(SIG_BLOCK, &stopSignals, nil)
    signal(SIGPIPE, SIG_IGN)

    do {
        let cluster = try MockCluster(brokers: options.brokers)
        for t in options.topics {
            try cluster.createTopic(t, partitions: options.partitions, replicationFactor: min(options.brokers, 3))
        }
        let list = cluster.bootstraps
        if let file = options.bootstrapFile, let problem = writeAtomically(list + "\n", to: file) {
            writeStderr("gridloop-broker: \(problem)\n")
            return 1
        }
        print("BOOTSTRAP=\(list)")
        fflush(nil)
        var received: Int32 = 0
        while true {
            while sigwait(&stopSignals, &received) != 0 {}
            // SIGUSR1 takes every broker down, SIGUSR2 brings them back (an outage, for tests).
            guard received == SIGUSR1 || received == SIGUSR2 else { break }
            do {
                try cluster.setAllBrokers(up: received == SIGUSR2)
                writeStderr("gridloop-broker: brokers \(received == SIGUSR2 ? "up" : "down")\n")
            } catch {
                writeStderr("gridloop-broker: \(error)\n")
            }
        }
        writeStderr("gridloop-broker: signal \(received), stopping\n")
        withExtendedLifetime(cluster) {}  // the cluster is destroyed here, before exit
        return 0
    } catch {
        writeStderr("gridloop-broker: \(error)\n")
        return 1
    }
}

exit(run(parse(Array(CommandLine.arguments.dropFirst()))))
