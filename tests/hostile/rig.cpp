#include "rig.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <boost/test/unit_test.hpp>

namespace raft::hostile {

using namespace raft::dist;

namespace {

constexpr auto leader_timeout = milliseconds(20000);
/// How long a refusal may take to reach the log after the attack.
constexpr auto log_timeout = milliseconds(5000);
/// The bound on memory growth under attack.
constexpr double rss_budget_mib = 64;

double status_field_mib(pid_t pid, const std::string& field) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0)
      return std::stod(line.substr(field.size() + 1)) / 1024.0; // kB
  return 0;
}

/// How many refusal lines (and "suppressed" notes) `log` holds.
size_t refusal_lines(const std::string& log) {
  size_t n = 0;
  for (auto needle : {"wire: refused", "wire: suppressed"})
    for (auto at = log.find(needle); at != std::string::npos;
         at = log.find(needle, at + 1))
      ++n;
  return n;
}

/// The first line of `text` containing `needle`, or empty.
std::string line_with(const std::string& text, const std::string& needle) {
  auto at = text.find(needle);
  if (at == std::string::npos)
    return {};
  auto begin = text.rfind('\n', at);
  begin = begin == std::string::npos ? 0 : begin + 1;
  auto end = text.find('\n', at);
  return text.substr(begin, end == std::string::npos ? std::string::npos
                                                      : end - begin);
}

} // namespace

bool attack_row::term_unchanged() const {
  return !terms_before.empty() && terms_before == terms_after;
}

uint64_t attack_row::max_term(const std::map<std::string, uint64_t>& t) const {
  uint64_t m = 0;
  for (auto& [id, term] : t)
    m = std::max(m, term);
  return m;
}

rig::rig(options opts) : opts_(std::move(opts)) {
  kv_cluster::options o;
  o.serve_args = opts_.serve_args;
  // Election timeouts of 1-2 s: this machine is shared (load averages of
  // 5-10 on 2 cores), and an election must mean the attack, not the load.
  // An attack that stalls a member for seconds (BASP's 1 GiB allocation:
  // ~2 s) still shows.
  o.heartbeat_ms = 100;
  if (opts_.tls) {
    certs_tmp_ = std::make_unique<temp_dir>();
    o.tls = raft::dist::certs{certs_tmp_->path};
    // "client" (the CLI's default identity) writes; "outsider" holds a
    // valid certificate from the same CA but is not on the access list.
    o.acl = {"client"};
    o.acl.insert(o.acl.end(), opts_.identities.begin(), opts_.identities.end());
  }
  cluster_ = std::make_unique<kv_cluster>(o);
  if (opts_.tls) {
    std::vector<std::string> ids{"outsider"};
    ids.insert(ids.end(), opts_.identities.begin(), opts_.identities.end());
    certs_ = make_certs(certs_tmp_->path, ids);
  }
  cluster_->start_all();
  BOOST_REQUIRE_MESSAGE(cluster_->await_leader(leader_timeout).has_value(),
                        "the cluster elected no leader");
  writer_ = std::thread([this] { writer_loop(); });
  // The writer is served before any attack starts.
  BOOST_REQUIRE_MESSAGE(wait_until(
                          [&] {
                            std::lock_guard<std::mutex> g{mtx_};
                            return !acked_.empty();
                          },
                          milliseconds(20000)),
                        "no write was acknowledged");
}

rig::~rig() {
  stop_ = true;
  if (writer_.joinable())
    writer_.join();
}

std::string rig::certs_dir() const {
  return certs_tmp_ ? certs_tmp_->path : std::string{};
}

milliseconds rig::flood_duration() const {
  return opts_.long_run ? milliseconds(30000) : milliseconds(5000);
}

void rig::writer_loop() {
  for (size_t n = 0; !stop_; ++n) {
    if (pause_writer_) {
      std::this_thread::sleep_for(milliseconds(20));
      continue;
    }
    auto key = "hk-" + std::to_string(n);
    auto r = cluster_->cli("put", {"--timeout", "5000", key, "v" + std::to_string(n)},
                           {}, {}, milliseconds(15000));
    std::lock_guard<std::mutex> g{mtx_};
    if (r.code == 0) {
      acked_.emplace_back(key, current_row_ < 0 ? std::string::npos
                                                : static_cast<size_t>(current_row_));
      ++acked_in_row_;
    } else {
      ++failed_in_row_;
      last_failure_ = "exit " + std::to_string(r.code) + ": " + r.err;
    }
  }
}

double rig::rss_mib(size_t i) const {
  return status_field_mib(cluster_->pid(i), "VmRSS");
}

double rig::hwm_mib(size_t i) const {
  return status_field_mib(cluster_->pid(i), "VmHWM");
}

attack_row& rig::run(const std::string& name, size_t target,
                     const std::function<void(attack_context&)>& attack,
                     const std::string& refusal) {
  auto& c = *cluster_;
  if (auto only = std::getenv("RAFT_HOSTILE_ONLY");
      only != nullptr && name.find(only) == std::string::npos) {
    static attack_row skipped;
    return skipped;
  }
  attack_row row;
  row.attack = name;
  row.cluster = opts_.tls ? "tls+acl" : "plain";
  row.target = c.ids()[target];
  // Refusal lines are rate-limited (docs/wire.md: 20 a second, then
  // "suppressed k"): after a flood the member may still be refusing its
  // backlog. Start once the target has logged no refusal for 1.5 s, so
  // that this attack's first refusal is not among the suppressed ones.
  {
    auto size = refusal_lines(c.log(target));
    auto quiet_since = clock_type::now();
    wait_until(
      [&] {
        auto now_size = refusal_lines(c.log(target));
        if (now_size != size) {
          size = now_size;
          quiet_since = clock_type::now();
        }
        return clock_type::now() - quiet_since >= milliseconds(1500);
      },
      milliseconds(20000), milliseconds(100));
  }
  BOOST_TEST_MESSAGE("attack: " + name + " on " + row.target + " ("
                     + row.cluster + ")");
  auto status_before = c.status();
  for (auto& [id, line] : status_before)
    row.terms_before[id] = line.term;
  BOOST_REQUIRE_MESSAGE(row.terms_before.size() == c.size(),
                        "not every member answered before " + name);
  auto log_before = c.log(target).size();
  row.rss_before_mib = rss_mib(target);
  auto hwm_before = hwm_mib(target);
  {
    std::lock_guard<std::mutex> g{mtx_};
    current_row_ = static_cast<long>(rows_.size());
    acked_in_row_ = 0;
    failed_in_row_ = 0;
    last_failure_.clear();
  }
  // Sample the target's RSS while the attack runs.
  std::atomic<bool> sampling{true};
  double peak = row.rss_before_mib;
  std::thread sampler([&] {
    while (sampling) {
      peak = std::max(peak, rss_mib(target));
      std::this_thread::sleep_for(milliseconds(5));
    }
  });
  attack_context ctx{row.target, flood_duration(), status_before, {}, {}};
  if (auto l = c.await_leader(milliseconds(5000)))
    ctx.leader = c.ids()[*l];
  attack(ctx);
  row.note = ctx.note;
  // Clients are still served right after the attack.
  auto served = wait_until(
    [&] {
      auto r = c.cli("put", {"--timeout", "3000", "after-" + name, "ok"}, {},
                     {}, milliseconds(10000));
      return r.code == 0;
    },
    milliseconds(15000), milliseconds(100));
  // The refusal is logged.
  wait_until(
    [&] {
      row.refusal_line = line_with(c.log(target).substr(log_before), refusal);
      return !row.refusal_line.empty();
    },
    log_timeout);
  sampling = false;
  sampler.join();
  // VmHWM catches a peak between two samples.
  auto hwm_after = hwm_mib(target);
  row.rss_peak_mib = std::max(peak, hwm_after > hwm_before ? hwm_after : 0.0);
  for (auto& [id, line] : c.status())
    row.terms_after[id] = line.term;
  {
    std::lock_guard<std::mutex> g{mtx_};
    row.writes_acked = acked_in_row_;
    row.writes_failed = failed_in_row_;
    if (failed_in_row_ > 0)
      row.note += (row.note.empty() ? "" : "; ") + std::string{"last failed put: "}
                  + last_failure_.substr(0, last_failure_.find('\n'));
    current_row_ = -1;
  }
  BOOST_TEST_MESSAGE("  terms " + std::to_string(row.max_term(row.terms_before))
                     + " -> " + std::to_string(row.max_term(row.terms_after))
                     + ", rss " + std::to_string(row.rss_before_mib) + " -> peak "
                     + std::to_string(row.rss_peak_mib) + " MiB, writes "
                     + std::to_string(row.writes_acked) + " acked "
                     + std::to_string(row.writes_failed) + " failed; "
                     + row.note + "; log: " + row.refusal_line);
  BOOST_TEST_INFO("attack " << name << " (" << row.cluster << ")");
  BOOST_TEST(served, "a put right after the attack succeeds");
  BOOST_TEST_INFO("attack " << name << " (" << row.cluster << ")");
  BOOST_TEST(row.term_unchanged(), "no election: every term unchanged");
  BOOST_TEST_INFO("attack " << name << " (" << row.cluster << ")");
  BOOST_TEST(row.rss_peak_mib - row.rss_before_mib <= rss_budget_mib);
  BOOST_TEST_INFO("attack " << name << " (" << row.cluster << "): writes "
                  << row.writes_acked << " acked, " << row.writes_failed
                  << " failed");
  BOOST_TEST(row.writes_failed == 0u, "every write during the attack succeeds");
  BOOST_TEST_INFO("attack " << name << " (" << row.cluster << ")");
  BOOST_TEST(!row.refusal_line.empty(), "refusal logged: " << refusal);
  // A refusal line: the wire's ("wire: refused ...") or the member's
  // ("warning: refused: ...", e.g. committed means committed).
  BOOST_TEST_INFO("attack " << name << ": " << row.refusal_line);
  BOOST_TEST((row.refusal_line.empty()
              || row.refusal_line.find("refused") != std::string::npos));
  rows_.push_back(std::move(row));
  return rows_.back();
}

void rig::restart_and_verify() {
  stop_ = true;
  if (writer_.joinable())
    writer_.join();
  auto& c = *cluster_;
  for (size_t i = 0; i < c.size(); ++i)
    c.kill(i);
  c.start_all();
  BOOST_REQUIRE_MESSAGE(c.await_leader(leader_timeout).has_value(),
                        "no leader after the restart");
  std::vector<std::pair<std::string, size_t>> acked;
  {
    std::lock_guard<std::mutex> g{mtx_};
    acked = acked_;
  }
  // Read every acknowledged write back, two readers at a time.
  std::vector<long> lost(rows_.size(), 0);
  size_t lost_total = 0;
  std::mutex m;
  std::atomic<size_t> next{0};
  auto reader = [&] {
    for (size_t k; (k = next++) < acked.size();) {
      auto& [key, row] = acked[k];
      auto r = c.cli("get", {"--timeout", "5000", key}, {}, {}, milliseconds(15000));
      auto want = "v" + key.substr(3) + "\n";
      if (r.code != 0 || r.out != want) {
        std::lock_guard<std::mutex> g{m};
        ++lost_total;
        if (row < lost.size())
          ++lost[row];
        BOOST_TEST_MESSAGE("lost " + key + ": exit " + std::to_string(r.code)
                           + " '" + r.out + "' " + r.err);
      }
    }
  };
  std::thread a{reader}, b{reader};
  a.join();
  b.join();
  for (size_t i = 0; i < rows_.size(); ++i)
    rows_[i].writes_lost = lost[i];
  BOOST_TEST_MESSAGE(std::to_string(acked.size())
                     + " acknowledged writes read back after a restart of "
                       "all members; lost: "
                     + std::to_string(lost_total));
  BOOST_TEST(lost_total == 0u, "every acknowledged write reads back");
  BOOST_TEST(acked.size() > 0u);
}

std::string rig::table(const std::vector<attack_row>& rows) {
  std::ostringstream out;
  out << "| attack | cluster | terms before → after | member RSS before → peak "
         "(MiB) | writes acked / failed during | acked writes lost | refusal "
         "logged |\n|---|---|---|---|---|---|---|\n";
  for (auto& r : rows) {
    char rss[64];
    std::snprintf(rss, sizeof(rss), "%.1f → %.1f", r.rss_before_mib,
                  r.rss_peak_mib);
    out << "| " << r.attack << (r.note.empty() ? "" : " (" + r.note + ")")
        << " | " << r.cluster << " | " << r.max_term(r.terms_before) << " → "
        << r.max_term(r.terms_after) << " | " << rss << " | " << r.writes_acked
        << " / " << r.writes_failed << " | "
        << (r.writes_lost < 0 ? std::string{"-"} : std::to_string(r.writes_lost))
        << " | " << (r.refusal_line.empty() ? "no" : "yes") << " |\n";
  }
  return out.str();
}

} // namespace raft::hostile
