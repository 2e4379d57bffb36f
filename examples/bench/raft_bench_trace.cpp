// raft-bench --trace N: where a put's time goes. Every member stamps every
// N-th log index at each stage it sees (raft/trace.hpp, config::trace); the
// clients stamp their send and the reply of the puts whose reply names such
// an index. At the end the member processes print their stamps (asked with
// SIGUSR1; in-process members are read directly), and the stamps are joined
// by index. All stamps are CLOCK_MONOTONIC (std::chrono::steady_clock on
// Linux), one clock for every process of the machine.

#include "raft_bench.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>

#include <poll.h>
#include <signal.h>
#include <unistd.h>

namespace raft_bench {

using raft::trace_stage;

void print_member_trace(const raft::trace_log& log) {
  auto stamps = log.stamps();
  std::string out = "TRACE " + std::to_string(stamps.size()) + "\n";
  for (auto& s : stamps) {
    out += std::to_string(s.index);
    out += ' ';
    out += std::to_string(static_cast<int>(s.stage));
    out += ' ';
    out += std::to_string(s.ns);
    out += '\n';
  }
  out += "TRACE-END\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

std::vector<raft::trace_stamp>
fetch_member_trace(child& c, std::chrono::milliseconds timeout) {
  std::vector<raft::trace_stamp> out;
  if (c.pid <= 0 || kill(c.pid, SIGUSR1) != 0)
    return out;
  std::string buf;
  auto deadline = clk::now() + timeout;
  size_t begin = std::string::npos;
  while (clk::now() < deadline) {
    pollfd p{c.out, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0)
      continue;
    char tmp[65536];
    auto n = read(c.out, tmp, sizeof(tmp));
    if (n <= 0)
      break;
    buf.append(tmp, static_cast<size_t>(n));
    if (begin == std::string::npos)
      begin = buf.find("TRACE ");
    if (begin != std::string::npos
        && buf.find("TRACE-END\n", begin) != std::string::npos)
      break;
  }
  if (begin == std::string::npos)
    return out;
  std::istringstream in{buf.substr(begin)};
  std::string word;
  size_t n = 0;
  in >> word >> n;
  out.reserve(std::min<size_t>(n, 1u << 20));
  for (size_t i = 0; i < n; ++i) {
    raft::trace_stamp s;
    int stage = 0;
    if (!(in >> s.index >> stage >> s.ns) || stage < 0
        || static_cast<size_t>(stage) >= raft::trace_stage_count)
      break;
    s.stage = static_cast<trace_stage>(stage);
    out.push_back(s);
  }
  return out;
}

namespace {

constexpr size_t n_stages = raft::trace_stage_count;
using times = std::array<int64_t, n_stages>; // -1: missing

size_t at(trace_stage s) {
  return static_cast<size_t>(s);
}

bool leader_stage(trace_stage s) {
  return s == trace_stage::leader_receive || s == trace_stage::leader_durable
         || s == trace_stage::ack_received || s == trace_stage::commit
         || s == trace_stage::applied;
}

double pct_us(std::vector<int64_t>& v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return static_cast<double>(percentile(v, p)) / 1000.0;
}

} // namespace

trace_figures
join_traces(const std::vector<client_trace>& clients,
            const std::vector<std::vector<raft::trace_stamp>>& members,
            uint32_t every) {
  trace_figures t;
  t.every = every;
  t.traced = clients.size();
  // Per member: index -> its stamps.
  std::vector<std::map<raft::index_t, times>> per(members.size());
  std::map<raft::index_t, size_t> leader_of; // the member that proposed it
  for (size_t m = 0; m < members.size(); ++m) {
    t.member_stamps += members[m].size();
    for (auto& s : members[m]) {
      auto [it, fresh] = per[m].try_emplace(s.index);
      if (fresh)
        it->second.fill(-1);
      auto& slot = it->second[at(s.stage)];
      if (slot < 0)
        slot = s.ns;
      if (s.stage == trace_stage::leader_receive)
        leader_of[s.index] = m;
    }
  }
  std::vector<times> joined;
  for (auto& c : clients) {
    auto l = leader_of.find(c.index);
    if (l == leader_of.end())
      continue;
    times x;
    x.fill(-1);
    x[at(trace_stage::client_send)] = c.send_ns;
    x[at(trace_stage::reply_received)] = c.reply_ns;
    auto& lt = per[l->second][c.index];
    for (size_t s = 0; s < n_stages; ++s)
      if (leader_stage(static_cast<trace_stage>(s)))
        x[s] = lt[s];
    // The follower whose write was durable first: in a cluster of three its
    // acknowledgement commits the entry.
    int64_t best = -1;
    for (size_t m = 0; m < members.size(); ++m) {
      if (m == l->second)
        continue;
      auto f = per[m].find(c.index);
      if (f == per[m].end())
        continue;
      auto d = f->second[at(trace_stage::follower_durable)];
      auto r = f->second[at(trace_stage::follower_receive)];
      if (d >= 0 && r >= 0 && (best < 0 || d < best)) {
        best = d;
        x[at(trace_stage::follower_receive)] = r;
        x[at(trace_stage::follower_durable)] = d;
      }
    }
    if (std::all_of(x.begin(), x.end(), [](int64_t v) { return v >= 0; }))
      joined.push_back(x);
  }
  t.complete = joined.size();
  // Each stage against the one it waits for (the path is a graph: the
  // leader's write runs beside replication).
  struct edge {
    trace_stage stage;
    const char* after;
  };
  const edge edges[] = {
    {trace_stage::leader_receive, "client_send"},
    {trace_stage::leader_durable, "leader_receive"},
    {trace_stage::follower_receive, "leader_receive"},
    {trace_stage::follower_durable, "follower_receive"},
    {trace_stage::ack_received, "follower_durable"},
    {trace_stage::commit, "max(leader_durable, ack_received)"},
    {trace_stage::applied, "commit"},
    {trace_stage::reply_received, "applied"},
  };
  size_t leader_last = 0;
  for (auto& x : joined)
    if (x[at(trace_stage::leader_durable)] > x[at(trace_stage::ack_received)])
      ++leader_last;
  if (!joined.empty())
    t.leader_write_last_pct = 100.0 * static_cast<double>(leader_last)
                              / static_cast<double>(joined.size());
  for (auto& e : edges) {
    std::vector<int64_t> step, total;
    for (auto& x : joined) {
      int64_t prev;
      switch (e.stage) {
        case trace_stage::leader_receive:
          prev = x[at(trace_stage::client_send)];
          break;
        case trace_stage::leader_durable:
        case trace_stage::follower_receive:
          prev = x[at(trace_stage::leader_receive)];
          break;
        case trace_stage::follower_durable:
          prev = x[at(trace_stage::follower_receive)];
          break;
        case trace_stage::ack_received:
          prev = x[at(trace_stage::follower_durable)];
          break;
        case trace_stage::commit:
          prev = std::max(x[at(trace_stage::leader_durable)],
                          x[at(trace_stage::ack_received)]);
          break;
        case trace_stage::applied:
          prev = x[at(trace_stage::commit)];
          break;
        default:
          prev = x[at(trace_stage::applied)];
      }
      step.push_back(x[at(e.stage)] - prev);
      total.push_back(x[at(e.stage)] - x[at(trace_stage::client_send)]);
    }
    stage_figures f;
    f.stage = e.stage;
    f.after = e.after;
    f.p50_us = pct_us(step, 0.5);
    f.p99_us = pct_us(step, 0.99);
    f.since_send_p50_us = pct_us(total, 0.5);
    f.since_send_p99_us = pct_us(total, 0.99);
    t.stages.push_back(f);
  }
  return t;
}

void print_trace_text(const trace_figures& t) {
  std::printf("  trace       every %u-th index: %zu puts traced in the window, "
              "%zu with every stage (%zu member stamps)\n",
              t.every, t.traced, t.complete, t.member_stamps);
  if (t.complete == 0)
    return;
  std::printf("    %-17s %-34s %9s %9s   %9s %9s\n", "stage", "after",
              "p50 us", "p99 us", "send->p50", "send->p99");
  for (auto& s : t.stages)
    std::printf("    %-17s %-34s %9.1f %9.1f   %9.1f %9.1f\n",
                raft::to_string(s.stage), s.after.c_str(), s.p50_us, s.p99_us,
                s.since_send_p50_us, s.since_send_p99_us);
  std::printf("    commit waited for the leader's own write in %.1f%% of the "
              "puts (else for the first follower's acknowledgement)\n",
              t.leader_write_last_pct);
}

std::string trace_json(const trace_figures& t) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << "{\"every\":" << t.every << ",\"traced\":" << t.traced
      << ",\"complete\":" << t.complete << ",\"member_stamps\":"
      << t.member_stamps << ",\"leader_write_last_pct\":"
      << t.leader_write_last_pct << ",\"stages\":[";
  for (size_t i = 0; i < t.stages.size(); ++i) {
    auto& s = t.stages[i];
    out << (i ? "," : "") << "{\"stage\":\"" << raft::to_string(s.stage)
        << "\",\"after\":\"" << s.after << "\",\"p50_us\":" << s.p50_us
        << ",\"p99_us\":" << s.p99_us
        << ",\"since_send_p50_us\":" << s.since_send_p50_us
        << ",\"since_send_p99_us\":" << s.since_send_p99_us << '}';
  }
  out << "]}";
  return out.str();
}

} // namespace raft_bench
