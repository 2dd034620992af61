import CRdKafka

/// librdkafka's built-in mock Kafka cluster (`rdkafka_mock.h`): a real Kafka-protocol broker
/// in this process, for development and tests. It keeps only a few MB per partition
/// (older messages are dropped), so produce and consume concurrently or use enough partitions.
public final class MockCluster {
    private let owner: OpaquePointer
    private let cluster: OpaquePointer

    /// Starts `brokers` mock brokers listening on loopback ports chosen by the system.
    public init(brokers: Int = 1) throws {
        let conf = try KafkaConfiguration.make(["client.id": "gridloop-mock-owner", "log_level": "3"])
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError.client("cannot create the mock cluster's owner: \(cString(errstr))")
        }
        guard let mc = rd_kafka_mock_cluster_new(rk, Int32(brokers)) else {
            rd_kafka_destroy(rk)
            throw KafkaError.client("cannot create the mock cluster")
        }
        owner = rk
        cluster = mc
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(owner)
    }

    /// The `bootstrap.servers` list of the mock brokers.
    public var bootstraps: String { String(cString: rd_kafka_mock_cluster_bootstraps(cluster)) }

    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "create topic \(name)") }
    }
}
