// raft-bench: the load. Closed-loop clients, their latency histogram and
// soak samples, and the members' batching counters read at both ends of
// the measured window.

#include "raft_bench.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caf/actor_cast.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/client.hpp"
#include "raft/member.hpp"
#include "raft/remote.hpp"
#include "raft/storage/file_storage.hpp"
#include "raft/storage/snapshot_store.hpp"

#include "kv_command.hpp"
#include "kv_state_machine.hpp"

namespace raft_bench {

using go_atom = caf::atom_constant<caf::atom("benchgo")>;

// -- load ---------------------------------------------------------------------------------


size_t hist_bucket(uint32_t us) {
  if (us < 32)
    return us;
  auto msb = 31 - __builtin_clz(us);
  return std::min<size_t>(hist_buckets - 1,
                          static_cast<size_t>((msb - 3) * 16)
                            + ((us >> (msb - 4)) & 15));
}

/// Middle of a bucket, in microseconds.
double hist_value(size_t b) {
  if (b < 32)
    return static_cast<double>(b);
  auto msb = b / 16 + 3;
  auto sub = b % 16;
  auto width = static_cast<double>(1u << (msb - 4));
  return static_cast<double>((16 + sub) << (msb - 4)) + width / 2;
}



std::string samples_json(const std::vector<sample>& v) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << '[';
  for (size_t i = 0; i < v.size(); ++i) {
    auto& x = v[i];
    out << (i ? "," : "") << "{\"t\":" << x.t << ",\"ops_per_sec\":" << x.ops
        << ",\"p50_us\":" << x.p50 << ",\"p99_us\":" << x.p99
        << ",\"errors\":" << x.errors << ",\"rss_mib\":[";
    for (size_t k = 0; k < x.rss.size(); ++k)
      out << (k ? "," : "") << x.rss[k];
    out << "],\"disk_mib\":[";
    for (size_t k = 0; k < x.disk.size(); ++k)
      out << (k ? "," : "") << x.disk[k];
    out << "],\"loadavg\":" << x.load << '}';
  }
  out << ']';
  return out.str();
}


drift ops_drift(const std::vector<sample>& v) {
  drift d;
  if (v.size() < 3)
    return d;
  double n = static_cast<double>(v.size()), st = 0, so = 0, stt = 0, sto = 0;
  for (auto& x : v) {
    st += x.t;
    so += x.ops;
    stt += x.t * x.t;
    sto += x.t * x.ops;
  }
  double den = n * stt - st * st;
  double mean = so / n;
  if (den > 0 && mean > 0)
    d.slope_pct_per_min = (n * sto - st * so) / den * 60 / mean * 100;
  auto third = v.size() / 3;
  for (size_t i = 0; i < third; ++i) {
    d.first_third += v[i].ops / static_cast<double>(third);
    d.last_third += v[v.size() - 1 - i].ops / static_cast<double>(third);
  }
  return d;
}

caf::behavior bench_client(caf::event_based_actor* self, caf::actor target,
                           std::shared_ptr<stats> st, int id, size_t size) {
  auto value = std::make_shared<std::string>(size, 'v');
  auto n = std::make_shared<uint64_t>(static_cast<uint64_t>(id) * 7919);
  auto lat = std::make_shared<std::vector<uint32_t>>();
  auto traced = std::make_shared<std::vector<client_trace>>();
  auto next = std::make_shared<std::function<void()>>();
  *next = [=] {
    if (clk::now() >= st->t_end) {
      {
        std::lock_guard<std::mutex> guard{st->mtx};
        st->lat_us.insert(st->lat_us.end(), lat->begin(), lat->end());
        st->traced.insert(st->traced.end(), traced->begin(), traced->end());
      }
      ++st->finished;
      self->quit();
      return;
    }
    char key[16];
    std::snprintf(key, sizeof(key), "%08u",
                  static_cast<unsigned>((*n)++ % 100000));
    auto t0 = clk::now();
    self
      ->request(target, std::chrono::seconds(10), raft::append_atom::value,
                kv::put_cmd(key, *value))
      .then(
        [=](raft::append_reply& reply) {
          auto t1 = clk::now();
          ++st->completed;
          auto us = static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0)
              .count());
          if (t0 >= st->t_start && t1 <= st->t_end) {
            lat->push_back(us);
            // --trace: the leader stamped this index too (raft/trace.hpp).
            if (st->trace_every > 0 && reply.index % st->trace_every == 0)
              traced->push_back(client_trace{
                reply.index,
                std::chrono::duration_cast<std::chrono::nanoseconds>(
                  t0.time_since_epoch())
                  .count(),
                std::chrono::duration_cast<std::chrono::nanoseconds>(
                  t1.time_since_epoch())
                  .count()});
          }
          if (st->sampling)
            st->hist[hist_bucket(us)].fetch_add(1, std::memory_order_relaxed);
          (*next)();
        },
        [=](caf::error&) {
          ++st->failed;
          // No busy loop while there is no leader.
          self->delayed_send(self, std::chrono::milliseconds(5),
                             go_atom::value);
        });
  };
  self->send(self, go_atom::value);
  return {[=](go_atom) { (*next)(); }};
}

// -- batching counters ------------------------------------------------------------------


/// Asks every member for its status: in-process members directly, remote
/// ones through the client (`status_atom, id`).
counter_snapshot read_counters(caf::scoped_actor& self,
                               const std::vector<raft::member_actor>& local,
                               const caf::actor& client,
                               const std::vector<std::string>& ids) {
  counter_snapshot out;
  auto add = [&](raft::member_status& s) {
    out.log_writes += s.counters.log_writes;
    out.entries_written += s.counters.entries_written;
    out.messages_sent += s.counters.messages_sent;
    out.commit = std::max<uint64_t>(out.commit, s.commit_index);
  };
  auto failed = [&](caf::error&) { out.ok = false; };
  if (!local.empty()) {
    for (auto& m : local)
      self->request(m, std::chrono::seconds(5), raft::status_atom::value)
        .receive(add, failed);
  } else {
    for (auto& id : ids)
      self
        ->request(client, std::chrono::seconds(5), raft::status_atom::value, id)
        .receive(add, failed);
  }
  return out;
}

} // namespace raft_bench
