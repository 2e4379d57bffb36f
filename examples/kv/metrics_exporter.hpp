// raft-kv's Prometheus endpoint (`serve --metrics HOST:PORT`): on each scrape
// it asks the member for its metrics (metrics_atom) and serves them in the
// Prometheus text format through prometheus-cpp's pull exposer. Its own
// library (raft_metrics_export): caf-raft itself never links prometheus-cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "caf/expected.hpp"
#include "caf/fwd.hpp"

#include "prometheus/metric_family.h"

#include "raft/member.hpp"

namespace prometheus {
class Exposer;
} // namespace prometheus

namespace kv {

/// One member's metrics as Prometheus families (docs/operations.md lists
/// them), each sample labelled with member="<id>".
std::vector<prometheus::MetricFamily>
to_families(const raft::member_metrics& m);

class metrics_exporter {
public:
  /// Adds families to every scrape: the hook for figures the member does not
  /// see (the wire's refused frames, the application's own).
  using source = std::function<void(std::vector<prometheus::MetricFamily>&)>;

  /// Serves GET /metrics on `host_port` (port 0: any free port), asking
  /// `member` for its metrics on each scrape and waiting at most
  /// `poll_timeout` for the answer. Fails if the address cannot be bound.
  static caf::expected<std::unique_ptr<metrics_exporter>>
  start(caf::actor_system& sys, raft::member_actor member,
        const std::string& host_port,
        std::chrono::milliseconds poll_timeout = std::chrono::seconds(1));

  /// Whether `host_port` is HOST:PORT with a port in [0, 65535] (0: any).
  static bool valid_address(const std::string& host_port);

  ~metrics_exporter();

  metrics_exporter(const metrics_exporter&) = delete;
  metrics_exporter& operator=(const metrics_exporter&) = delete;

  /// The port it listens on.
  uint16_t port() const {
    return port_;
  }

  /// See `source`; safe to call while scrapes run.
  void add_source(source src);

  struct collector;

private:
  metrics_exporter() = default;

  std::shared_ptr<collector> collector_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  uint16_t port_ = 0;
};

} // namespace kv
