// raft-kv: a replicated key-value store on caf-raft, one member per process.
//
//   raft-kv serve --id HOST:PORT --members H1:P1,H2:P2,H3:P3 --data DIR
//                 [--heartbeat MS] [--snapshot-threshold N]
//                 [--tls-cert F --tls-key F --tls-ca F] [--acl ID,...]
//                 [--metrics HOST:PORT]  (Prometheus text format at /metrics)
//   raft-kv put    --cluster H1:P1,... KEY VALUE   (VALUE "-": from stdin;
//                  or --value-file F instead of VALUE)
//   raft-kv get    --cluster ... KEY            (prints the value alone)
//   raft-kv cas    --cluster ... KEY EXPECTED NEW
//   raft-kv delete --cluster ... KEY
//   raft-kv status --cluster ...                (one line per member)
//   raft-kv serve --join --id NEW:PORT --members H1:P1,... --data DIR ...
//                 (a new, empty member that waits to be added)
//   raft-kv member list    --cluster ...        (voters, learners)
//   raft-kv member add     --cluster ... ID [--learner]
//   raft-kv member promote --cluster ... ID
//   raft-kv member remove  --cluster ... ID
//   raft-kv transfer       --cluster ... ID     (leadership to ID)
//   raft-kv COMMAND --help                      (that command's usage)
//   (each client command also takes --timeout MS and the TLS options; "--"
//   ends the options, for keys and values that start with "--")
//
// Exit codes: 0 done; 3 definite negative answer (key not found, cas found
// another value; nothing changed); 1 failed and certainly not applied (and
// `serve` after its member stopped on a failure: storage, state machine);
// 4 outcome unknown (sent, then no answer); 2 usage or configuration error.

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <limits>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <pthread.h>
#include <string>
#include <unistd.h>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/client.hpp"
#include "raft/errc.hpp"
#include "raft/remote.hpp"
#include "raft/wire/frame.hpp"

#include "kv_client.hpp"
#include "memory_report.hpp"
#include "kv_command.hpp"
#include "kv_state_machine.hpp"
#include "metrics_exporter.hpp"

namespace {

constexpr int exit_usage = 2;

const char* tls_usage =
  "  TLS: --tls-cert F --tls-key F --tls-ca F (all three or none)\n";

/// One usage block per command (`raft-kv COMMAND --help`).
const std::map<std::string, std::string>& command_usage() {
  static const std::map<std::string, std::string> xs{
    {"serve",
     "  raft-kv serve --id HOST:PORT --members H1:P1,H2:P2,H3:P3 --data DIR\n"
     "                [--heartbeat MS] [--snapshot-threshold N]\n"
     "                [--tls-cert F --tls-key F --tls-ca F] [--acl ID,...]\n"
     "                [--admins ID,...]  (who may change the members)\n"
     "                [--metrics HOST:PORT]  (Prometheus text at /metrics)\n"
     "                [--join]  (a new member: docs/operations.md)\n"
     "                [--no-pre-vote]  (for comparison figures only)\n"
     "    --members lists every member, --id included (an odd count: 3 or 5);\n"
     "    it bootstraps a new cluster only: once DIR holds a configuration,\n"
     "    a different list is ignored (with a warning); use `raft-kv member`\n"
     "    --join: start empty and wait to be added (`raft-kv member add`);\n"
     "    --members then names the current cluster's members (or one of them)\n"},
    {"member",
     "  raft-kv member list    --cluster H1:P1,... [--timeout MS] [TLS]\n"
     "  raft-kv member add     --cluster H1:P1,... [--timeout MS] [TLS] ID "
     "[--learner]\n"
     "                 adds ID (started with serve --join) as a learner and\n"
     "                 promotes it to voter once it caught up; --learner:\n"
     "                 leaves it a learner\n"
     "  raft-kv member promote --cluster H1:P1,... [--timeout MS] [TLS] ID\n"
     "  raft-kv member remove  --cluster H1:P1,... [--timeout MS] [TLS] ID\n"
     "                 (--timeout default: 60000 for member commands)\n"},
    {"transfer",
     "  raft-kv transfer --cluster H1:P1,... [--timeout MS] [TLS] ID\n"
     "                 hands leadership to ID (thesis §3.10)\n"},
    {"put",
     "  raft-kv put    --cluster H1:P1,... [--timeout MS] [TLS] KEY VALUE\n"
     "                 VALUE - reads the value from stdin; --value-file F\n"
     "                 reads it from F (then no VALUE)\n"},
    {"get", "  raft-kv get    --cluster H1:P1,... [--timeout MS] [TLS] KEY\n"},
    {"cas",
     "  raft-kv cas    --cluster H1:P1,... [--timeout MS] [TLS] KEY EXPECTED "
     "NEW\n"},
    {"delete", "  raft-kv delete --cluster H1:P1,... [--timeout MS] [TLS] KEY\n"},
    {"status", "  raft-kv status --cluster H1:P1,... [--timeout MS] [TLS]\n"
               "                 (voters=, learners=, and old= while joint)\n"},
  };
  return xs;
}

const char* usage_tail =
  "  \"--\" ends the options (for keys and values that start with \"--\")\n"
  "exit codes: 0 done, 3 not found / cas mismatch (nothing changed),\n"
  "  1 failed (not applied; serve: the member stopped on a failure),\n"
  "  4 outcome unknown, 2 usage error\n";

std::string usage_of(const std::string& command) {
  std::string out = "usage:\n";
  auto& xs = command_usage();
  auto i = xs.find(command);
  if (i != xs.end()) {
    out += i->second;
  } else {
    for (auto name : {"serve", "put", "get", "cas", "delete", "status",
                      "member", "transfer"})
      out += xs.at(name);
  }
  out += tls_usage;
  out += usage_tail;
  return out;
}

/// The command being parsed, for usage(): its own usage block.
std::string current_command;

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "raft-kv: " << why << "\n" << usage_of(current_command);
  std::exit(exit_usage);
}

/// Exits without tearing down the actor system: a client has nothing to
/// save, and a member has stopped (its log is durable) when this runs.
[[noreturn]] void finish(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(code);
}

struct args {
  std::string command;
  std::map<std::string, std::string> options;
  /// Options without a value (--join, --learner).
  std::vector<std::string> flags;
  std::vector<std::string> positional;

  bool has(const std::string& key) const {
    return options.count(key) > 0;
  }

  bool flag(const std::string& key) const {
    return std::find(flags.begin(), flags.end(), key) != flags.end();
  }

  const std::string& get(const std::string& key) const {
    static const std::string empty;
    auto i = options.find(key);
    return i == options.end() ? empty : i->second;
  }

  const std::string& required(const std::string& key) const {
    if (!has(key))
      usage(command + " needs " + key);
    return get(key);
  }
};

/// Options take one value each; "--" ends them (everything after is
/// positional, even if it starts with "--"); each option at most once;
/// --help prints the command's usage.
args parse(int argc, char** argv,
           const std::vector<std::string>& known_options,
           const std::vector<std::string>& known_flags = {}) {
  if (argc < 2)
    usage("no command");
  args a;
  a.command = argv[1];
  current_command = a.command;
  bool options_done = false;
  for (int i = 2; i < argc; ++i) {
    std::string s = argv[i];
    if (!options_done && s == "--") {
      options_done = true;
    } else if (!options_done && (s == "--help" || s == "-h")) {
      std::cout << usage_of(a.command);
      std::exit(0);
    } else if (!options_done
               && std::find(known_flags.begin(), known_flags.end(), s)
                    != known_flags.end()) {
      if (a.flag(s))
        usage(s + " given twice");
      a.flags.push_back(s);
    } else if (!options_done && s.rfind("--", 0) == 0 && s.size() > 2) {
      bool known = false;
      for (auto& k : known_options)
        known = known || k == s;
      if (!known)
        usage("unknown option " + s + " for " + a.command
              + " (use -- before a key or value that starts with --)");
      if (i + 1 >= argc)
        usage(s + " needs a value");
      if (a.has(s))
        usage(s + " given twice");
      a.options[s] = argv[++i];
    } else {
      a.positional.push_back(std::move(s));
    }
  }
  return a;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    auto comma = s.find(',', start);
    if (comma == std::string::npos)
      comma = s.size();
    auto item = s.substr(start, comma - start);
    if (!item.empty())
      out.push_back(item);
    start = comma + 1;
  }
  return out;
}

/// A non-negative decimal number in [min, max]; a value beyond max (or
/// beyond int64) is reported as too large, never as "not a number".
int64_t number(const args& a, const std::string& key, int64_t fallback,
               int64_t min,
               int64_t max = std::numeric_limits<int64_t>::max(),
               const std::string& why_max = "") {
  if (!a.has(key))
    return fallback;
  auto& s = a.get(key);
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
    usage(key + " needs a number, not '" + s + "'");
  errno = 0;
  char* end = nullptr;
  auto n = std::strtoll(s.c_str(), &end, 10);
  if (errno == ERANGE || n > max)
    usage(key + " " + s + " is too large: at most " + std::to_string(max)
          + (why_max.empty() ? "" : " (" + why_max + ")"));
  if (n < min)
    usage(key + " must be at least " + std::to_string(min));
  return n;
}

raft::tls_options tls_of(const args& a) {
  raft::tls_options tls;
  tls.certificate = a.get("--tls-cert");
  tls.key = a.get("--tls-key");
  tls.ca_file = a.get("--tls-ca");
  if (tls.enabled()
      && (tls.certificate.empty() || tls.key.empty() || tls.ca_file.empty()))
    usage("TLS needs all three of --tls-cert, --tls-key and --tls-ca");
  return tls;
}

/// Renders an error before an actor system exists.
std::string describe(const caf::error& err) {
  if (err.category() != raft::errc_category)
    return to_string(err);
  auto result = raft::to_string(static_cast<raft::errc>(err.code()));
  auto& ctx = err.context();
  if (ctx.match_elements<std::string>())
    result += ": " + ctx.get_as<std::string>(0);
  return result;
}

/// Prepares the actor system's config; configuration errors exit 2.
void setup(caf::actor_system_config& cfg, const raft::tls_options& tls) {
  if (auto err = raft::configure_remote(cfg, tls)) {
    std::cerr << "raft-kv: " << describe(err) << '\n';
    std::exit(exit_usage);
  }
}

// -- serve ------------------------------------------------------------------------

std::string join_ids(const std::vector<std::string>& xs,
                     const char* empty = "-") {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ",") + x;
  return out.empty() ? std::string{empty} : out;
}

/// Once the data directory holds a configuration, it alone counts (thesis
/// §4.1: the latest configuration in the log); --members only bootstraps a
/// new cluster. Obeying a changed list could split the cluster (issue 12: a
/// member restarted with --members naming only itself elected itself).
void report_configuration(caf::actor_system& sys,
                          const raft::member_actor& member,
                          const raft::config& cfg,
                          std::vector<std::string> members) {
  caf::scoped_actor self{sys};
  raft::cluster_configuration stored;
  bool answered = false;
  self->request(member, std::chrono::seconds(5), raft::members_atom::value)
    .receive(
      [&](raft::cluster_configuration& x) {
        stored = std::move(x);
        answered = true;
      },
      [&](caf::error&) {});
  if (!answered || stored.empty()) {
    if (cfg.join)
      std::cout << "raft-kv: joining: waiting to be added (raft-kv member "
                   "add "
                << cfg.host_port << ")" << std::endl;
    return;
  }
  if (cfg.join) {
    std::cout << "raft-kv: --join ignored: the data directory holds the "
                 "configuration "
              << raft::to_string(stored) << std::endl;
    return;
  }
  std::sort(members.begin(), members.end());
  if (members != stored.members())
    std::cerr << "raft-kv: warning: --members " << join_ids(members)
              << " ignored: the data directory holds the configuration "
              << raft::to_string(stored)
              << "; change members with `raft-kv member`" << std::endl;
}

int serve(const args& a) {
  if (!a.positional.empty())
    usage("serve takes no positional arguments");
  raft::config cfg;
  cfg.host_port = a.required("--id");
  auto members = split_list(a.required("--members"));
  cfg.log_dir = a.required("--data");
  // The election timeout (20 x) and the append timeout (80 x) derive from
  // the heartbeat: an hour keeps them far from overflowing.
  cfg.heartbeat = std::chrono::milliseconds(
    number(a, "--heartbeat", 50, 1, 3600 * 1000,
           "the timeouts derived from it must fit"));
  cfg.snapshot_threshold = number(a, "--snapshot-threshold",
                                  cfg.snapshot_threshold, 0);
  cfg.acl = split_list(a.get("--acl"));
  auto admins = split_list(a.get("--admins"));
  auto tls = tls_of(a);
  if (!cfg.acl.empty() && !tls.enabled())
    usage("--acl needs TLS (without certificates identities are only "
          "claimed)");
  if (!admins.empty() && !tls.enabled())
    usage("--admins needs TLS (without certificates identities are only "
          "claimed)");
  if (auto hp = raft::split_host_port(cfg.host_port); !hp)
    usage("--id: '" + cfg.host_port + "' is not HOST:PORT");
  for (auto& m : members)
    if (auto hp = raft::split_host_port(m); !hp)
      usage("--members: '" + m + "' is not HOST:PORT");
  if (a.has("--metrics") && !kv::metrics_exporter::valid_address(a.get("--metrics")))
    usage("--metrics: '" + a.get("--metrics") + "' is not HOST:PORT");
  // A joining member waits to be added (config::join): --members only
  // tells it whom to reach, the current members or one of them.
  cfg.join = a.flag("--join");
  // PreVote (thesis §9.6) stays on unless asked: off only to measure the
  // disruption it prevents (examples/bench/membership_figures.sh).
  cfg.pre_vote = !a.flag("--no-pre-vote");
  if (cfg.join && members.empty())
    usage("--join needs --members: the current cluster's members (or one "
          "of them)");
  // A member missing from its own list would never win an election (it
  // counts a majority of a cluster it is not part of).
  if (!cfg.join
      && std::find(members.begin(), members.end(), cfg.host_port)
           == members.end())
    usage("--id " + cfg.host_port + " is not in --members (list every "
          "member, this one included; a new member of a running cluster "
          "starts with --join)");
  for (size_t i = 0; i < members.size(); ++i)
    for (size_t j = i + 1; j < members.size(); ++j)
      if (members[i] == members[j])
        usage("--members lists " + members[i] + " twice");
  if (!cfg.join && members.size() % 2 == 0)
    std::cerr << "raft-kv: warning: " << members.size()
              << " members tolerate no more failures than "
              << members.size() - 1 << " (a majority is "
              << members.size() / 2 + 1
              << "): use an odd number of members\n";
  std::error_code ec;
  if (std::filesystem::create_directories(cfg.log_dir, ec) && !ec)
    // Values and snapshots are nobody else's business (files are 0600).
    std::filesystem::permissions(cfg.log_dir,
                                 std::filesystem::perms::owner_all, ec);
  if (ec)
    usage("--data: cannot create '" + cfg.log_dir + "': " + ec.message());
  // Signals go to sigwait below, not to whichever thread CAF runs: block
  // them before the actor system starts its threads.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1); // a memory report (memory_report.hpp)
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  caf::actor_system_config sys_cfg;
  setup(sys_cfg, tls);
  caf::actor_system sys{sys_cfg};
  raft::remote_options opts;
  opts.members = members;
  opts.tls = tls;
  opts.admins = admins;
  auto sm = std::make_shared<kv::machine>();
  auto m = raft::spawn_remote_member(sys, cfg, sm, opts);
  if (!m) {
    std::cerr << "raft-kv: " << sys.render(m.error()) << '\n';
    finish(exit_usage);
  }
  caf::scoped_actor self{sys};
  bool started = false;
  self->request(m->member, caf::infinite, raft::start_atom::value)
    .receive([&](caf::ok_atom) { started = true; },
             [&](caf::error& err) {
               std::cerr << "raft-kv: " << sys.render(err) << '\n';
             });
  if (!started)
    finish(1);
  report_configuration(sys, m->member, cfg, members);
  std::unique_ptr<kv::metrics_exporter> exporter;
  if (a.has("--metrics")) {
    auto e = kv::metrics_exporter::start(sys, m->member, a.get("--metrics"));
    if (!e) {
      std::cerr << "raft-kv: " << sys.render(e.error()) << '\n';
      finish(exit_usage);
    }
    exporter = std::move(*e);
    std::cout << "raft-kv: metrics at port " << exporter->port() << std::endl;
  }
  std::cout << "raft-kv: serving " << cfg.host_port << " (port " << m->port
            << ", " << (tls.enabled() ? "TLS" : "plain TCP") << ", data "
            << cfg.log_dir << ")" << std::endl;
  // Wait for a signal; meanwhile, a member that stopped on a failure
  // (storage, state machine: it logged why) ends the process with exit 1
  // rather than leave it up with its port open.
  timespec poll{0, 200 * 1000 * 1000};
  int sig = -1;
  while ((sig = sigtimedwait(&signals, nullptr, &poll)) < 0
         || sig == SIGUSR1) {
    if (sig == SIGUSR1) {
      std::cerr << "raft-kv: " << kv::memory_report(self, m->member, *sm)
                << std::endl;
      continue;
    }
    if (errno != EAGAIN && errno != EINTR)
      break;
    bool failed = false;
    self->request(m->member, std::chrono::seconds(5), raft::status_atom::value)
      .receive(
        [&](raft::member_status& st) { failed = st.role == raft::role::stopped; },
        // A remote member quits when it stops (docs/api.md).
        [&](caf::error&) { failed = true; });
    if (!failed)
      continue;
    // A stopped member answers every request with the reason it stopped.
    std::string why = "unknown reason";
    self->request(m->member, std::chrono::seconds(5), raft::election_atom::value)
      .receive([](caf::ok_atom) {},
               [&](caf::error& err) { why = sys.render(err); });
    std::cerr << "raft-kv: the member stopped: " << why << "; exiting"
              << std::endl;
    finish(1);
  }
  std::cout << "raft-kv: signal " << sig << ", stopping" << std::endl;
  // Graceful stop: the member fails what it owes and stops its log writer;
  // it answers once it is stopped.
  self->request(m->member, std::chrono::seconds(5), raft::stop_atom::value)
    .receive([](caf::ok_atom) {}, [](caf::error&) {});
  std::cout << "raft-kv: stopped" << std::endl;
  finish(0);
}

// -- client commands ------------------------------------------------------------------

/// The whole of a file ("-": stdin), refused beyond the largest command a
/// member accepts (raft::config::max_entry_size, wire::max_entry_bytes)
/// before it is read into memory whole.
std::string read_value(const std::string& file) {
  constexpr size_t limit = raft::wire::max_entry_bytes;
  std::ifstream f;
  std::istream* in = &std::cin;
  if (file != "-") {
    f.open(file, std::ios::binary);
    if (!f)
      usage("--value-file: cannot open '" + file + "': "
            + std::strerror(errno));
    in = &f;
  }
  std::string value;
  char buf[64 * 1024];
  while (*in) {
    in->read(buf, sizeof(buf));
    value.append(buf, static_cast<size_t>(in->gcount()));
    if (value.size() > limit)
      usage("the value is larger than " + std::to_string(limit)
            + " bytes, the largest entry a member accepts");
  }
  if (in->bad())
    usage("cannot read the value from " + (file == "-" ? "stdin" : file));
  return value;
}

/// The client options every client command shares.
raft::client_options client_options_of(const args& a,
                                       int64_t default_timeout_ms) {
  raft::client_options opts;
  opts.cluster = split_list(a.required("--cluster"));
  if (opts.cluster.empty())
    usage("--cluster is empty");
  for (auto& m : opts.cluster)
    if (auto hp = raft::split_host_port(m); !hp)
      usage("--cluster: '" + m + "' is not HOST:PORT");
  opts.timeout = std::chrono::milliseconds(
    number(a, "--timeout", default_timeout_ms, 1));
  opts.tls = tls_of(a);
  return opts;
}

/// A configuration, one line per list (member list, and after a change).
void print_configuration(const raft::cluster_configuration& x) {
  std::cout << "voters: " << join_ids(x.voters) << '\n'
            << "learners: " << join_ids(x.learners) << '\n';
  if (x.joint())
    std::cout << "old voters: " << join_ids(x.old_voters)
              << " (joint: changing)\n";
}

/// raft-kv member list|add|promote|remove, raft-kv transfer. They go to
/// the leader; a refusal that passes by itself (another change not yet
/// committed, a learner still catching up) is retried until --timeout.
int run_membership(const args& a) {
  auto& p = a.positional;
  std::string what = a.command;
  if (a.command == "member") {
    if (p.empty())
      usage("member needs list, add, promote or remove");
    what = p[0];
    static const std::map<std::string, size_t> arity{
      {"list", 1}, {"add", 2}, {"promote", 2}, {"remove", 2}};
    auto i = arity.find(what);
    if (i == arity.end())
      usage("unknown member command '" + what + "'");
    if (p.size() != i->second)
      usage("member " + what + " takes "
            + std::to_string(i->second - 1) + " argument(s), not "
            + std::to_string(p.size() - 1));
  } else if (p.size() != 1) {
    usage("transfer takes 1 argument (ID), not " + std::to_string(p.size()));
  }
  if (a.flag("--learner") && what != "add")
    usage("--learner is for member add only");
  if (a.has("--value-file"))
    usage("--value-file is for put only");
  auto id = what == "list" ? std::string{} : p.back();
  if (!id.empty())
    if (auto hp = raft::split_host_port(id); !hp)
      usage("'" + id + "' is not HOST:PORT");
  // Adding a voter waits for it to catch up (snapshot and log).
  auto opts = client_options_of(a, 60000);
  caf::actor_system_config sys_cfg;
  setup(sys_cfg, opts.tls);
  caf::actor_system sys{sys_cfg};
  auto c = kv::client::make(sys, std::move(opts));
  if (!c) {
    std::cerr << "raft-kv: " << sys.render(c.error()) << '\n';
    finish(exit_usage);
  }
  kv::client::change_result r;
  if (what == "list")
    r = (*c)->members();
  else if (what == "add")
    r = (*c)->add_learner(id, !a.flag("--learner"));
  else if (what == "promote")
    r = (*c)->promote(id);
  else if (what == "remove")
    r = (*c)->remove(id);
  else
    r = (*c)->transfer(id);
  auto name = a.command == "member" ? "member " + what : what;
  switch (r.outcome) {
    case kv::outcome::ok:
      if (what == "transfer")
        std::cout << id << " leads\n";
      else
        print_configuration(r.configuration);
      break;
    case kv::outcome::unknown:
      std::cerr << "raft-kv: " << name
                << ": outcome unknown (may or may not be done; see `raft-kv "
                   "member list`): "
                << r.message << '\n';
      break;
    default:
      std::cerr << "raft-kv: " << name << " failed (nothing changed): "
                << r.message << '\n';
      break;
  }
  finish(static_cast<int>(r.outcome));
}

int run_client(const args& a) {
  static const std::map<std::string, size_t> arity{
    {"put", 2}, {"get", 1}, {"cas", 3}, {"delete", 1}, {"status", 0}};
  auto n = arity.at(a.command);
  auto positional = a.positional;
  if (a.command == "put") {
    // The value from a file or stdin: values beyond the argument list's
    // limit (about 128 KiB), or binary ones.
    if (a.has("--value-file")) {
      if (positional.size() != 1)
        usage("put with --value-file takes KEY alone");
      positional.push_back(read_value(a.get("--value-file")));
    } else if (positional.size() == 2 && positional[1] == "-") {
      positional[1] = read_value("-");
    }
  } else if (a.has("--value-file")) {
    usage("--value-file is for put only");
  }
  if (positional.size() != n)
    usage(a.command + " takes " + std::to_string(n) + " argument(s), not "
          + std::to_string(positional.size()));
  auto opts = client_options_of(a, 5000);
  caf::actor_system_config sys_cfg;
  setup(sys_cfg, opts.tls);
  caf::actor_system sys{sys_cfg};
  auto cluster = opts.cluster;
  auto c = kv::client::make(sys, std::move(opts));
  if (!c) {
    std::cerr << "raft-kv: " << sys.render(c.error()) << '\n';
    finish(exit_usage);
  }
  auto& p = positional;
  if (a.command == "status") {
    size_t answered = 0;
    auto all = (*c)->statuses(cluster);
    for (size_t i = 0; i < cluster.size(); ++i) {
      auto& id = cluster[i];
      auto& s = all[i];
      if (!s) {
        std::cout << id << " unreachable (" << sys.render(s.error()) << ")\n";
        continue;
      }
      ++answered;
      std::cout << s->id << ' ' << to_string(s->role) << " term=" << s->term
                << " leader=" << (s->leader.empty() ? "-" : s->leader)
                << " commit=" << s->commit_index
                << " applied=" << s->last_applied
                << " voters=" << join_ids(s->configuration.voters)
                << " learners=" << join_ids(s->configuration.learners);
      if (s->configuration.joint())
        std::cout << " old=" << join_ids(s->configuration.old_voters);
      std::cout << '\n';
    }
    finish(answered > 0 ? 0 : 1);
  }
  kv::result r;
  if (a.command == "put")
    r = (*c)->put(p[0], p[1]);
  else if (a.command == "get")
    r = (*c)->get(p[0]);
  else if (a.command == "cas")
    r = (*c)->cas(p[0], p[1], p[2]);
  else
    r = (*c)->del(p[0]);
  switch (r.outcome) {
    case kv::outcome::ok:
      if (a.command == "get")
        std::cout << r.value << '\n';
      break;
    case kv::outcome::negative:
      if (r.message == kv::mismatch)
        std::cerr << "raft-kv: cas: current value is '" << r.value << "'\n";
      else
        std::cerr << "raft-kv: " << a.command << ": key not found\n";
      break;
    case kv::outcome::failed:
      std::cerr << "raft-kv: " << a.command << " failed (not applied): "
                << r.message << '\n';
      break;
    case kv::outcome::unknown:
      std::cerr << "raft-kv: " << a.command
                << ": outcome unknown (may or may not be applied): "
                << r.message << '\n';
      break;
  }
  finish(static_cast<int>(r.outcome));
}

} // namespace

int main(int argc, char** argv) {
  if (argc >= 2
      && (std::string{argv[1]} == "--help" || std::string{argv[1]} == "-h")) {
    std::cout << usage_of("");
    return 0;
  }
  std::vector<std::string> tls_opts{"--tls-cert", "--tls-key", "--tls-ca"};
  if (argc >= 2 && std::string{argv[1]} == "serve") {
    auto known = tls_opts;
    for (auto k : {"--id", "--members", "--data", "--heartbeat",
                   "--snapshot-threshold", "--acl", "--admins", "--metrics"})
      known.push_back(k);
    return serve(parse(argc, argv, known, {"--join", "--no-pre-vote"}));
  }
  auto known = tls_opts;
  known.push_back("--cluster");
  known.push_back("--timeout");
  known.push_back("--value-file");
  auto a = parse(argc, argv, known, {"--learner"});
  if (a.command == "member" || a.command == "transfer")
    return run_membership(a);
  if (a.flag("--learner"))
    usage("--learner is for member add only");
  if (a.command == "put" || a.command == "get" || a.command == "cas"
      || a.command == "delete" || a.command == "status")
    return run_client(a);
  usage("unknown command '" + a.command + "'");
}
