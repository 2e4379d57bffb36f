// raft-bench: the command line (options, parsing, usage).

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

#include "caf/actor_system_config.hpp"

namespace raft_bench {

const char* usage_text =
  "usage: raft-bench [--members N] [--inproc | --processes] [--clients C]\n"
  "                  [--size B] [--seconds S] [--warmup S] [--no-fsync]\n"
  "                  [--port P] [--json]\n"
  "  --members N   cluster size (default 3, 1..9)\n"
  "  --inproc      all members and clients in one actor system\n"
  "  --processes   one process per member on 127.0.0.1 (default)\n"
  "  --clients C   closed-loop clients (default 1)\n"
  "  --size B      value bytes per put (default 256; key: 8 bytes)\n"
  "  --seconds S   measured seconds after the warm-up (default 5)\n"
  "  --warmup S    warm-up seconds (default 1)\n"
  "  --no-fsync    in-memory log (default: durable file log, temp dir)\n"
  "  --port P      first TCP port on 127.0.0.1 (default 17400; uses P..P+N)\n"
  "  --json        print one JSON object as the last line\n"
  "  --snapshot-threshold N  entries between snapshots (0: none; default:\n"
  "                the library's; durable runs only)\n"
  "  --scheduler P CAF scheduler policy in every process: stealing (CAF's\n"
  "                default) or sharing\n"
  "  --sample-every S  record throughput, p50/p99, RSS and disk use of\n"
  "                each member every S seconds (\"sample\" lines, --json)\n"
  "  --trace N     stamp every N-th log index at each stage of its put\n"
  "                (client send .. reply received, on every member) and\n"
  "                print the median and p99 of each stage; also in --json\n"
  "  --client-window W  raft::client's messages in flight (default: the\n"
  "                library's; processes mode)\n"
  "recovery mode (--recovery; 3 member processes, durable):\n"
  "  --entries N   entries in the prepared log (default 1000000)\n"
  "  --snapshot-at N  index the prepared snapshot covers (default 90% of\n"
  "                --entries)\n"
  "  --layout L    full: every entry stays in the log files, the metadata's\n"
  "                base is 0 (a crash between snapshot and compaction);\n"
  "                compacted: the log was compacted to the snapshot as a\n"
  "                member does right after taking it (default full)\n"
  "  --reps R      restarts of the measured member (default 3)\n"
  "  --cold        evict its files from the page cache before each restart\n"
  "  --snapshot-threshold N  default here: 2 x (entries - snapshot-at), so\n"
  "                no snapshot is taken during the replay\n";

void usage(const std::string& why) {
  std::cerr << "raft-bench: " << why << "\n" << usage_text;
  std::exit(2);
}


long long to_int(const std::string& flag, const std::string& v, long long lo,
                 long long hi) {
  char* end = nullptr;
  errno = 0;
  auto n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n < lo || n > hi)
    usage(flag + " needs a whole number in [" + std::to_string(lo) + ", "
          + std::to_string(hi) + "], not '" + v + "'");
  return n;
}

double to_seconds(const std::string& flag, const std::string& v, double lo,
                  double hi) {
  char* end = nullptr;
  auto d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(d >= lo && d <= hi))
    usage(flag + " needs a number of seconds in [" + std::to_string(lo)
          + ", " + std::to_string(hi) + "], not '" + v + "'");
  return d;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << usage_text;
      std::exit(0);
    } else if (a == "--members")
      o.members = static_cast<int>(to_int(a, value(), 1, 9));
    else if (a == "--inproc")
      o.inproc = true;
    else if (a == "--processes")
      o.inproc = false;
    else if (a == "--clients")
      o.clients = static_cast<int>(to_int(a, value(), 1, 4096));
    else if (a == "--size")
      o.size = static_cast<size_t>(to_int(a, value(), 0, 1 << 20));
    else if (a == "--seconds")
      o.seconds = to_seconds(a, value(), 0.1, 3600);
    else if (a == "--warmup")
      o.warmup = to_seconds(a, value(), 0, 600);
    else if (a == "--no-fsync")
      o.fsync = false;
    else if (a == "--port")
      o.port = static_cast<int>(to_int(a, value(), 1024, 65000));
    else if (a == "--json")
      o.json = true;
    else if (a == "--scheduler") {
      o.scheduler = value();
      if (o.scheduler != "stealing" && o.scheduler != "sharing")
        usage("--scheduler is 'stealing' or 'sharing', not '" + o.scheduler
              + "'");
    } else if (a == "--snapshot-threshold")
      o.snapshot_threshold = to_int(a, value(), 0, 1LL << 40);
    else if (a == "--sample-every")
      o.sample_every = to_seconds(a, value(), 0.1, 3600);
    else if (a == "--trace")
      o.trace_every = static_cast<uint32_t>(to_int(a, value(), 1, 1000000));
    else if (a == "--client-window")
      o.client_window = static_cast<size_t>(to_int(a, value(), 1, 1024));
    else if (a == "--recovery")
      o.recovery = true;
    else if (a == "--entries")
      o.entries = to_int(a, value(), 1, 100000000);
    else if (a == "--snapshot-at")
      o.snapshot_at = to_int(a, value(), 1, 100000000);
    else if (a == "--layout") {
      o.layout = value();
      if (o.layout != "full" && o.layout != "compacted")
        usage("--layout is 'full' or 'compacted', not '" + o.layout + "'");
    } else if (a == "--reps")
      o.reps = static_cast<int>(to_int(a, value(), 1, 100));
    else if (a == "--cold")
      o.cold = true;
    else if (a == "--timing")
      o.timing = true;
    else if (a == "--replay-target")
      o.replay_target = to_int(a, value(), 0, 1LL << 40);
    else if (a == "--member")
      o.member_mode = true;
    else if (a == "--echo")
      o.echo_mode = true;
    else if (a == "--id")
      o.id = value();
    else if (a == "--member-list")
      o.member_list = value();
    else if (a == "--data")
      o.data = value();
    else
      usage("unknown option '" + a + "'");
  }
  return o;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in{s};
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty())
      out.push_back(item);
  return out;
}

void tune(caf::actor_system_config& cfg, const options& o) {
  if (!o.scheduler.empty())
    cfg.set("scheduler.policy", caf::atom_from_string(o.scheduler));
}

void block_signals(sigset_t& set) {
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1); // member mode: print the trace (--trace)
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

} // namespace raft_bench
