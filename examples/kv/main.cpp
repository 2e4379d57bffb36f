// raft-kv: a replicated key-value store on caf-raft, one member per process.
//
//   raft-kv serve --id HOST:PORT --members H1:P1,H2:P2,H3:P3 --data DIR
//                 [--heartbeat MS] [--snapshot-threshold N]
//                 [--tls-cert F --tls-key F --tls-ca F] [--acl ID,...]
//                 [--metrics HOST:PORT]  (Prometheus text format at /metrics)
//   raft-kv put    --cluster H1:P1,... KEY VALUE
//   raft-kv get    --cluster ... KEY            (prints the value alone)
//   raft-kv cas    --cluster ... KEY EXPECTED NEW
//   raft-kv delete --cluster ... KEY
//   raft-kv status --cluster ...                (one line per member)
//   (each client command also takes --timeout MS and the TLS options)
//
// Exit codes: 0 done; 3 definite negative answer (key not found, cas found
// another value; nothing changed); 1 failed and certainly not applied;
// 4 outcome unknown (sent, then no answer); 2 usage or configuration error.

#include <csignal>
#include <cstdio>
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

#include "kv_client.hpp"
#include "kv_command.hpp"
#include "kv_state_machine.hpp"
#include "metrics_exporter.hpp"

namespace {

constexpr int exit_usage = 2;

const char* usage_text =
  "usage:\n"
  "  raft-kv serve --id HOST:PORT --members H1:P1,H2:P2,H3:P3 --data DIR\n"
  "                [--heartbeat MS] [--snapshot-threshold N]\n"
  "                [--tls-cert F --tls-key F --tls-ca F] [--acl ID,...]\n"
  "                [--metrics HOST:PORT]\n"
  "  raft-kv put    --cluster H1:P1,... [--timeout MS] [TLS] KEY VALUE\n"
  "  raft-kv get    --cluster H1:P1,... [--timeout MS] [TLS] KEY\n"
  "  raft-kv cas    --cluster H1:P1,... [--timeout MS] [TLS] KEY EXPECTED NEW\n"
  "  raft-kv delete --cluster H1:P1,... [--timeout MS] [TLS] KEY\n"
  "  raft-kv status --cluster H1:P1,... [--timeout MS] [TLS]\n"
  "  TLS: --tls-cert F --tls-key F --tls-ca F (all three or none)\n"
  "exit codes: 0 done, 3 not found / cas mismatch (nothing changed),\n"
  "  1 failed (not applied), 4 outcome unknown, 2 usage error\n";

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "raft-kv: " << why << "\n" << usage_text;
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
  std::vector<std::string> positional;

  bool has(const std::string& key) const {
    return options.count(key) > 0;
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

args parse(int argc, char** argv,
           const std::vector<std::string>& known_options) {
  if (argc < 2)
    usage("no command");
  args a;
  a.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) == 0 && s.size() > 2) {
      bool known = false;
      for (auto& k : known_options)
        known = known || k == s;
      if (!known)
        usage("unknown option " + s + " for " + a.command);
      if (i + 1 >= argc)
        usage(s + " needs a value");
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

int64_t number(const args& a, const std::string& key, int64_t fallback,
               int64_t min) {
  if (!a.has(key))
    return fallback;
  auto& s = a.get(key);
  if (s.empty() || s.size() > 12
      || s.find_first_not_of("0123456789") != std::string::npos)
    usage(key + " needs a number, not '" + s + "'");
  auto n = std::stoll(s);
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

int serve(const args& a) {
  if (!a.positional.empty())
    usage("serve takes no positional arguments");
  raft::config cfg;
  cfg.host_port = a.required("--id");
  auto members = split_list(a.required("--members"));
  cfg.log_dir = a.required("--data");
  cfg.heartbeat = std::chrono::milliseconds(number(a, "--heartbeat", 50, 1));
  cfg.snapshot_threshold = number(a, "--snapshot-threshold",
                                  cfg.snapshot_threshold, 0);
  cfg.acl = split_list(a.get("--acl"));
  auto tls = tls_of(a);
  if (!cfg.acl.empty() && !tls.enabled())
    usage("--acl needs TLS (without certificates identities are only "
          "claimed)");
  if (auto hp = raft::split_host_port(cfg.host_port); !hp)
    usage("--id: '" + cfg.host_port + "' is not HOST:PORT");
  for (auto& m : members)
    if (auto hp = raft::split_host_port(m); !hp)
      usage("--members: '" + m + "' is not HOST:PORT");
  if (a.has("--metrics") && !kv::metrics_exporter::valid_address(a.get("--metrics")))
    usage("--metrics: '" + a.get("--metrics") + "' is not HOST:PORT");
  std::error_code ec;
  std::filesystem::create_directories(cfg.log_dir, ec);
  if (ec)
    usage("--data: cannot create '" + cfg.log_dir + "': " + ec.message());
  // Signals go to sigwait below, not to whichever thread CAF runs: block
  // them before the actor system starts its threads.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  caf::actor_system_config sys_cfg;
  setup(sys_cfg, tls);
  caf::actor_system sys{sys_cfg};
  raft::remote_options opts;
  opts.members = members;
  opts.tls = tls;
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
  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "raft-kv: signal " << sig << ", stopping" << std::endl;
  // Graceful stop: the member fails what it owes and stops its log writer.
  self->monitor(m->member);
  self->request(m->member, std::chrono::seconds(5), raft::stop_atom::value)
    .receive([](caf::ok_atom) {}, [](caf::error&) {});
  self->receive([](caf::down_msg&) {},
                caf::after(std::chrono::seconds(5)) >> [] {});
  std::cout << "raft-kv: stopped" << std::endl;
  finish(0);
}

// -- client commands ------------------------------------------------------------------

int run_client(const args& a) {
  static const std::map<std::string, size_t> arity{
    {"put", 2}, {"get", 1}, {"cas", 3}, {"delete", 1}, {"status", 0}};
  auto n = arity.at(a.command);
  if (a.positional.size() != n)
    usage(a.command + " takes " + std::to_string(n) + " argument(s), not "
          + std::to_string(a.positional.size()));
  raft::client_options opts;
  opts.cluster = split_list(a.required("--cluster"));
  if (opts.cluster.empty())
    usage("--cluster is empty");
  for (auto& m : opts.cluster)
    if (auto hp = raft::split_host_port(m); !hp)
      usage("--cluster: '" + m + "' is not HOST:PORT");
  opts.timeout = std::chrono::milliseconds(number(a, "--timeout", 5000, 1));
  opts.tls = tls_of(a);
  caf::actor_system_config sys_cfg;
  setup(sys_cfg, opts.tls);
  caf::actor_system sys{sys_cfg};
  auto cluster = opts.cluster;
  auto c = kv::client::make(sys, std::move(opts));
  if (!c) {
    std::cerr << "raft-kv: " << sys.render(c.error()) << '\n';
    finish(exit_usage);
  }
  auto& p = a.positional;
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
                << " applied=" << s->last_applied << '\n';
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
    std::cout << usage_text;
    return 0;
  }
  std::vector<std::string> tls_opts{"--tls-cert", "--tls-key", "--tls-ca"};
  if (argc >= 2 && std::string{argv[1]} == "serve") {
    auto known = tls_opts;
    for (auto k : {"--id", "--members", "--data", "--heartbeat",
                   "--snapshot-threshold", "--acl", "--metrics"})
      known.push_back(k);
    return serve(parse(argc, argv, known));
  }
  auto known = tls_opts;
  known.push_back("--cluster");
  known.push_back("--timeout");
  auto a = parse(argc, argv, known);
  if (a.command == "put" || a.command == "get" || a.command == "cas"
      || a.command == "delete" || a.command == "status")
    return run_client(a);
  usage("unknown command '" + a.command + "'");
}
