// `raft-kv serve --metrics 127.0.0.1:0` on three real processes: each
// member's Prometheus endpoint is scraped over HTTP before and after some
// puts, and the figures must move with the load (commits, fsync histogram,
// bytes per peer) while the leader gauge names the leader.
#define BOOST_TEST_MODULE distributed_metrics
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <cstdio>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <regex>
#include <sstream>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "kv_cluster.hpp"

using namespace raft::dist;
using std::chrono::milliseconds;

namespace {

/// The body of GET /metrics on 127.0.0.1:port (empty on any failure).
std::string http_get_metrics(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return {};
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, req.data(), req.size(), 0)
        == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      ssize_t n;
      // Bounded: the exporter's answer is some kilobytes.
      while (response.size() < (1u << 22)
             && (n = ::recv(fd, buf, sizeof(buf), 0)) > 0)
        response.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  if (response.rfind("HTTP/1.", 0) != 0
      || response.find(" 200 ") == std::string::npos)
    return {};
  auto body = response.find("\r\n\r\n");
  return body == std::string::npos ? std::string{} : response.substr(body + 4);
}

/// One scrape: every sample by its series ("name{labels}" as written).
using scrape = std::map<std::string, double>;

scrape parse(const std::string& text) {
  scrape out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    auto space = line.rfind(' ');
    if (space == std::string::npos)
      continue;
    out[line.substr(0, space)] = std::strtod(line.c_str() + space + 1,
                                             nullptr);
  }
  return out;
}

/// The value of a series, or -1 if the scrape lacks it.
double value(const scrape& s, const std::string& series) {
  auto i = s.find(series);
  return i == s.end() ? -1 : i->second;
}

/// The port member i's exporter reported ("raft-kv: metrics at port N").
uint16_t metrics_port(const kv_cluster& c, size_t i) {
  uint16_t port = 0;
  wait_until(
    [&] {
      std::smatch m;
      auto log = c.log(i);
      if (std::regex_search(log, m, std::regex{"metrics at port ([0-9]+)"}))
        port = static_cast<uint16_t>(std::stoi(m[1]));
      return port != 0;
    },
    milliseconds(15000));
  return port;
}

/// Whether a socket listens on 127.0.0.1:port, and on no other address
/// (/proc/net/tcp: local address as hex "0100007F:PORT", state 0A).
bool listens_on_loopback_only(uint16_t port) {
  std::ifstream in{"/proc/net/tcp"};
  std::string line;
  char want[8];
  std::snprintf(want, sizeof(want), ":%04X", port);
  bool loopback = false;
  bool other = false;
  while (std::getline(in, line)) {
    std::istringstream fields{line};
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    if (state != "0A" || local.size() < 5
        || local.substr(local.size() - 5) != want)
      continue;
    (local.rfind("0100007F:", 0) == 0 ? loopback : other) = true;
  }
  return loopback && !other;
}

std::string series(const std::string& name, const std::string& member,
                   const std::string& more = {}) {
  return name + "{member=\"" + member + "\"" + (more.empty() ? "" : ",")
         + more + "}";
}

} // namespace

BOOST_AUTO_TEST_CASE(scrapes_follow_the_load) {
  kv_cluster::options o;
  o.serve_args = {"--metrics", "127.0.0.1:0"};
  kv_cluster c{o};
  c.start_all();
  auto leader = c.await_leader(milliseconds(15000));
  BOOST_REQUIRE(leader.has_value());
  auto& lid = c.ids()[*leader];
  std::vector<uint16_t> ports;
  for (size_t i = 0; i < c.size(); ++i) {
    ports.push_back(metrics_port(c, i));
    BOOST_TEST_INFO("member " << i << "'s log:\n" << c.log(i));
    BOOST_REQUIRE(ports.back() != 0);
    BOOST_TEST(listens_on_loopback_only(ports.back()));
  }
  auto scrape_all = [&] {
    std::vector<scrape> out;
    for (auto port : ports) {
      auto body = http_get_metrics(port);
      BOOST_TEST_INFO("scrape of port " << port);
      BOOST_REQUIRE(!body.empty());
      out.push_back(parse(body));
    }
    return out;
  };
  auto before = scrape_all();
  for (size_t i = 0; i < c.size(); ++i) {
    auto& id = c.ids()[i];
    BOOST_TEST_CONTEXT("member " << id) {
      BOOST_TEST(value(before[i], "raft_metrics_up") == 1);
      BOOST_TEST(value(before[i], series("raft_is_leader", id))
                 == (i == *leader ? 1 : 0));
      BOOST_TEST(value(before[i], series("raft_has_leader", id)) == 1);
    }
  }
  // The load: puts through every member (followers forward to the leader).
  constexpr int puts = 15;
  for (int k = 0; k < puts; ++k) {
    auto r = c.cli("put", {"key" + std::to_string(k),
                           "value " + std::to_string(k)},
                   c.ids()[k % c.size()]);
    BOOST_TEST_INFO("put " << k << ": " << r.err);
    BOOST_REQUIRE(r.code == 0);
  }
  BOOST_REQUIRE(c.await_applied(puts + 1, milliseconds(15000)));
  auto after = scrape_all();
  auto grew = [&](size_t i, const std::string& s, double by) {
    BOOST_TEST_INFO(c.ids()[i] << ' ' << s << ": " << value(before[i], s)
                               << " -> " << value(after[i], s));
    BOOST_TEST(value(before[i], s) >= 0);
    BOOST_TEST(value(after[i], s) >= value(before[i], s) + by);
  };
  auto& l = *leader;
  // The leader proposed and committed every put, each timed.
  grew(l, series("raft_commit_latency_seconds_count", lid), puts);
  grew(l, series("raft_entries_committed_total", lid), puts);
  BOOST_TEST(value(after[l], series("raft_is_leader", lid)) == 1);
  for (size_t i = 0; i < c.size(); ++i) {
    auto& id = c.ids()[i];
    BOOST_TEST_CONTEXT("member " << id) {
      // Every member wrote the entries durably (fsync histogram).
      grew(i, series("raft_log_write_duration_seconds_count", id), 1);
      grew(i, series("raft_log_write_entries_sum", id), puts);
      grew(i, series("raft_commit_index", id), puts);
      BOOST_TEST(value(after[i], series("raft_log_write_duration_seconds_bucket",
                                        id, "le=\"+Inf\""))
                 == value(after[i],
                          series("raft_log_write_duration_seconds_count", id)));
      if (i == l)
        continue;
      // Bytes per peer: the commands went from the leader to each follower.
      auto peer = "peer=\"" + c.ids()[i] + "\"";
      grew(l, series("raft_peer_payload_bytes_sent_total", lid, peer), puts);
      grew(l, series("raft_peer_messages_sent_total", lid, peer), 1);
      grew(i, series("raft_peer_payload_bytes_received_total", id,
                     "peer=\"" + lid + "\""),
           puts);
      BOOST_TEST(value(after[l],
                       series("raft_follower_match_lag_entries", lid, peer))
                 >= 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_bad_metrics_address_is_a_usage_error) {
  temp_dir dir;
  auto port = free_port();
  auto id = "127.0.0.1:" + std::to_string(port);
  for (auto bad : {"nonsense", "127.0.0.1:", "127.0.0.1:99999"}) {
    auto r = run({raft_kv_binary(), "serve", "--id", id, "--members", id,
                  "--data", dir.path + "/d", "--metrics", bad});
    BOOST_TEST_INFO("--metrics " << bad << ": " << r.err);
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.find("--metrics") != std::string::npos);
  }
}
