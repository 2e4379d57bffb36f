// raft-bench --recovery: how long a member that restarts with a big log and
// a snapshot takes until it serves again (docs/benchmarks.md, "Recovery").

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

// -- recovery mode ---------------------------------------------------------------------

/// What a restart of the measured member reported: milestones in ms since
/// the parent forked it.
struct restart_sample {
  std::map<std::string, double> ms;    // "T" lines
  std::map<std::string, int64_t> num;  // "N" lines
  std::string role;
  double rss = 0;
  bool ok = false;
};

/// Writes the data directory a member would have after logging `entries` kv
/// puts (the same keys and values as the load clients: 8-byte key over
/// 100,000 keys, --size value bytes) in term 1, with a snapshot of the state
/// after entry `snap_at`, through the storage API: file_storage (default
/// segment size, batches of 1,024 entries, fsync off while filling, every
/// file synced at the end) and snapshot_store (the kv snapshot the member's
/// state machine would write). --layout compacted also compacts the log to
/// the snapshot, as the member does once a snapshot is durable.
void prepare_recovery_dir(const std::string& dir, const options& o,
                          raft::index_t snap_at) {
  raft::file_storage_options fopts;
  fopts.sync = false;
  raft::file_storage fs{dir, fopts};
  auto die = [&](const std::string& what, const caf::error& err) {
    std::cerr << "raft-bench: prepare: " << what << ": "
              << caf::to_string(err) << '\n';
    std::exit(1);
  };
  if (auto rec = fs.load(); !rec)
    die("load", rec.error());
  kv::machine m;
  raft::write_batch b;
  b.has_state = true;
  b.state.current_term = 1;
  std::string value(o.size, 'v');
  auto n = static_cast<raft::index_t>(o.entries);
  for (raft::index_t i = 1; i <= n;) {
    b.entries.clear();
    for (size_t k = 0; k < 1024 && i <= n; ++k, ++i) {
      char key[16];
      std::snprintf(key, sizeof(key), "%08u",
                    static_cast<unsigned>(i % 100000));
      auto cmd = kv::put_cmd(key, value);
      if (i <= snap_at)
        m.apply(i, cmd);
      b.entries.push_back(
        raft::log_entry{1, i, raft::entry_kind::command, std::move(cmd)});
    }
    if (auto err = fs.write(b))
      die("write", err);
    b.has_state = false;
  }
  raft::snapshot_meta meta{snap_at, 1};
  raft::snapshot_store_options sopts;
  sopts.sync = false;
  raft::snapshot_store snaps{dir, sopts};
  auto path = snaps.begin(meta);
  if (!path)
    die("snapshot begin", path.error());
  {
    std::ofstream out{*path, std::ios::binary | std::ios::trunc};
    if (auto err = m.save_snapshot(out))
      die("snapshot save", err);
  }
  if (auto info = snaps.commit(meta); !info)
    die("snapshot commit", info.error());
  if (o.layout == "compacted")
    if (auto err = fs.compact(meta))
      die("compact", err);
  sync_dir_files(dir, false);
}

/// Reads the child's "T/N/S" lines until "SERVING" (or EOF, or timeout).
restart_sample read_restart(child& c, int64_t t_launch,
                            std::chrono::seconds timeout) {
  restart_sample out;
  std::string buf;
  auto deadline = clk::now() + timeout;
  while (clk::now() < deadline) {
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      auto line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      std::istringstream in{line};
      std::string tag, key;
      in >> tag >> key;
      if (tag == "SERVING") {
        out.ok = true;
        return out;
      }
      if (tag == "T") {
        int64_t ns = 0;
        in >> ns;
        out.ms[key] = ns == 0 ? -1 : static_cast<double>(ns - t_launch) / 1e6;
      } else if (tag == "N") {
        int64_t v = 0;
        in >> v;
        out.num[key] = v;
      } else if (tag == "S") {
        in >> out.role;
      }
    }
    pollfd p{c.out, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0)
      continue;
    char tmp[4096];
    auto n = read(c.out, tmp, sizeof(tmp));
    if (n <= 0)
      break;
    buf.append(tmp, static_cast<size_t>(n));
  }
  return out;
}

double median(std::vector<double> v) {
  if (v.empty())
    return -1;
  std::sort(v.begin(), v.end());
  auto k = v.size() / 2;
  return v.size() % 2 ? v[k] : (v[k - 1] + v[k]) / 2;
}

int run_recovery(options o) {
  if (o.members != 3)
    usage("--recovery runs 3 members");
  auto n = static_cast<raft::index_t>(o.entries);
  auto snap_at = static_cast<raft::index_t>(
    o.snapshot_at > 0 ? o.snapshot_at : o.entries / 10 * 9);
  if (snap_at < 1 || snap_at > n)
    usage("--snapshot-at must lie within [1, --entries]");
  if (o.snapshot_threshold < 0)
    o.snapshot_threshold = static_cast<long long>(2 * (n - snap_at));
  for (int p = o.port; p < o.port + o.members; ++p)
    if (!port_free(p))
      usage("port " + std::to_string(p) + " on 127.0.0.1 is in use: choose "
            "another --port");
  const std::string tmp = make_temp_dir();
  if (tmp.empty())
    return 1;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::vector<child> cluster;
  auto cleanup = [&] {
    stop_children(cluster);
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
  };
  auto fail = [&](const std::string& why) {
    std::cerr << "\nraft-bench: " << why << '\n';
    cleanup();
    std::_Exit(1);
  };
  const double load_before = loadavg1();
  // 1. The data directory of the measured member (m0), copied for m1, m2.
  std::vector<std::string> dirs;
  for (int i = 0; i < 3; ++i)
    dirs.push_back(tmp + "/m" + std::to_string(i));
  auto t_prep = clk::now();
  prepare_recovery_dir(dirs[0], o, snap_at);
  double prepare_s = std::chrono::duration<double>(clk::now() - t_prep).count();
  size_t files = 0;
  for (auto& ent : std::filesystem::directory_iterator(dirs[0])) {
    (void) ent;
    ++files;
  }
  double data_mib = disk_mib(dirs[0]);
  for (int i = 1; i < 3; ++i)
    std::filesystem::copy(dirs[0], dirs[static_cast<size_t>(i)],
                          std::filesystem::copy_options::recursive);
  std::fprintf(stderr,
               "raft-bench: prepared %llu entries, snapshot at %llu, layout "
               "%s: %.0f MiB in %zu files, %.1f s\n",
               static_cast<unsigned long long>(n),
               static_cast<unsigned long long>(snap_at), o.layout.c_str(),
               data_mib, files, prepare_s);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back("127.0.0.1:" + std::to_string(o.port + i));
  std::string id_list = ids[0] + "," + ids[1] + "," + ids[2];
  auto member_args = [&](int i) {
    std::vector<std::string> args{"--member", "--id", ids[static_cast<size_t>(i)],
                                  "--member-list", id_list, "--data",
                                  dirs[static_cast<size_t>(i)],
                                  "--snapshot-threshold",
                                  std::to_string(o.snapshot_threshold)};
    if (!o.scheduler.empty()) {
      args.push_back("--scheduler");
      args.push_back(o.scheduler);
    }
    return args;
  };
  // 2. The other two members; they elect a leader and commit a put.
  for (int i = 1; i < 3; ++i)
    cluster.push_back(launch(ids[static_cast<size_t>(i)], member_args(i)));
  for (auto& c : cluster)
    if (!wait_ready(c, std::chrono::seconds(120)))
      fail(c.name + " did not start");
  {
    caf::actor_system_config sys_cfg;
    if (auto err = raft::configure_remote(sys_cfg, {}))
      fail("cannot configure CAF");
    caf::actor_system sys{sys_cfg};
    caf::scoped_actor self{sys};
    raft::client_options copts;
    copts.cluster = {ids[1], ids[2]};
    copts.timeout = std::chrono::seconds(10);
    auto c = raft::spawn_client(sys, copts);
    if (!c)
      fail("cannot spawn the client: " + sys.render(c.error()));
    auto target = caf::actor_cast<caf::actor>(*c);
    auto deadline = clk::now() + std::chrono::seconds(60);
    bool ok = false;
    std::string last_err;
    while (!ok && clk::now() < deadline) {
      self
        ->request(target, std::chrono::seconds(15), raft::append_atom::value,
                  kv::put_cmd("warmup", "x"))
        .receive([&](raft::append_reply&) { ok = true; },
                 [&](caf::error& err) {
                   last_err = sys.render(err);
                   std::this_thread::sleep_for(std::chrono::milliseconds(100));
                 });
      if (!ok) {
        // Say where the two members are (for a stuck start).
        for (int i = 1; i < 3; ++i)
          self
            ->request(target, std::chrono::seconds(5), raft::status_atom::value,
                      ids[static_cast<size_t>(i)])
            .receive(
              [&](raft::member_status& s) {
                std::fprintf(stderr,
                             "raft-bench: no commit yet (%s); %s: %s term %llu "
                             "leader '%s' commit %llu applied %llu last %llu\n",
                             last_err.c_str(), s.id.c_str(),
                             raft::to_string(s.role).c_str(),
                             static_cast<unsigned long long>(s.term),
                             s.leader.c_str(),
                             static_cast<unsigned long long>(s.commit_index),
                             static_cast<unsigned long long>(s.last_applied),
                             static_cast<unsigned long long>(s.last_log_index));
              },
              [&](caf::error& err) {
                std::fprintf(stderr, "raft-bench: status of %s: %s\n",
                             ids[static_cast<size_t>(i)].c_str(),
                             sys.render(err).c_str());
              });
      }
    }
    if (!ok)
      fail("the two other members committed no put within 60 s: " + last_err);
    caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  }
  // Let the followers finish their own replay before the first restart.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  // 3. Restarts of m0, each from its data directory as the previous run (or
  // the preparation) left it.
  std::vector<restart_sample> runs;
  for (int r = 0; r < o.reps; ++r) {
    if (o.cold)
      sync_dir_files(dirs[0], true);
    auto args = member_args(0);
    args.push_back("--timing");
    args.push_back("--replay-target");
    args.push_back(std::to_string(n));
    auto t_launch = now_ns();
    std::vector<child> one{launch(ids[0], args)};
    const pid_t pid = one[0].pid;
    auto s = read_restart(one[0], t_launch, std::chrono::seconds(180));
    s.rss = rss_mib(one[0].pid);
    stop_children(one);
    std::replace(g_children.begin(), g_children.end(), pid, pid_t{-1});
    if (!s.ok)
      fail("restart " + std::to_string(r + 1) + " did not report serving");
    auto ms = [&](const char* k) { return s.ms.count(k) ? s.ms[k] : -1; };
    std::fprintf(stderr,
                 "restart %d: serving (append answered) after %.0f ms: exec "
                 "%.0f, log load %.0f (%lld entries), spawn %.0f,"
                 " restore %.0f, %s known at %.0f, replay %.0f (%.0f..%.0f), "
                 "read at %.0f ms\n",
                 r + 1, ms("append"), ms("main"),
                 ms("load_end") - ms("load_begin"),
                 static_cast<long long>(s.num["loaded_entries"]),
                 ms("spawned") - ms("load_end"),
                 ms("restore_end") - ms("restore_begin"), s.role.c_str(),
                 ms("status"), ms("replayed") - ms("first_apply"),
                 ms("first_apply"), ms("replayed"), ms("query"));
    runs.push_back(std::move(s));
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  const double load_after = loadavg1();
  // 4. Medians.
  auto col = [&](std::function<double(restart_sample&)> f) {
    std::vector<double> v;
    for (auto& s : runs)
      v.push_back(f(s));
    return v;
  };
  auto at = [](restart_sample& s, const char* k) {
    return s.ms.count(k) ? s.ms[k] : -1.0;
  };
  auto recovery = col([&](restart_sample& s) { return at(s, "append"); });
  auto exec = col([&](restart_sample& s) { return at(s, "main"); });
  auto log_load = col([&](restart_sample& s) {
    return at(s, "load_end") - at(s, "load_begin");
  });
  auto spawn = col([&](restart_sample& s) {
    return at(s, "spawned") - at(s, "load_end");
  });
  auto restore = col([&](restart_sample& s) {
    return at(s, "restore_end") - at(s, "restore_begin");
  });
  auto status = col([&](restart_sample& s) { return at(s, "status"); });
  auto replay = col([&](restart_sample& s) {
    return at(s, "replayed") - at(s, "first_apply");
  });
  auto replay_start = col([&](restart_sample& s) { return at(s, "first_apply"); });
  auto replayed = col([&](restart_sample& s) { return at(s, "replayed"); });
  auto query = col([&](restart_sample& s) { return at(s, "query"); });
  auto rss = col([](restart_sample& s) { return s.rss; });
  auto replay_entries = static_cast<long long>(n - snap_at);
  std::printf("raft-bench --recovery: %llu entries (%zu-byte values), snapshot "
              "at %llu, layout %s, %s page cache, snapshot_threshold %lld; "
              "%d restarts of one member of 3 (processes); medians:\n",
              static_cast<unsigned long long>(n), o.size,
              static_cast<unsigned long long>(snap_at), o.layout.c_str(),
              o.cold ? "cold" : "warm", o.snapshot_threshold, o.reps);
  std::printf("  data dir        %.0f MiB, %zu files (prepared in %.1f s)\n",
              data_mib, files, prepare_s);
  std::printf("  process start   %.0f ms (fork/exec to main)\n", median(exec));
  std::printf("  log load        %.0f ms (file_storage::load_after: the entries "
              "after the snapshot)\n",
              median(log_load));
  std::printf("  spawn           %.0f ms (spawn, publish; the snapshot's "
              "checksum runs before the log load)\n",
              median(spawn));
  std::printf("  snapshot restore %.0f ms (kv restore_snapshot)\n",
              median(restore));
  std::printf("  leader known    at %.0f ms\n", median(status));
  std::printf("  replay          %.0f ms for %lld entries (from %.0f to %.0f "
              "ms)\n",
              median(replay), replay_entries, median(replay_start),
              median(replayed));
  std::printf("  serving         at %.0f ms (first append sent to it "
              "answered); committed read at %.0f ms\n",
              median(recovery), median(query));
  std::printf("  rss             %.0f MiB when serving\n", median(rss));
  std::printf("  runs (ms to serving): %s\n", json_array(recovery, 0).c_str());
  std::printf("  load average %.2f before, %.2f after\n", load_before,
              load_after);
  if (o.json)
    std::printf(
      "{\"mode\":\"recovery\",\"entries\":%llu,\"snapshot_at\":%llu,"
      "\"layout\":\"%s\",\"cache\":\"%s\",\"size\":%zu,"
      "\"snapshot_threshold\":%lld,\"reps\":%d,\"data_mib\":%.1f,"
      "\"files\":%zu,\"prepare_s\":%.2f,\"recovery_ms\":%.1f,"
      "\"exec_ms\":%.1f,\"log_load_ms\":%.1f,\"snapshot_check_ms\":%.1f,"
      "\"snapshot_restore_ms\":%.1f,\"status_ms\":%.1f,\"replay_ms\":%.1f,"
      "\"replay_entries\":%lld,\"replay_done_ms\":%.1f,"
      "\"first_append_ms\":%.1f,\"query_ms\":%.1f,\"rss_mib\":%.1f,"
      "\"runs_recovery_ms\":%s,\"runs_log_load_ms\":%s,"
      "\"runs_replay_ms\":%s,\"loadavg_before\":%.2f,"
      "\"loadavg_after\":%.2f}\n",
      static_cast<unsigned long long>(n),
      static_cast<unsigned long long>(snap_at), o.layout.c_str(),
      o.cold ? "cold" : "warm", o.size, o.snapshot_threshold, o.reps, data_mib,
      files, prepare_s, median(recovery), median(exec), median(log_load),
      median(spawn), median(restore), median(status), median(replay),
      replay_entries, median(replayed), median(recovery), median(query),
      median(rss), json_array(recovery, 1).c_str(),
      json_array(log_load, 1).c_str(), json_array(replay, 1).c_str(),
      load_before, load_after);
  std::fflush(stdout);
  cleanup();
  std::fflush(stderr);
  std::_Exit(0);
}

} // namespace raft_bench
