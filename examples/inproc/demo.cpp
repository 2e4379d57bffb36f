// caf-raft in-process demo: three Raft members in one actor system (default
// scheduler, real time) replicate a tiny key-value store.
//
//   1. spawn 3 members, tell each about the others, start them
//   2. wait for a leader (polling every member's status)
//   3. append commands through every member (followers forward them)
//   4. stop the leader; wait for the other two to elect a new one
//   5. append more (one by one, then a burst of concurrent appends)
//   6. check that every acknowledged command was applied on both survivors
//      at the index its acknowledgement named, in the same order
//
// Exits 0 on success; otherwise prints "DEMO FAILED: <why>" and exits 1.
// A watchdog ends the process with exit code 2 if the demo hangs.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "caf/actor_cast.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/errc.hpp"
#include "raft/member.hpp"

#include "kv_store.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

// -- knobs --------------------------------------------------------------------------

constexpr int num_members = 3;
constexpr int first_port = 7001;
constexpr auto heartbeat = milliseconds(50);
/// How long the cluster may take to elect a leader.
constexpr auto leader_timeout = std::chrono::seconds(10);
/// How long a single request may take.
constexpr auto call_timeout = std::chrono::seconds(10);
/// How long applying acknowledged commands everywhere may take.
constexpr auto apply_timeout = std::chrono::seconds(10);
/// The whole demo; past it the watchdog reports a hang.
constexpr auto demo_timeout = std::chrono::seconds(90);
/// Concurrent appends in the burst of step 5.
constexpr int burst_size = 20;

// -- output ---------------------------------------------------------------------------

const clock_type::time_point demo_start = clock_type::now();

std::string stamp() {
  auto ms = std::chrono::duration_cast<milliseconds>(clock_type::now()
                                                     - demo_start);
  std::ostringstream out;
  out << '[' << std::setw(6) << ms.count() << " ms] ";
  return out.str();
}

void step(const std::string& what) {
  std::cout << '\n' << stamp() << "== " << what << std::endl;
}

void say(const std::string& what) {
  std::cout << stamp() << "   " << what << std::endl;
}

/// Ends the demo with a clear message. Exits at once (no orderly shutdown):
/// if the library misbehaves, waiting for its actors could hang.
[[noreturn]] void fail(const std::string& why) {
  std::cout << std::flush;
  std::cerr << '\n' << stamp() << "DEMO FAILED: " << why << std::endl;
  std::_Exit(EXIT_FAILURE);
}

/// Ends the process if the demo does not finish in time.
class watchdog {
public:
  explicit watchdog(clock_type::duration limit) {
    thread_ = std::thread{[this, limit] {
      std::unique_lock<std::mutex> guard{mtx_};
      if (!cv_.wait_for(guard, limit, [this] { return done_; })) {
        std::cout << std::flush;
        std::cerr << '\n'
                  << stamp() << "DEMO FAILED: did not finish within "
                  << std::chrono::duration_cast<std::chrono::seconds>(limit)
                       .count()
                  << " s (a hang?)" << std::endl;
        std::_Exit(2);
      }
    }};
  }

  ~watchdog() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// -- members ------------------------------------------------------------------------

struct member {
  std::string id;
  std::shared_ptr<demo::kv_store> kv;
  raft::member_actor handle;
  bool running = true;
};

/// An append that a member acknowledged.
struct ack {
  std::string via;
  std::string command;
  raft::append_reply reply;
};

std::string quote(const std::string& x) {
  return '"' + x + '"';
}

std::string describe(const raft::append_reply& r) {
  std::string out = "index " + std::to_string(r.index);
  if (!r.apply_error.empty())
    out += ", apply error " + quote(r.apply_error);
  else
    out += ", result " + quote(r.result);
  return out;
}

class demo_cluster {
public:
  demo_cluster(caf::actor_system& sys) : sys_(sys), self_(sys) {
    // nop
  }

  // -- setup ------------------------------------------------------------------------

  void spawn_all() {
    for (int i = 0; i < num_members; ++i) {
      raft::config cfg;
      cfg.host_port = "127.0.0.1:" + std::to_string(first_port + i);
      cfg.heartbeat = heartbeat;
      auto kv = std::make_shared<demo::kv_store>();
      auto m = raft::spawn_member(sys_, cfg, kv);
      if (!m)
        fail("cannot spawn member " + cfg.host_port + ": " + render(m.error()));
      members_.push_back(member{cfg.host_port, kv, *m, true});
      say("spawned " + cfg.host_port + " (heartbeat "
          + std::to_string(heartbeat.count()) + " ms, election timeout "
          + std::to_string(10 * heartbeat.count()) + "-"
          + std::to_string(20 * heartbeat.count()) + " ms)");
    }
  }

  void connect_all() {
    for (auto& m : members_) {
      std::string added;
      for (auto& peer : members_) {
        if (&peer == &m)
          continue;
        self_
          ->request(m.handle, call_timeout, caf::add_atom::value, peer.id,
                    caf::actor_cast<caf::actor>(peer.handle))
          .receive([](caf::ok_atom) {},
                   [&](caf::error& err) {
                     fail("add " + peer.id + " to " + m.id + ": "
                          + render(err));
                   });
        added += (added.empty() ? "" : ", ") + peer.id;
      }
      say(m.id + " knows " + added);
    }
  }

  void start_all() {
    for (auto& m : members_) {
      self_->request(m.handle, call_timeout, raft::start_atom::value)
        .receive([](caf::ok_atom) {},
                 [&](caf::error& err) {
                   fail("start " + m.id + ": " + render(err));
                 });
      say("started " + m.id);
    }
  }

  // -- status ---------------------------------------------------------------------------

  bool status(const member& m, raft::member_status& out, std::string& err) {
    bool ok = false;
    self_->request(m.handle, call_timeout, raft::status_atom::value)
      .receive(
        [&](raft::member_status& s) {
          out = std::move(s);
          ok = true;
        },
        [&](caf::error& e) { err = render(e); });
    return ok;
  }

  std::vector<raft::member_status> running_statuses() {
    std::vector<raft::member_status> result;
    for (auto& m : members_) {
      if (!m.running)
        continue;
      raft::member_status s;
      std::string err;
      if (!status(m, s, err))
        fail("status of " + m.id + ": " + err);
      result.push_back(std::move(s));
    }
    return result;
  }

  void print_statuses() {
    std::cout << "      " << std::left << std::setw(16) << "member"
              << std::setw(11) << "role" << std::right << std::setw(5)
              << "term" << "  " << std::left << std::setw(16) << "leader"
              << std::right << std::setw(7) << "commit" << std::setw(9)
              << "applied" << std::setw(10) << "last log" << '\n';
    for (auto& m : members_) {
      std::cout << "      " << std::left << std::setw(16) << m.id;
      if (!m.running) {
        std::cout << "stopped\n";
        continue;
      }
      raft::member_status s;
      std::string err;
      if (!status(m, s, err))
        fail("status of " + m.id + ": " + err);
      std::cout << std::setw(11) << to_string(s.role) << std::right
                << std::setw(5) << s.term << "  " << std::left
                << std::setw(16) << (s.leader.empty() ? "-" : s.leader)
                << std::right << std::setw(7) << s.commit_index
                << std::setw(9) << s.last_applied << std::setw(10)
                << s.last_log_index << '\n';
    }
    std::cout << std::flush;
  }

  /// Polls until exactly one running member leads a term later than
  /// `after_term` and every running member names it as leader.
  member& await_leader(raft::term_t after_term) {
    auto start = clock_type::now();
    auto deadline = start + leader_timeout;
    for (;;) {
      auto all = running_statuses();
      const raft::member_status* leader = nullptr;
      int leaders = 0;
      for (auto& s : all) {
        if (s.role == raft::role::leader && s.term > after_term) {
          ++leaders;
          leader = &s;
        }
      }
      bool agreed = leaders == 1;
      for (auto& s : all)
        agreed = agreed && s.leader == leader->id && s.term == leader->term;
      if (agreed) {
        auto ms = std::chrono::duration_cast<milliseconds>(clock_type::now()
                                                           - start);
        say("leader: " + leader->id + " in term " + std::to_string(leader->term)
            + " (after " + std::to_string(ms.count()) + " ms; commit index "
            + std::to_string(leader->commit_index) + ")");
        return by_id(leader->id);
      }
      if (clock_type::now() >= deadline) {
        std::cout << "      status at the deadline:\n";
        print_statuses();
        fail("no leader agreed on by every running member within "
             + std::to_string(leader_timeout.count()) + " s");
      }
      std::this_thread::sleep_for(heartbeat);
    }
  }

  // -- appends ----------------------------------------------------------------------------

  /// Appends `cmd` through member `via` and waits for the acknowledgement.
  void append(member& via, const std::string& cmd) {
    auto role = role_of(via);
    self_
      ->request(via.handle, call_timeout, raft::append_atom::value,
                raft::payload{cmd})
      .receive(
        [&](raft::append_reply& r) {
          say("append " + quote(cmd) + " via " + via.id + " (" + role
              + ") -> " + describe(r));
          acks_.push_back(ack{via.id, cmd, std::move(r)});
        },
        [&](caf::error& err) {
          fail("append " + quote(cmd) + " via " + via.id + " (" + role
               + ") failed: " + render(err));
        });
  }

  /// Sends all `cmds` at once, alternating between `via`, then collects the
  /// acknowledgements.
  void append_burst(const std::vector<member*>& via,
                    const std::vector<std::string>& cmds) {
    using handle_type = decltype(self_->request(via[0]->handle, call_timeout,
                                                raft::append_atom::value,
                                                raft::payload{}));
    std::vector<handle_type> pending;
    for (size_t i = 0; i < cmds.size(); ++i)
      pending.push_back(self_->request(via[i % via.size()]->handle,
                                       call_timeout, raft::append_atom::value,
                                       raft::payload{cmds[i]}));
    say("sent " + std::to_string(cmds.size()) + " appends at once via "
        + list_ids(via));
    raft::index_t lo = 0;
    raft::index_t hi = 0;
    for (size_t i = 0; i < cmds.size(); ++i) {
      auto& m = *via[i % via.size()];
      pending[i].receive(
        [&](raft::append_reply& r) {
          lo = lo == 0 ? r.index : std::min(lo, r.index);
          hi = std::max(hi, r.index);
          acks_.push_back(ack{m.id, cmds[i], std::move(r)});
        },
        [&](caf::error& err) {
          fail("append " + quote(cmds[i]) + " via " + m.id
               + " failed: " + render(err));
        });
    }
    say("all " + std::to_string(cmds.size()) + " acknowledged, at indexes "
        + std::to_string(lo) + ".." + std::to_string(hi));
  }

  // -- stopping -----------------------------------------------------------------------------

  void stop(member& m) {
    self_->request(m.handle, call_timeout, raft::stop_atom::value)
      .receive([](caf::ok_atom) {},
               [&](caf::error& err) {
                 fail("stop " + m.id + ": " + render(err));
               });
    m.running = false;
    say("stopped " + m.id);
  }

  void stop_all() {
    for (auto& m : members_)
      if (m.running)
        stop(m);
  }

  // -- checking ------------------------------------------------------------------------------

  /// Waits until every running member applied up to the highest
  /// acknowledged index.
  void await_applied() {
    raft::index_t target = 0;
    for (auto& a : acks_)
      target = std::max(target, a.reply.index);
    auto deadline = clock_type::now() + apply_timeout;
    for (;;) {
      bool done = true;
      for (auto& s : running_statuses())
        done = done && s.last_applied >= target;
      if (done) {
        say("every running member applied up to index "
            + std::to_string(target));
        return;
      }
      if (clock_type::now() >= deadline) {
        print_statuses();
        fail("acknowledged commands up to index " + std::to_string(target)
             + " were not applied on every running member within "
             + std::to_string(apply_timeout.count()) + " s");
      }
      std::this_thread::sleep_for(heartbeat);
    }
  }

  void print_applied() {
    for (auto& m : members_) {
      auto log = m.kv->applied();
      std::cout << "      " << m.id << (m.running ? "" : " (stopped)")
                << ": " << log.size() << " commands applied\n";
      for (auto& r : log) {
        std::cout << "        " << std::setw(4) << r.index << "  "
                  << std::left << std::setw(24) << r.command << std::right
                  << " -> "
                  << (r.outcome.error.empty() ? quote(r.outcome.result)
                                              : "error: " + r.outcome.error)
                  << '\n';
      }
    }
    for (auto& m : members_) {
      std::cout << "      " << m.id << " store:";
      for (auto& kvp : m.kv->contents())
        std::cout << ' ' << kvp.first << '=' << kvp.second;
      std::cout << '\n';
    }
    std::cout << std::flush;
  }

  /// Every acknowledged command sits at its acknowledged index in the
  /// applied log of every running member, with the acknowledged outcome;
  /// the running members applied the same commands in the same order; the
  /// stopped members applied a prefix of that.
  void verify() {
    const member* ref = nullptr;
    for (auto& m : members_)
      if (m.running && ref == nullptr)
        ref = &m;
    if (ref == nullptr)
      fail("no running member left to check");
    auto ref_log = ref->kv->applied();
    for (size_t i = 1; i < ref_log.size(); ++i)
      if (ref_log[i].index <= ref_log[i - 1].index)
        fail(ref->id + " applied index " + std::to_string(ref_log[i].index)
             + " after index " + std::to_string(ref_log[i - 1].index));
    for (auto& m : members_) {
      auto log = m.kv->applied();
      if (m.running ? log.size() != ref_log.size()
                    : log.size() > ref_log.size())
        fail(m.id + " applied " + std::to_string(log.size())
             + " commands, " + ref->id + " applied "
             + std::to_string(ref_log.size()));
      for (size_t i = 0; i < log.size(); ++i)
        if (log[i].index != ref_log[i].index
            || log[i].command != ref_log[i].command)
          fail("applied logs differ at position " + std::to_string(i) + ": "
               + m.id + " has " + std::to_string(log[i].index) + " "
               + quote(log[i].command) + ", " + ref->id + " has "
               + std::to_string(ref_log[i].index) + " "
               + quote(ref_log[i].command));
      if (m.running && m.kv->contents() != ref->kv->contents())
        fail("stores of " + m.id + " and " + ref->id + " differ");
    }
    std::map<raft::index_t, const demo::kv_store::record*> by_index;
    for (auto& r : ref_log)
      by_index[r.index] = &r;
    for (auto& a : acks_) {
      auto i = by_index.find(a.reply.index);
      if (i == by_index.end())
        fail("lost command: " + quote(a.command) + " (acknowledged via "
             + a.via + " at index " + std::to_string(a.reply.index)
             + ") was never applied");
      auto& r = *i->second;
      if (r.command != a.command)
        fail("index " + std::to_string(a.reply.index) + " was acknowledged "
             + "for " + quote(a.command) + " but holds "
             + quote(r.command));
      if (r.outcome.result != a.reply.result
          || r.outcome.error != a.reply.apply_error)
        fail("the outcome of " + quote(a.command) + " differs from its "
             + "acknowledgement");
    }
    std::map<raft::index_t, int> seen;
    for (auto& a : acks_)
      if (++seen[a.reply.index] > 1)
        fail("two acknowledgements name index "
             + std::to_string(a.reply.index));
    say("OK: all " + std::to_string(acks_.size())
        + " acknowledged commands were applied on every running member at "
          "the acknowledged index, in the same order, with the same results");
  }

  // -- access ----------------------------------------------------------------------------------

  std::vector<member>& members() {
    return members_;
  }

  member& by_id(const std::string& id) {
    for (auto& m : members_)
      if (m.id == id)
        return m;
    fail("unknown member " + id);
  }

  std::string role_of(member& m) {
    raft::member_status s;
    std::string err;
    return status(m, s, err) ? to_string(s.role) : "?";
  }

private:
  std::string render(const caf::error& err) {
    return sys_.render(err);
  }

  static std::string list_ids(const std::vector<member*>& ms) {
    std::string result;
    for (auto m : ms)
      result += (result.empty() ? "" : " and ") + m->id;
    return result;
  }

  caf::actor_system& sys_;
  caf::scoped_actor self_;
  std::vector<member> members_;
  std::vector<ack> acks_;
};

} // namespace

int main(int argc, char** argv) {
  caf::actor_system_config cfg;
  raft::add_message_types(cfg);
  if (auto err = cfg.parse(argc, argv)) {
    std::cerr << "bad arguments: " << cfg.render(err) << std::endl;
    return EXIT_FAILURE;
  }
  if (cfg.cli_helptext_printed)
    return EXIT_SUCCESS;
  watchdog guard{demo_timeout};
  caf::actor_system sys{cfg};
  {
    demo_cluster c{sys};
    step("1. spawn " + std::to_string(num_members)
         + " members in one actor system, add each other, start");
    c.spawn_all();
    c.connect_all();
    c.start_all();

    step("2. wait for a leader");
    auto* leader = &c.await_leader(0);
    c.print_statuses();

    step("3. append through every member (followers forward to the leader)");
    auto& ms = c.members();
    const std::vector<std::string> first = {
      "put color red", "put shape circle", "put size 42",
      "get color",     "put color blue",   "get weight", // apply error
    };
    for (size_t i = 0; i < first.size(); ++i)
      c.append(ms[i % ms.size()], first[i]);
    c.await_applied();
    c.print_statuses();

    step("4. stop the leader " + leader->id);
    raft::member_status old;
    std::string err;
    if (!c.status(*leader, old, err))
      fail("status of " + leader->id + ": " + err);
    c.stop(*leader);
    say("waiting for the other two to elect a leader in a term after "
        + std::to_string(old.term));
    leader = &c.await_leader(old.term);
    c.print_statuses();

    step("5. append more through the survivors");
    std::vector<member*> survivors;
    for (auto& m : ms)
      if (m.running)
        survivors.push_back(&m);
    const std::vector<std::string> second = {
      "put color green", "get shape",
      "put leader " + leader->id, "del size",
      "get color",
    };
    for (size_t i = 0; i < second.size(); ++i)
      c.append(*survivors[i % survivors.size()], second[i]);
    std::vector<std::string> burst;
    for (int i = 0; i < burst_size; ++i)
      burst.push_back("put burst-" + std::to_string(i) + " "
                      + std::to_string(i * i));
    c.append_burst(survivors, burst);
    c.await_applied();
    c.print_statuses();

    step("6. check what every member applied");
    c.print_applied();
    c.verify();

    step("7. stop the survivors");
    c.stop_all();
  }
  std::cout << "\ndemo finished: OK" << std::endl;
  return EXIT_SUCCESS;
}
