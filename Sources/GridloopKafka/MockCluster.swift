import CRdKafka

// Threading: the mock brokers run on librdkafka's own mock-cluster thread, which this file never
// calls into directly. `MockCluster` owns the cluster and the dummy producer handle it hangs off;
// its methods may be called from the thread that owns it (each is a synchronous request to the
// mock thread). Clients connect to `bootstraps` like to any Kafka cluster.

/// librdkafka's built-in mock Kafka cluster (`rdkafka_mock.h`): real Kafka-protocol brokers on
/// loopback ports inside this process, for development and tests.
///
/// Limits of the librdkafka 2.0.2 mock: each partition keeps at most about 5 MB and 100,000
/// produced batches (older batches are dropped, moving the low watermark), a fetch returns at
/// most one produced batch per partition, and an idle fetch waits `fetch.wait.max.ms` even when
/// data arrives meanwhile. Nothing is persisted.
public final class MockCluster {
    private let owner: OpaquePointer
    private let cluster: OpaquePointer

    /// Starts `brokers` mock brokers listening on loopback ports chosen by the system.
    public init(brokers: Int = 1) throws {
        guard brokers > 0 else {
            throw KafkaError(RD_KAFKA_RESP_ERR__INVALID_ARG, message: "mock cluster needs at least one broker")
        }
        // The mock cluster must hang off a client handle; a producer that never produces will do.
        let conf = try KafkaConfig.make(["client.id": "gridloop-mock-owner", "log_level": "4"])
        let rk = try makeClient(RD_KAFKA_PRODUCER, conf, what: "the mock cluster's owner")
        guard let mc = rd_kafka_mock_cluster_new(rk, Int32(brokers)) else {
            rd_kafka_destroy(rk)
            throw KafkaError(RD_KAFKA_RESP_ERR__FAIL, message: "rd_kafka_mock_cluster_new failed (see librdkafka's log)")
        }
        owner = rk
        cluster = mc
        brokerCount = brokers
    }

    private let brokerCount: Int

    /// Takes every mock broker down (connections closed, new ones refused) or brings them all
    /// back, keeping their topics and messages: an outage of the whole cluster, for tests.
    public func setAllBrokers(up: Bool) throws {
        for id in 1...brokerCount {
            let err = up ? rd_kafka_mock_broker_set_up(cluster, Int32(id)) : rd_kafka_mock_broker_set_down(cluster, Int32(id))
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(err, context: "set mock broker \(id) \(up ? "up" : "down")")
            }
        }
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(owner)
    }

    /// The `bootstrap.servers` list of the mock brokers (`host:port,...`).
    public var bootstraps: String { String(cString: rd_kafka_mock_cluster_bootstraps(cluster)) }

    /// Creates `name` with `partitions` partitions, leaders spread over the brokers;
    /// `replicationFactor` must not exceed the broker count.
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "create mock topic \(name)") }
    }
}
