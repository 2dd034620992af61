import CoreMetrics
import GridloopHTTP
import GridloopPipeline
import Prometheus

/// The HTTP endpoints: `/metrics` (Prometheus text), `/healthz` (the process answers),
/// `/readyz` (database and brokers reachable, consumer group joined, lag under the threshold, no
/// intake gap waiting for acknowledgement; its body says whether the instance is active, with
/// its partitions, or a standby).
enum Endpoints {
    static func answer(_ path: String, registry: PrometheusCollectorRegistry, health: Health, maxLag: Int64) -> HTTPResponse {
        switch path {
        case "/metrics":
            Gauge(label: Metric.ready).record(health.readiness(maxLag: maxLag).isEmpty ? 1 : 0)
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            var r = HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: "")
            r.body = buffer
            return r
        case "/healthz":
            return HTTPResponse(status: 200, body: "ok\n")
        case "/readyz":
            let problems = health.readiness(maxLag: maxLag)
            return problems.isEmpty
                ? HTTPResponse(status: 200, body: "ready: \(health.role)\n")
                : HTTPResponse(status: 503, body: "not ready: " + problems.joined(separator: "; ") + "\n")
        default:
            return HTTPResponse(status: 404, body: "not found: try /metrics, /healthz or /readyz\n")
        }
    }
}
