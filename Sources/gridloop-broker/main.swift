// gridloop-broker: the development broker. Runs librdkafka's mock Kafka cluster as a process
// of its own, creates the topics, prints `BOOTSTRAP=<list>` and stays up until SIGTERM/SIGINT.
import GridloopKafka

#if canImport(Glibc)
import Glibc
#endif

let usage = """
    usage: gridloop-broker [--brokers N] [--partitions N] [--topic NAME]... [--bootstrap-file PATH]

    Runs librdkafka's mock Kafka cluster (rdkafka_mock.h) until SIGTERM or SIGINT, for tests,
    the demo and the benchmarks. Prints BOOTSTRAP=<host:port,...> on stdout and, with
    --bootstrap-file, writes the list to PATH (atomically). Default topics, each with
    --partitions partitions (default 6): hotline.12345.workorders, hotline.12319.cases,
    gridloop.intake.dlq, gridloop.events.

    The mock keeps only about 5 MB per partition (older messages are dropped): produce and
    consume concurrently, or give the topics enough partitions for the data.
    """

func writeStderr(_ text: String) {
    var t = text
    t.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

var brokers = 1
var partitions = 6
var topics: [String] = []
var bootstrapFile: String?
var args = CommandLine.arguments.dropFirst()
func fail(_ message: String) -> Never {
    writeStderr("gridloop-broker: \(message)\n\n\(usage)\n")
    exit(2)
}
while let arg = args.popFirst() {
    switch arg {
    case "--help", "-h": print(usage); exit(0)
    case "--brokers": guard let v = args.popFirst().flatMap({ Int($0) }), v > 0 else { fail("--brokers needs a positive number") }; brokers = v
    case "--partitions": guard let v = args.popFirst().flatMap({ Int($0) }), v > 0 else { fail("--partitions needs a positive number") }; partitions = v
    case "--topic": guard let v = args.popFirst(), !v.isEmpty else { fail("--topic needs a name") }; topics.append(v)
    case "--bootstrap-file": guard let v = args.popFirst() else { fail("--bootstrap-file needs a path") }; bootstrapFile = v
    default: fail("unknown argument \(arg)")
    }
}
if topics.isEmpty { topics = ["hotline.12345.workorders", "hotline.12319.cases", "gridloop.intake.dlq", "gridloop.events"] }

// Block the stop signals before any librdkafka thread starts, then wait for one of them.
var stopSignals = sigset_t()
sigemptyset(&stopSignals)
sigaddset(&stopSignals, SIGTERM)
sigaddset(&stopSignals, SIGINT)
pthread_sigmask(SIG_BLOCK, &stopSignals, nil)

do {
    let cluster = try MockCluster(brokers: brokers)
    for t in topics { try cluster.createTopic(t, partitions: partitions) }
    let list = cluster.bootstraps
    if let bootstrapFile {
        let tmp = bootstrapFile + ".tmp"
        guard let f = fopen(tmp, "w") else { fail("cannot write \(tmp)") }
        fputs(list + "\n", f)
        fclose(f)
        rename(tmp, bootstrapFile)
    }
    print("BOOTSTRAP=\(list)")
    fflush(nil)
    var received: Int32 = 0
    sigwait(&stopSignals, &received)
    withExtendedLifetime(cluster) {}
    exit(0)
} catch {
    writeStderr("gridloop-broker: \(error)\n")
    exit(1)
}
