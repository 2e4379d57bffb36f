// raft-kv-bench: sustained put rate through the client library against a
// running cluster (for the figures in docs/operations.md).
//
//   raft-kv-bench --cluster H1:P1,... [--seconds S] [--threads T]
//                 [--outstanding N] [--value-size B] [--keys K] [--puts P]
//                 [--timeline F] [--transfers N] [TLS options]
//
// --keys K (with --outstanding): keys "00000000".."K-1" in turn, so that P
// puts overwrite each key P / K times (the memory benchmark,
// examples/bench/memory.sh). --puts P: stop after P puts (or --seconds).
// Refusals with errc::overloaded (the leader's back-pressure) are counted
// apart from other failures.
//
// --threads T: T threads each doing blocking puts one after another (the
// library coalesces what they send concurrently). --outstanding N: one
// actor keeping N puts in flight instead. Prints puts/s and latencies.
// --timeline F (with --threads): also writes F, one line per 10 ms
// "UNIX_MS PUTS" (the puts acknowledged in the 10 ms from UNIX_MS), so a
// script can take the rate over any window (membership_figures.sh).
// --transfers N: instead of load, N leadership transfers (thesis §3.10),
// each to the member after the current leader in --cluster: prints the time
// from the transfer request to the first put acknowledged after its reply
// (the new leader serving writes), each and the median.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/client.hpp"
#include "raft/errc.hpp"
#include "raft/remote.hpp"

#include "kv_client.hpp"
#include "kv_command.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  std::vector<std::string> cluster;
  int seconds = 5;
  int threads = 0;
  int outstanding = 0;
  size_t value_size = 16;
  size_t keys = 0;
  size_t puts = 0;
  std::string timeline;
  int transfers = 0;
  raft::tls_options tls;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "raft-kv-bench: " << why
            << "\nusage: raft-kv-bench --cluster H:P,... [--seconds S] "
               "[--threads T | --outstanding N] [--value-size B] [--timeline F] "
               "[--transfers N] "
               "[--tls-cert F --tls-key F --tls-ca F]\n";
  std::exit(2);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    auto c = s.find(',', start);
    if (c == std::string::npos)
      c = s.size();
    if (c > start)
      out.push_back(s.substr(start, c - start));
    start = c + 1;
  }
  return out;
}

void report(const char* what, size_t ok, size_t failed, double secs,
            std::vector<double>& lat_ms) {
  std::sort(lat_ms.begin(), lat_ms.end());
  auto pct = [&](double p) {
    return lat_ms.empty() ? 0.0
                          : lat_ms[std::min(lat_ms.size() - 1,
                                            static_cast<size_t>(p * lat_ms.size()))];
  };
  std::printf("%s: %zu puts acknowledged in %.1f s = %.0f puts/s (%zu failed); "
              "latency p50 %.2f ms, p99 %.2f ms\n",
              what, ok, secs, ok / secs, failed, pct(0.5), pct(0.99));
}

/// The leader's index in `o.cluster`, as the members report it.
std::optional<size_t> leader_of(kv::client& c, const options& o) {
  auto all = c.statuses(o.cluster);
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i] && all[i]->role == raft::role::leader)
      return i;
  return std::nullopt;
}

int transfers(kv::client& c, const options& o, const std::string& value) {
  std::vector<double> took_ms;
  for (int i = 0; i < o.transfers; ++i) {
    auto leader = leader_of(c, o);
    if (!leader) {
      std::fprintf(stderr, "raft-kv-bench: no leader\n");
      return 1;
    }
    auto& target = o.cluster[(*leader + 1) % o.cluster.size()];
    auto t0 = clock_type::now();
    auto r = c.transfer(target);
    if (r.outcome != kv::outcome::ok) {
      std::fprintf(stderr, "raft-kv-bench: transfer to %s: %s\n",
                   target.c_str(), r.message.c_str());
      return 1;
    }
    auto p = c.put("transfer-" + std::to_string(i), value);
    auto ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0)
                .count();
    if (p.outcome != kv::outcome::ok) {
      std::fprintf(stderr, "raft-kv-bench: put after transfer: %s\n",
                   p.message.c_str());
      return 1;
    }
    std::printf("transfer %d to %s: new leader serving writes after %.1f ms\n",
                i + 1, target.c_str(), ms);
    took_ms.push_back(ms);
    // Let the new leader settle (its no-op, heartbeats) before the next.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  std::sort(took_ms.begin(), took_ms.end());
  std::printf("transfers: %zu, median %.1f ms, min %.1f, max %.1f\n",
              took_ms.size(), took_ms[took_ms.size() / 2], took_ms.front(),
              took_ms.back());
  std::fflush(stdout);
  std::_Exit(0);
}

} // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc)
      usage(a + " needs a value");
    std::string v = argv[++i];
    if (a == "--cluster")
      o.cluster = split(v);
    else if (a == "--seconds")
      o.seconds = std::stoi(v);
    else if (a == "--threads")
      o.threads = std::stoi(v);
    else if (a == "--outstanding")
      o.outstanding = std::stoi(v);
    else if (a == "--value-size")
      o.value_size = std::stoul(v);
    else if (a == "--keys")
      o.keys = std::stoul(v);
    else if (a == "--puts")
      o.puts = std::stoul(v);
    else if (a == "--transfers")
      o.transfers = std::stoi(v);
    else if (a == "--timeline")
      o.timeline = v;
    else if (a == "--tls-cert")
      o.tls.certificate = v;
    else if (a == "--tls-key")
      o.tls.key = v;
    else if (a == "--tls-ca")
      o.tls.ca_file = v;
    else
      usage("unknown option " + a);
  }
  if (o.cluster.empty())
    usage("--cluster is required");
  if (o.threads == 0 && o.outstanding == 0)
    o.threads = 1;
  if (!o.timeline.empty() && o.threads == 0)
    usage("--timeline needs --threads");
  caf::actor_system_config cfg;
  if (auto err = raft::configure_remote(cfg, o.tls))
    usage("bad configuration");
  caf::actor_system sys{cfg};
  raft::client_options copts;
  copts.cluster = o.cluster;
  copts.tls = o.tls;
  copts.timeout = std::chrono::seconds(10);
  auto c = kv::client::make(sys, copts);
  if (!c)
    usage(sys.render(c.error()));
  std::string value(o.value_size, 'x');
  // Warm up: connect, find the leader.
  (*c)->put("warmup", value);
  if (o.transfers > 0)
    return transfers(**c, o, value);
  auto deadline = clock_type::now() + std::chrono::seconds(o.seconds);
  auto t0 = clock_type::now();
  std::atomic<size_t> ok{0};
  std::atomic<size_t> failed{0};
  std::mutex mtx;
  std::vector<double> lat_ms;
  // Acknowledgements per 10 ms of wall-clock time (--timeline).
  std::map<int64_t, size_t> acked_per_slot;
  if (o.threads > 0) {
    std::vector<std::thread> threads;
    for (int t = 0; t < o.threads; ++t)
      threads.emplace_back([&, t] {
        std::vector<double> mine;
        std::map<int64_t, size_t> my_slots;
        for (size_t i = 0; clock_type::now() < deadline; ++i) {
          auto start = clock_type::now();
          auto r = (*c)->put("t" + std::to_string(t) + "-" + std::to_string(i),
                             value);
          auto d = std::chrono::duration<double, std::milli>(clock_type::now()
                                                             - start);
          if (r.outcome == kv::outcome::ok) {
            ++ok;
            mine.push_back(d.count());
            auto unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
            ++my_slots[unix_ms / 10 * 10];
          } else {
            ++failed;
          }
        }
        std::lock_guard<std::mutex> guard{mtx};
        lat_ms.insert(lat_ms.end(), mine.begin(), mine.end());
        for (auto& [slot, n] : my_slots)
          acked_per_slot[slot] += n;
      });
    for (auto& th : threads)
      th.join();
    auto secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    std::string what = "library, " + std::to_string(o.threads)
                       + " blocking threads";
    report(what.c_str(), ok, failed, secs, lat_ms);
    if (!o.timeline.empty()) {
      std::ofstream out{o.timeline};
      for (auto& [slot, n] : acked_per_slot)
        out << slot << ' ' << n << '\n';
      if (!out) {
        std::fprintf(stderr, "raft-kv-bench: cannot write %s\n",
                     o.timeline.c_str());
        return 1;
      }
    }
    return 0;
  }
  // N puts in flight from one actor.
  auto hdl = (*c)->handle();
  auto n = o.outstanding;
  caf::scoped_actor self{sys};
  auto lat = std::make_shared<std::vector<double>>();
  auto counts = std::make_shared<std::pair<size_t, size_t>>(0, 0);
  auto overloaded = std::make_shared<size_t>(0);
  auto driver = sys.spawn([=](caf::event_based_actor* me) -> caf::behavior {
    auto next = std::make_shared<size_t>(0);
    auto in_flight = std::make_shared<int>(0);
    auto done = std::make_shared<caf::response_promise>();
    std::shared_ptr<std::function<void()>> send_one
      = std::make_shared<std::function<void()>>();
    *send_one = [=] {
      if (clock_type::now() >= deadline
          || (o.puts > 0 && *next >= o.puts)) {
        if (*in_flight == 0)
          done->deliver(caf::ok_atom::value);
        return;
      }
      ++*in_flight;
      auto start = clock_type::now();
      std::string key;
      if (o.keys > 0) {
        char buf[24];
        std::snprintf(buf, sizeof(buf), "%08zu", (*next)++ % o.keys);
        key = buf;
      } else {
        key = "o" + std::to_string((*next)++);
      }
      me->request(hdl, std::chrono::seconds(20), raft::append_atom::value,
                  kv::put_cmd(key, value))
        .then(
          [=](raft::append_reply&) {
            --*in_flight;
            ++counts->first;
            lat->push_back(std::chrono::duration<double, std::milli>(
                             clock_type::now() - start)
                             .count());
            (*send_one)();
          },
          [=](caf::error& err) {
            --*in_flight;
            ++counts->second;
            if (err.category() == raft::errc_category
                && err.code() == static_cast<uint8_t>(raft::errc::overloaded)) {
              // Back-pressure: wait a little before this slot tries again.
              ++*overloaded;
              me->delayed_send(me, std::chrono::milliseconds(10),
                               caf::tick_atom::value);
              return;
            }
            (*send_one)();
          });
    };
    return {
      [=](caf::tick_atom) { (*send_one)(); },
      [=](caf::ok_atom) {
        *done = me->make_response_promise();
        for (int i = 0; i < n; ++i)
          (*send_one)();
        return caf::delegated<caf::ok_atom>{};
      },
    };
  });
  self->request(driver, caf::infinite, caf::ok_atom::value)
    .receive([](caf::ok_atom) {}, [](caf::error&) {});
  auto secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::string what = "library, " + std::to_string(n) + " puts in flight";
  report(what.c_str(), counts->first, counts->second, secs, *lat);
  if (*overloaded > 0)
    std::printf("of the failed: %zu refused with overloaded (the leader's "
                "back-pressure, not applied)\n", *overloaded);
  self->send_exit(driver, caf::exit_reason::user_shutdown);
  std::fflush(stdout);
  std::_Exit(0);
}
