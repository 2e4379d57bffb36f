#include "metrics_exporter.hpp"

#include <exception>
#include <limits>
#include <mutex>

#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"

#include "prometheus/collectable.h"
#include "prometheus/exposer.h"

#include "raft/errc.hpp"

namespace kv {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

/// Builds the families of one member, every sample labelled with its id.
class family_builder {
public:
  explicit family_builder(const std::string& member) : member_(member) {
  }

  void gauge(const std::string& name, const std::string& help, double value,
             std::vector<ClientMetric::Label> labels = {}) {
    auto& s = sample(name, help, MetricType::Gauge, std::move(labels));
    s.gauge.value = value;
  }

  void counter(const std::string& name, const std::string& help,
               double value, std::vector<ClientMetric::Label> labels = {}) {
    auto& s = sample(name, help, MetricType::Counter, std::move(labels));
    s.counter.value = value;
  }

  /// `scale` converts the histogram's unit (e.g. 1e-6: µs to seconds).
  void histogram(const std::string& name, const std::string& help,
                 const raft::histogram& h, double scale = 1.0) {
    auto& s = sample(name, help, MetricType::Histogram, {});
    s.histogram.sample_count = h.count;
    s.histogram.sample_sum = static_cast<double>(h.sum) * scale;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < raft::histogram::buckets; ++i) {
      cumulative += h.counts[i];
      ClientMetric::Bucket b;
      b.cumulative_count = cumulative;
      b.upper_bound = i + 1 < raft::histogram::buckets
                        ? static_cast<double>(raft::histogram::upper_bound(i))
                            * scale
                        : std::numeric_limits<double>::infinity();
      s.histogram.bucket.push_back(b);
    }
  }

  std::vector<MetricFamily> take() {
    return std::move(families_);
  }

private:
  ClientMetric& sample(const std::string& name, const std::string& help,
                       MetricType type,
                       std::vector<ClientMetric::Label> labels) {
    if (families_.empty() || families_.back().name != name) {
      MetricFamily f;
      f.name = name;
      f.help = help;
      f.type = type;
      families_.push_back(std::move(f));
    }
    ClientMetric s;
    s.label.push_back({"member", member_});
    for (auto& l : labels)
      s.label.push_back(std::move(l));
    families_.back().metric.push_back(std::move(s));
    return families_.back().metric.back();
  }

  std::string member_;
  std::vector<MetricFamily> families_;
};

double num(uint64_t x) {
  return static_cast<double>(x);
}

constexpr double us = 1e-6;

} // namespace

std::vector<MetricFamily> to_families(const raft::member_metrics& m) {
  family_builder b{m.id};
  // -- gauges --
  b.gauge("raft_term", "Current term (Figure 2: currentTerm).", num(m.term));
  b.gauge("raft_is_leader", "1 if this member is the leader.",
          m.role == raft::role::leader ? 1 : 0);
  b.gauge("raft_has_leader",
          "1 if this member knows a leader of its current term.",
          m.leader.empty() ? 0 : 1);
  b.gauge("raft_commit_index", "Highest log index known committed.",
          num(m.commit_index));
  b.gauge("raft_last_applied_index",
          "Highest log index applied to the state machine.",
          num(m.last_applied));
  b.gauge("raft_last_log_index", "Last index in the log (maybe not durable).",
          num(m.last_log_index));
  b.gauge("raft_durable_index",
          "Last log index the log writer confirmed durable.",
          num(m.durable_index));
  b.gauge("raft_snapshot_index", "Last index covered by the newest snapshot.",
          num(m.snapshot_index));
  for (auto& p : m.peers)
    if (p.is_follower)
      b.gauge("raft_follower_match_lag_entries",
              "Leader only: last log index minus the follower's match index.",
              num(p.match_lag), {{"peer", p.id}});
  // -- counters --
  b.counter("raft_log_writes_total",
            "Batches written to the log (one fdatasync each on disk).",
            num(m.log_writes));
  b.counter("raft_log_entries_written_total", "Entries written to the log.",
            num(m.entries_written));
  b.counter("raft_messages_sent_total", "Raft messages sent to peers.",
            num(m.messages_sent));
  b.counter("raft_entries_sent_total",
            "Entries carried by the AppendEntries sent.", num(m.entries_sent));
  b.counter("raft_entries_committed_total",
            "Entries committed since this member started.",
            num(m.entries_committed));
  b.counter("raft_elections_started_total",
            "Elections this member started (it became candidate).",
            num(m.elections_started));
  b.counter("raft_leader_changes_total",
            "Times the leader this member knows of changed.",
            num(m.leader_changes));
  b.counter("raft_term_changes_total", "Times this member's term advanced.",
            num(m.term_changes));
  for (size_t i = 0; i < raft::refusal_kinds; ++i)
    b.counter("raft_refused_messages_total",
              "Messages the member refused, by reason (each also logged).",
              num(m.refused[i]),
              {{"reason", raft::to_string(static_cast<raft::refusal>(i))}});
  auto per_peer = [&](const char* name, const char* help, auto field) {
    for (auto& p : m.peers)
      b.counter(name, help, num(p.*field), {{"peer", p.id}});
  };
  per_peer("raft_peer_messages_sent_total", "Raft messages sent to the peer.",
           &raft::peer_metrics::messages_sent);
  per_peer("raft_peer_messages_received_total",
           "Raft messages received from the peer.",
           &raft::peer_metrics::messages_received);
  per_peer("raft_peer_payload_bytes_sent_total",
           "Command and snapshot bytes carried in messages to the peer.",
           &raft::peer_metrics::bytes_sent);
  per_peer("raft_peer_payload_bytes_received_total",
           "Command and snapshot bytes carried in messages from the peer.",
           &raft::peer_metrics::bytes_received);
  // -- histograms --
  b.histogram("raft_commit_latency_seconds",
              "Leader: a client's append received -> its entry committed.",
              m.commit_latency_us, us);
  b.histogram("raft_log_write_duration_seconds",
              "A batch handed to the log writer -> durable (write+fdatasync).",
              m.log_write_us, us);
  b.histogram("raft_log_write_entries", "Entries per log write.",
              m.log_write_entries);
  b.histogram("raft_append_entries_entries",
              "Entries per AppendEntries sent (heartbeats not counted).",
              m.append_entries);
  b.histogram("raft_snapshot_save_duration_seconds",
              "Snapshot saves: the state machine's save -> durable file.",
              m.snapshot_save_us, us);
  b.histogram("raft_snapshot_save_bytes", "Size of the snapshots saved.",
              m.snapshot_save_bytes);
  b.histogram("raft_snapshot_install_duration_seconds",
              "Snapshot installs: first chunk received -> state restored.",
              m.snapshot_install_us, us);
  b.histogram("raft_snapshot_install_bytes", "Size of the snapshots installed.",
              m.snapshot_install_bytes);
  return b.take();
}

// -- the exporter ------------------------------------------------------------------

struct metrics_exporter::collector : prometheus::Collectable {
  caf::actor_system* sys = nullptr;
  raft::member_actor member;
  std::chrono::milliseconds timeout{1000};
  mutable std::mutex mtx;
  std::vector<source> sources;

  std::vector<MetricFamily> Collect() const override {
    std::vector<MetricFamily> out;
    bool up = false;
    {
      // A blocking request from the exposer's own thread, never from a
      // scheduler worker.
      caf::scoped_actor self{*sys};
      self->request(member, timeout, raft::metrics_atom::value)
        .receive(
          [&](raft::member_metrics& m) {
            out = to_families(m);
            up = true;
          },
          [&](caf::error&) {});
    }
    MetricFamily f;
    f.name = "raft_metrics_up";
    f.help = "1 if the member answered this scrape's metrics request.";
    f.type = MetricType::Gauge;
    ClientMetric s;
    s.gauge.value = up ? 1 : 0;
    f.metric.push_back(std::move(s));
    out.push_back(std::move(f));
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& src : sources)
      src(out);
    return out;
  }
};

bool metrics_exporter::valid_address(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return false;
  auto port = host_port.substr(colon + 1);
  return !port.empty() && port.size() <= 5
         && port.find_first_not_of("0123456789") == std::string::npos
         && std::stoul(port) <= 65535;
}

caf::expected<std::unique_ptr<metrics_exporter>>
metrics_exporter::start(caf::actor_system& sys, raft::member_actor member,
                        const std::string& host_port,
                        std::chrono::milliseconds poll_timeout) {
  if (!valid_address(host_port))
    return raft::make_error(raft::errc::invalid_config,
                            "--metrics: '" + host_port + "' is not HOST:PORT");
  std::unique_ptr<metrics_exporter> e{new metrics_exporter};
  e->collector_ = std::make_shared<collector>();
  e->collector_->sys = &sys;
  e->collector_->member = std::move(member);
  e->collector_->timeout = poll_timeout;
  try {
    // civetweb binds exactly the host given ("127.0.0.1:9100", "[::1]:0").
    e->exposer_ = std::make_unique<prometheus::Exposer>(host_port, 1);
  } catch (const std::exception& ex) {
    return raft::make_error(raft::errc::invalid_config,
                            "--metrics: cannot listen on " + host_port + ": "
                              + ex.what());
  }
  auto ports = e->exposer_->GetListeningPorts();
  if (ports.empty() || ports.front() <= 0 || ports.front() > 65535)
    return raft::make_error(raft::errc::invalid_config,
                            "--metrics: not listening on " + host_port);
  e->port_ = static_cast<uint16_t>(ports.front());
  e->exposer_->RegisterCollectable(e->collector_);
  return e;
}

metrics_exporter::~metrics_exporter() {
  // Stop serving before the collector goes away.
  exposer_.reset();
}

void metrics_exporter::add_source(source src) {
  std::lock_guard<std::mutex> guard{collector_->mtx};
  collector_->sources.push_back(std::move(src));
}

} // namespace kv
