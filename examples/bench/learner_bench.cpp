// learner-bench: how long a new member takes to join a cluster that has a
// long history (issue 12's figure: "time to add a learner and promote it
// with 1M entries behind (snapshot plus log)").
//
//   learner-bench [--entries N] [--threshold T] [--dir D] [--no-fsync]
//
// Three members in one process (real scheduler and clock, durable file logs
// in D, snapshots at threshold T, raft-kv's state machine) take N puts of
// 256-byte values over 100,000 keys. Then a fourth, empty member starts with
// config::join, learns how to reach the others and they it (add_atom after
// start: the directory), and the leader is asked to add it as a learner
// (learner_atom) and then, until it is no longer refused as not caught up,
// to promote it (promote_atom). Printed: the time to each reply, and where
// the new member stood at the end, split in three (the newcomer's status is
// read every 20 ms between promotion attempts):
//   snapshot transfer  from the learner request to the newcomer's first
//                      status with entries applied (a snapshot is applied in
//                      one step: what it covers shows at once);
//   log catch-up       from there to the promotion request that was not
//                      refused as not caught up;
//   promotion commit   that request's round trip (the joint change C_old,new
//                      then C_new, thesis §4.3).

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/errc.hpp"
#include "raft/member.hpp"
#include "raft/storage/file_storage.hpp"

#include "kv_command.hpp"
#include "kv_state_machine.hpp"

namespace {

using clk = std::chrono::steady_clock;

struct options {
  uint64_t entries = 1000000;
  int64_t threshold = 100000;
  std::string dir;
  bool fsync = true;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "learner-bench: " << why
            << "\nusage: learner-bench [--entries N] [--threshold T] "
               "[--dir D] [--no-fsync]\n";
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc)
        usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--entries")
      o.entries = std::stoull(next());
    else if (a == "--threshold")
      o.threshold = std::stoll(next());
    else if (a == "--dir")
      o.dir = next();
    else if (a == "--no-fsync")
      o.fsync = false;
    else
      usage("unknown argument " + a);
  }
  if (o.dir.empty())
    o.dir = (std::filesystem::temp_directory_path()
             / ("learner-bench-" + std::to_string(::getpid())))
              .string();
  return o;
}

double seconds_since(clk::time_point t0) {
  return std::chrono::duration<double>(clk::now() - t0).count();
}

raft::config member_config(const options& o, const std::string& id) {
  raft::config cfg;
  cfg.host_port = id;
  cfg.log_dir = o.dir + "/" + id;
  cfg.snapshot_threshold = o.threshold;
  cfg.log.threshold = raft::log_level::warning;
  return cfg;
}

raft::member_actor spawn(caf::actor_system& sys, const options& o,
                         raft::config cfg) {
  raft::file_storage_options fo;
  fo.sync = o.fsync;
  auto store = std::make_shared<raft::file_storage>(cfg.log_dir, fo);
  auto m = raft::spawn_member(sys, cfg, std::make_shared<kv::machine>(),
                              store);
  if (!m) {
    std::cerr << "learner-bench: " << sys.render(m.error()) << "\n";
    std::exit(1);
  }
  return *m;
}

/// Keeps `window` puts in flight against `leader` until `total` were
/// acknowledged.
void load(caf::actor_system& sys, raft::member_actor leader, uint64_t total) {
  caf::scoped_actor waiter{sys};
  auto driver = sys.spawn([=](caf::event_based_actor* self) {
    auto sent = std::make_shared<uint64_t>(0);
    auto acked = std::make_shared<uint64_t>(0);
    auto value = std::make_shared<std::string>(256, 'v');
    auto send_one = std::make_shared<std::function<void()>>();
    *send_one = [=] {
      auto k = "k" + std::to_string((*sent)++ % 100000);
      self->request(leader, std::chrono::seconds(60), raft::append_atom::value,
                    kv::put_cmd(k, *value))
        .then(
          [=](const raft::append_reply&) {
            if (++*acked == total)
              self->quit();
            else if (*sent < total)
              (*send_one)();
          },
          [=](const caf::error& err) {
            std::cerr << "learner-bench: put failed: "
                      << self->system().render(err) << "\n";
            std::exit(1);
          });
    };
    for (int i = 0; i < 256 && *sent < total; ++i)
      (*send_one)();
  });
  waiter->wait_for(driver);
}

raft::member_status status_of(caf::scoped_actor& self,
                              const raft::member_actor& m) {
  raft::member_status result;
  self->request(m, std::chrono::seconds(10), raft::status_atom::value)
    .receive([&](const raft::member_status& s) { result = s; },
             [&](const caf::error& err) {
               std::cerr << "learner-bench: status: "
                         << self->system().render(err) << "\n";
               std::exit(1);
             });
  return result;
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  std::filesystem::remove_all(o.dir);
  caf::actor_system_config sys_cfg;
  raft::add_message_types(sys_cfg);
  caf::actor_system sys{sys_cfg};
  caf::scoped_actor self{sys};

  std::vector<std::string> ids{"m1:1", "m2:1", "m3:1"};
  std::vector<raft::member_actor> members;
  for (auto& id : ids)
    members.push_back(spawn(sys, o, member_config(o, id)));
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 3; ++j)
      if (i != j)
        self->request(members[i], std::chrono::seconds(5),
                      caf::add_atom::value, ids[j],
                      caf::actor_cast<caf::actor>(members[j]))
          .receive([](caf::ok_atom) {}, [](caf::error&) { std::exit(1); });
  for (auto& m : members)
    self->request(m, std::chrono::seconds(5), raft::start_atom::value)
      .receive([](caf::ok_atom) {}, [](caf::error&) { std::exit(1); });

  // Load through member 1 (it forwards to the leader until it leads).
  auto t0 = clk::now();
  load(sys, members[0], o.entries);
  auto st = status_of(self, members[0]);
  std::cout << "loaded " << o.entries << " puts in " << seconds_since(t0)
            << " s; commit index " << st.commit_index << ", leader "
            << st.leader << "\n";
  size_t leader = 0;
  for (size_t i = 0; i < 3; ++i)
    if (ids[i] == st.leader)
      leader = i;

  // The newcomer: empty, waiting to be added.
  auto cfg = member_config(o, "m4:1");
  cfg.join = true;
  auto newcomer = spawn(sys, o, cfg);
  for (size_t i = 0; i < 3; ++i) {
    self->request(newcomer, std::chrono::seconds(5), caf::add_atom::value,
                  ids[i], caf::actor_cast<caf::actor>(members[i]))
      .receive([](caf::ok_atom) {}, [](caf::error&) { std::exit(1); });
    self->request(members[i], std::chrono::seconds(5), caf::add_atom::value,
                  cfg.host_port, caf::actor_cast<caf::actor>(newcomer))
      .receive([](caf::ok_atom) {},
               [&](caf::error& err) {
                 std::cerr << "learner-bench: directory: "
                           << sys.render(err) << "\n";
                 std::exit(1);
               });
  }
  self->request(newcomer, std::chrono::seconds(5), raft::start_atom::value)
    .receive([](caf::ok_atom) {}, [](caf::error&) { std::exit(1); });

  // Step 1: the learner entry commits (thesis §4.2.1: a learner first).
  auto t1 = clk::now();
  bool failed = false;
  auto fail = [&](const char* what, const caf::error& err) {
    std::cerr << "learner-bench: " << what << ": " << sys.render(err) << "\n";
    failed = true;
  };
  self->request(members[leader], std::chrono::minutes(1),
                raft::learner_atom::value, cfg.host_port, false)
    .receive(
      [&](const raft::cluster_configuration& c) {
        std::cout << "learner added in " << seconds_since(t1)
                  << " s: " << raft::to_string(c) << "\n";
      },
      [&](const caf::error& err) { fail("learner_atom", err); });
  // Step 2: promote, refused with not_caught_up until the snapshot and the
  // log reached it; asked again every 20 ms.
  auto t2 = clk::now();
  auto refusals = 0;
  std::optional<clk::time_point> snapshot_at;
  raft::index_t snapshot_applied = 0;
  for (bool done = failed; !done;) {
    if (!snapshot_at) {
      auto ns = status_of(self, newcomer);
      if (ns.last_applied > 0) {
        snapshot_at = clk::now();
        snapshot_applied = ns.last_applied;
      }
    }
    auto asked = clk::now();
    self->request(members[leader], std::chrono::minutes(1),
                  raft::promote_atom::value, cfg.host_port)
      .receive(
        [&](const raft::cluster_configuration& c) {
          auto snap = snapshot_at.value_or(asked);
          std::cout << "promoted " << seconds_since(t2)
                    << " s later (" << refusals
                    << " not_caught_up refusals before); joined in "
                    << seconds_since(t1) << " s in all: " << raft::to_string(c)
                    << "\n";
          auto secs = [](clk::duration d) {
            return std::chrono::duration<double>(d).count();
          };
          std::cout << "split: snapshot transfer " << secs(snap - t1)
                    << " s (applied up to " << snapshot_applied
                    << " at first sight), log catch-up " << secs(asked - snap)
                    << " s, promotion commit " << seconds_since(asked)
                    << " s\n";
          done = true;
        },
        [&](const caf::error& err) {
          if (err.category() == raft::errc_category
              && err.code()
                   == static_cast<uint8_t>(raft::errc::not_caught_up)) {
            ++refusals;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          } else {
            fail("promote_atom", err);
            done = true;
          }
        });
  }
  auto ns = status_of(self, newcomer);
  std::cout << "newcomer: last applied " << ns.last_applied << ", log up to "
            << ns.last_log_index << ", role " << raft::to_string(ns.role)
            << "\n";
  for (auto& m : members)
    self->send_exit(m, caf::exit_reason::user_shutdown);
  self->send_exit(newcomer, caf::exit_reason::user_shutdown);
  std::filesystem::remove_all(o.dir);
  return failed ? 1 : 0;
}
