// The hostile-peer suite (label `hostile`): a real 3-process `raft-kv serve`
// cluster, plain and TLS with an access list, attacked by this test speaking
// raw TCP/TLS as an outside attacker would (issue 10). Each attack is one
// function and one row of the attack table; rig::run checks after each that
// no election happened, the member's RSS stayed within 64 MiB, clients were
// served, and the refusal was logged; restart_and_verify then checks that
// every acknowledged write survives a restart of all members.
//
//   hostile_test                 the short variant (floods of ~5 s)
//   hostile_test -- --long       floods of 30 s (label `long`)
//
// RAFT_HOSTILE_TABLE=FILE appends the attack table (Markdown) to FILE.
#define BOOST_TEST_MODULE hostile
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "attacker.hpp"
#include "rig.hpp"
#include "wire.hpp"

using namespace raft::hostile;
using raft::dist::wait_until;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr uint64_t GiB = uint64_t{1} << 30;

/// Every refusal's log line (docs/wire.md, "Refusals and the log").
const std::string refused = "wire: refused";

bool long_run() {
  auto& suite = boost::unit_test::framework::master_test_suite();
  for (int i = 1; i < suite.argc; ++i)
    if (std::string{suite.argv[i]} == "--long")
      return true;
  return false;
}

long ms_since(clock_type::time_point t0) {
  return static_cast<long>(
    std::chrono::duration_cast<milliseconds>(clock_type::now() - t0).count());
}

// -- the attacks ----------------------------------------------------------------

/// 32 unauthenticated bytes: a frame header announcing `len` bytes. The
/// member must close the connection without allocating them.
std::function<void(attack_context&)> huge_frame(uint64_t len) {
  return [len](attack_context& ctx) {
    auto c = connection::tcp(ctx.target);
    BOOST_REQUIRE(c.valid());
    auto t0 = clock_type::now();
    BOOST_TEST(c.write(frame_header(len)) > 0u);
    auto closed = c.closed_by_peer(milliseconds(3000));
    ctx.note = closed ? "closed after " + std::to_string(ms_since(t0)) + " ms"
                      : "still open after 3 s";
    BOOST_TEST(closed, "the member closes a connection announcing " << len
                                                                    << " bytes");
  };
}

/// 40 connections at a time, 4 KiB of random bytes each, again and again
/// for the flood duration.
void random_bytes_attack(attack_context& ctx) {
  auto end = clock_type::now() + ctx.duration;
  size_t conns = 0;
  for (uint64_t round = 0; clock_type::now() < end; ++round) {
    std::vector<connection> cs;
    for (int i = 0; i < 40; ++i) {
      auto c = connection::tcp(ctx.target);
      if (!c.valid())
        continue;
      c.write(random_bytes(4096, round * 40 + static_cast<uint64_t>(i)),
              milliseconds(200));
      cs.push_back(std::move(c));
      ++conns;
    }
  }
  ctx.note = std::to_string(conns) + " connections";
}

/// One connection writing garbage as fast as it goes, reconnecting when the
/// member closes it.
void garbage_flood_attack(attack_context& ctx) {
  auto end = clock_type::now() + ctx.duration;
  auto chunk = random_bytes(1 << 20, 42);
  size_t bytes = 0, conns = 0;
  while (clock_type::now() < end) {
    auto c = connection::tcp(ctx.target);
    if (!c.valid())
      continue;
    ++conns;
    for (;;) {
      auto n = c.write(chunk, milliseconds(500));
      bytes += n;
      if (n < chunk.size() || clock_type::now() >= end)
        break;
    }
  }
  ctx.note = std::to_string(bytes >> 20) + " MiB in " + std::to_string(conns)
             + " connections";
}

/// `n` idle TCP connections held open past the handshake deadline; the
/// member must close them (and keep serving meanwhile).
std::function<void(attack_context&)> idle_connections(size_t n,
                                                      milliseconds hold) {
  return [n, hold](attack_context& ctx) {
    BOOST_REQUIRE(raise_fd_limit() >= n + 64);
    std::vector<connection> cs;
    for (size_t i = 0; i < n; ++i) {
      auto c = connection::tcp(ctx.target, milliseconds(1000));
      if (c.valid())
        cs.push_back(std::move(c));
    }
    auto t0 = clock_type::now();
    size_t closed = 0;
    for (auto& c : cs)
      if (c.closed_by_peer(std::max(milliseconds(1), hold - milliseconds(ms_since(t0)))))
        ++closed;
    ctx.note = std::to_string(cs.size()) + " opened, " + std::to_string(closed)
               + " closed by the member within " + std::to_string(hold.count() / 1000)
               + " s";
    BOOST_TEST(closed == cs.size(), "the member closes idle connections");
  };
}

void print_table(const rig& r) {
  auto t = rig::table(r.rows());
  std::cout << "\n" << t << std::endl;
  if (auto file = std::getenv("RAFT_HOSTILE_TABLE")) {
    std::ofstream out{file, std::ios::app};
    out << t << "\n";
  }
}

} // namespace

BOOST_AUTO_TEST_CASE(a_plain_cluster_survives_the_attacks) {
  rig::options o;
  o.long_run = long_run();
  rig r{o};
  auto leader = r.cluster().await_leader(milliseconds(15000));
  BOOST_REQUIRE(leader.has_value());
  auto follower = (*leader + 1) % r.cluster().size();
  r.run("frame announcing 1 GiB", *leader, huge_frame(GiB), refused);
  r.run("frame announcing 4 GiB", follower, huge_frame(4 * GiB), refused);
  r.run("random bytes, 40 connections", *leader, random_bytes_attack, refused);
  r.run("500 idle connections", *leader, idle_connections(500, milliseconds(8000)),
        "refused");
  r.run("garbage at full speed", follower, garbage_flood_attack, refused);
  r.restart_and_verify();
  print_table(r);
}
