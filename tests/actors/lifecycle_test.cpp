// A member's lifecycle and failures as its callers see them (docs/api.md,
// "Lifecycle and failures"): a stopped member answers errc::stopped and
// shows role::stopped; a failing state machine or disk stops the member
// with an error that names it, on the log and to the caller; an oversized
// command is refused before anything is written; and members never keep
// their actor system from exiting.
#define BOOST_TEST_MODULE actors_lifecycle
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scheduler/test_coordinator.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "raft/errc.hpp"
#include "raft/member.hpp"
#include "raft/storage/file_storage.hpp"
#include "raft/storage/memory_storage.hpp"

#include "test_cluster.hpp"

using namespace raft;
using namespace raft::test;
using namespace std::chrono_literals;

namespace {

bool has_code(const caf::error& err, errc code) {
  return err && err.category() == errc_category
         && err.code() == static_cast<uint8_t>(code);
}

std::string text_of(const caf::error& err) {
  auto& ctx = err.context();
  if (ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return {};
}

/// Log lines of the members of a test, kept for checking.
struct captured_log {
  std::mutex mtx;
  std::vector<std::string> lines;

  log_sink sink() {
    log_sink s;
    s.threshold = log_level::warning;
    s.function = [this](log_level level, const std::string&,
                        const std::string& text) {
      std::lock_guard<std::mutex> guard{mtx};
      lines.push_back(std::string{to_string(level)} + ": " + text);
    };
    return s;
  }

  bool has(const std::string& part) {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& l : lines)
      if (l.find(part) != std::string::npos)
        return true;
    return false;
  }
};

/// One member alone on CAF's test scheduler, with the state machine and
/// storage a test gives it. Alone, it wins its own election at once.
struct lone_member {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  member_actor member;
  captured_log log;

  lone_member() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    add_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  }

  config member_config() {
    config c;
    c.host_port = "127.0.0.1:7001";
    c.heartbeat = 10ms;
    c.random_seed = 1;
    c.log = log.sink();
    return c;
  }

  template <class StateMachine>
  void spawn(StateMachine sm, storage_ptr store, config c) {
    auto m = spawn_member(*sys, std::move(c), std::move(sm), std::move(store));
    if (!m)
      BOOST_FAIL(sys->render(m.error()));
    member = *m;
    sched->run();
  }

  /// Sends `xs` to the member and runs until its reply.
  template <class T, class... Ts>
  caf::expected<T> call(Ts... xs) {
    auto slot = std::make_shared<std::optional<caf::expected<T>>>();
    auto dest = caf::actor_cast<caf::actor>(member);
    sys->spawn([=](caf::event_based_actor* self) {
      self->request(dest, caf::infinite, xs...)
        .then([=](T& x) { *slot = std::move(x); },
              [=](caf::error& err) { *slot = std::move(err); });
    });
    sched->run();
    BOOST_REQUIRE_MESSAGE(slot->has_value(), "no reply");
    return std::move(**slot);
  }

  /// Starts and elects the member (alone, it is a majority).
  void lead() {
    BOOST_REQUIRE(call<caf::ok_atom>(start_atom::value).engaged());
    BOOST_REQUIRE(call<caf::ok_atom>(election_atom::value).engaged());
    auto s = call<member_status>(status_atom::value);
    BOOST_REQUIRE(s);
    BOOST_REQUIRE((s->role == role::leader));
  }

  ~lone_member() {
    if (member)
      caf::anon_send_exit(member, caf::exit_reason::kill);
    sched->run();
  }
};

// -- state machines that break the contract ------------------------------------------

/// Answers apply with one result fewer than commands.
state_machine_actor::behavior_type short_machine() {
  return {
    [](apply_atom, const entry_vector& xs) {
      return std::vector<apply_result>(xs.size() - 1);
    },
    [](query_atom, const payload&) { return apply_result{}; },
    [](save_atom, const std::string&) { return caf::ok_atom::value; },
    [](restore_atom, index_t, const std::string&) {
      return caf::ok_atom::value;
    },
  };
}

/// Answers apply with an error.
state_machine_actor::behavior_type failing_machine() {
  return {
    [](apply_atom,
       const entry_vector&) -> caf::result<std::vector<apply_result>> {
      return make_error(errc::invalid_config, "the database is gone");
    },
    [](query_atom, const payload&) { return apply_result{}; },
    [](save_atom, const std::string&) { return caf::ok_atom::value; },
    [](restore_atom, index_t, const std::string&) {
      return caf::ok_atom::value;
    },
  };
}

/// A fresh directory under /tmp, removed at the end.
struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/raft-lifecycle-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

} // namespace

// -- stopped members -----------------------------------------------------------------

// After stop, every request gets errc::stopped (never CAF's
// request_receiver_down), status shows role::stopped, and a second stop is
// fine.
BOOST_AUTO_TEST_CASE(a_stopped_member_answers_stopped) {
  test_cluster c{3, 31};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  auto f = (*l + 1) % 3;
  BOOST_TEST(!c.call_ok(f, caf::make_message(stop_atom::value)));
  BOOST_TEST(!c.alive(f));
  BOOST_TEST(c.exit_reason(f) == "stopped");
  auto r = c.append(f, put_cmd("k", "1"), 1s);
  BOOST_REQUIRE(r->done);
  BOOST_TEST(has_code(r->error, errc::stopped), c.sys->render(r->error));
  for (auto msg : {caf::make_message(start_atom::value),
                   caf::make_message(election_atom::value)}) {
    auto err = c.call_ok(f, msg);
    BOOST_TEST(has_code(err, errc::stopped), c.sys->render(err));
  }
  BOOST_TEST(!c.call_ok(f, caf::make_message(stop_atom::value)));
  // Status still answers, with role::stopped.
  std::optional<member_status> status;
  auto dest = caf::actor_cast<caf::actor>(c.members[f]);
  c.sys->spawn([&, dest](caf::event_based_actor* self) {
    self->request(dest, caf::infinite, status_atom::value)
      .then([&](member_status& s) { status = s; });
  });
  c.run();
  BOOST_REQUIRE(status.has_value());
  BOOST_TEST((status->role == role::stopped));
  BOOST_TEST(status->id == c.ids[f]);
  // The others carry on.
  BOOST_TEST(c.append(*l, put_cmd("k", "2"))->value.has_value());
  BOOST_TEST(c.violation() == "");
}

// A follower whose leader was stopped learns it from the stopped leader's
// answer (errc::stopped: never appended) and waits for the next leader: the
// caller's append succeeds.
BOOST_AUTO_TEST_CASE(appends_forwarded_to_a_stopped_leader_go_to_the_next) {
  test_cluster c{3, 32};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_TEST(!c.call_ok(*l, caf::make_message(stop_atom::value)));
  auto f = (*l + 1) % 3;
  BOOST_REQUIRE(c.state(f).leader == c.ids[*l]); // not noticed yet
  auto r = c.append(f, put_cmd("k", "1"), 5s);
  BOOST_REQUIRE(r->done);
  BOOST_TEST(r->value.has_value(), c.sys->render(r->error));
  BOOST_TEST(c.violation() == "");
}

// -- a failing state machine ------------------------------------------------------------

// A state machine that returns fewer results than commands: the caller gets
// state_machine_failure saying so (not leadership_lost), the member logs it
// and stops (its state machine's state is unknown).
BOOST_AUTO_TEST_CASE(fewer_results_than_commands_name_the_state_machine) {
  lone_member t;
  t.spawn(t.sys->spawn(short_machine), std::make_shared<memory_storage>(),
          t.member_config());
  t.lead();
  auto r = t.call<append_reply>(append_atom::value, put_cmd("k", "1"));
  BOOST_REQUIRE(!r);
  BOOST_TEST(has_code(r.error(), errc::state_machine_failure),
             t.sys->render(r.error()));
  BOOST_TEST(text_of(r.error()).find("0 results for 1 commands")
               != std::string::npos,
             text_of(r.error()));
  BOOST_TEST(outcome_unknown(r.error()));
  BOOST_TEST(t.log.has("error: stopping after a failure"));
  BOOST_TEST(t.log.has("0 results for 1 commands"));
  auto s = t.call<member_status>(status_atom::value);
  BOOST_REQUIRE(s);
  BOOST_TEST((s->role == role::stopped));
  // Later callers learn why.
  auto again = t.call<append_reply>(append_atom::value, put_cmd("k", "2"));
  BOOST_REQUIRE(!again);
  BOOST_TEST(has_code(again.error(), errc::stopped));
  BOOST_TEST(text_of(again.error()).find("results for") != std::string::npos,
             text_of(again.error()));
}

// A state machine that answers apply with an error: the caller gets
// state_machine_failure carrying the state machine's own message.
BOOST_AUTO_TEST_CASE(an_apply_error_names_the_state_machine) {
  lone_member t;
  t.spawn(t.sys->spawn(failing_machine), std::make_shared<memory_storage>(),
          t.member_config());
  t.lead();
  auto r = t.call<append_reply>(append_atom::value, put_cmd("k", "1"));
  BOOST_REQUIRE(!r);
  BOOST_TEST(has_code(r.error(), errc::state_machine_failure),
             t.sys->render(r.error()));
  BOOST_TEST(text_of(r.error()).find("the database is gone")
               != std::string::npos,
             text_of(r.error()));
  BOOST_TEST(t.log.has("the database is gone"));
  auto s = t.call<member_status>(status_atom::value);
  BOOST_REQUIRE(s);
  BOOST_TEST((s->role == role::stopped));
}

// -- a failing disk ----------------------------------------------------------------------

// ENOSPC, EIO and EROFS in the middle of a write: the member logs the file
// and the system error, fail-stops, the caller's append is "outcome
// unknown" (it may commit through others), later callers get errc::stopped
// naming the storage failure.
BOOST_AUTO_TEST_CASE(storage_errors_are_logged_and_stop_the_member) {
  struct fault {
    const char* name;
    std::function<void(faulty_file_io&)> arm;
    const char* text;
  };
  std::vector<fault> faults{
    {"ENOSPC", [](faulty_file_io& io) { io.disk_full_after(0); },
     "No space left on device"},
    {"EIO", [](faulty_file_io& io) { io.fail(faulty_file_io::sync_op, 0, EIO); },
     "Input/output error"},
    {"EROFS",
     [](faulty_file_io& io) { io.fail(faulty_file_io::write_op, 0, EROFS); },
     "Read-only file system"},
  };
  for (auto& x : faults) {
    BOOST_TEST_CONTEXT(x.name) {
      temp_dir dir;
      auto io = std::make_shared<faulty_file_io>();
      file_storage_options opts;
      opts.io = io;
      auto store = std::make_shared<file_storage>(dir.path, opts);
      lone_member t;
      t.spawn(std::shared_ptr<state_machine>{std::make_shared<kv_machine>()},
              store, t.member_config());
      t.lead();
      BOOST_REQUIRE(t.call<append_reply>(append_atom::value, put_cmd("a", "1")).engaged());
      x.arm(*io);
      auto r = t.call<append_reply>(append_atom::value, put_cmd("b", "1"));
      BOOST_REQUIRE(!r);
      BOOST_TEST(outcome_unknown(r.error()), t.sys->render(r.error()));
      BOOST_TEST(t.log.has(std::string{"error: stopping after a failure: "}
                           + "raft: storage_failure"));
      BOOST_TEST(t.log.has(x.text));
      BOOST_TEST(t.log.has(dir.path + "/log-"));
      auto again = t.call<append_reply>(append_atom::value, put_cmd("c", "1"));
      BOOST_REQUIRE(!again);
      BOOST_TEST(has_code(again.error(), errc::stopped));
      BOOST_TEST(text_of(again.error()).find(x.text) != std::string::npos,
                 text_of(again.error()));
      auto s = t.call<member_status>(status_atom::value);
      BOOST_REQUIRE(s);
      BOOST_TEST((s->role == role::stopped));
    }
  }
}

// -- sizes ---------------------------------------------------------------------------------

// A command above max_entry_size is refused with entry_too_large before
// anything reaches the log; one at the limit is accepted.
BOOST_AUTO_TEST_CASE(an_entry_above_max_entry_size_is_refused_first) {
  lone_member t;
  auto store = std::make_shared<memory_storage>();
  auto c = t.member_config();
  c.max_entry_size = 1000;
  t.spawn(std::shared_ptr<state_machine>{std::make_shared<kv_machine>()}, store, c);
  t.lead();
  auto writes = store->writes();
  auto last = t.call<member_status>(status_atom::value)->last_log_index;
  auto r = t.call<append_reply>(append_atom::value,
                                payload{std::string(1001, 'x')});
  BOOST_REQUIRE(!r);
  BOOST_TEST(has_code(r.error(), errc::entry_too_large),
             t.sys->render(r.error()));
  BOOST_TEST(text_of(r.error()).find("1001 bytes") != std::string::npos);
  BOOST_TEST(!outcome_unknown(r.error()));
  BOOST_TEST(store->writes() == writes);
  BOOST_TEST(t.call<member_status>(status_atom::value)->last_log_index == last);
  // At the limit: a put whose command is exactly max_entry_size bytes.
  auto cmd = put_cmd("k", "");
  auto fits = put_cmd("k", std::string(1000 - cmd.size(), 'y'));
  BOOST_REQUIRE(fits.size() == 1000u);
  BOOST_TEST(t.call<append_reply>(append_atom::value, fits).engaged());
}

// The default matches the wire's limit (docs/wire.md, "Limits").
BOOST_AUTO_TEST_CASE(the_default_entry_size_is_four_mib) {
  BOOST_TEST(config{}.max_entry_size == 4u * 1024 * 1024);
}

// -- ending with the actor system --------------------------------------------------------

// Three started members (durable logs, so detached log writers) and one
// stopped one, never stopped by the application: the actor system's
// destructor returns. Before, it waited for the members' timers and the
// writers' threads forever.
BOOST_AUTO_TEST_CASE(members_end_with_their_actor_system) {
  temp_dir dir;
  auto run = [&] {
    caf::actor_system_config cfg;
    cfg.set("logger.verbosity", caf::atom("quiet"));
    add_message_types(cfg);
    caf::actor_system sys{cfg};
    std::vector<member_actor> members;
    std::vector<std::string> ids{"127.0.0.1:7101", "127.0.0.1:7102",
                                 "127.0.0.1:7103", "127.0.0.1:7104"};
    for (auto& id : ids) {
      config c;
      c.host_port = id;
      c.heartbeat = 5ms;
      // Real time on a loaded machine (fsync per batch): the appends below
      // may wait for a leader longer than the derived 400 ms; what is
      // tested is the shutdown.
      c.append_timeout = 20s;
      c.log_dir = dir.path + "/" + id;
      c.log.threshold = log_level::off;
      auto m = spawn_member(
        sys, c, std::shared_ptr<state_machine>{std::make_shared<kv_machine>()});
      if (!m)
        return std::string{"spawn: "} + sys.render(m.error());
      members.push_back(*m);
    }
    caf::scoped_actor self{sys};
    std::string failure;
    for (size_t i = 0; i < 3; ++i)
      for (size_t j = 0; j < 3; ++j)
        if (i != j)
          self->request(members[i], caf::infinite, caf::add_atom::value,
                        ids[j], caf::actor_cast<caf::actor>(members[j]))
            .receive([](caf::ok_atom) {},
                     [&](caf::error& err) { failure = sys.render(err); });
    for (auto& m : members)
      self->request(m, caf::infinite, start_atom::value)
        .receive([](caf::ok_atom) {},
                 [&](caf::error& err) { failure = sys.render(err); });
    // A committed append: the three are running, with a leader.
    self->request(members[0], std::chrono::seconds(20), append_atom::value,
                  put_cmd("k", "1"))
      .receive([](append_reply&) {},
               [&](caf::error& err) { failure = sys.render(err); });
    // The fourth was stopped and is still referenced.
    self->request(members[3], caf::infinite, stop_atom::value)
      .receive([](caf::ok_atom) {},
               [&](caf::error& err) { failure = sys.render(err); });
    return failure;
    // members, self and sys go out of scope here, nothing stopped.
  };
  auto done = std::async(std::launch::async, run);
  if (done.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    // The destructor hangs: report and end, as the thread cannot be joined.
    std::fprintf(stderr, "FAIL: the actor system did not shut down within "
                         "60 s after its members went out of scope\n");
    std::fflush(stderr);
    std::_Exit(1);
  }
  BOOST_TEST(done.get() == "");
}

// Members that were ended with an exit message (so they ran on_exit, which
// destroys an actor's state) and are still referenced when the actor system
// ends: its destructor returns, and the release at system exit does not
// touch their destroyed state. Before, it did: learner-bench, which ends its
// members this way, crashed (rc 139) or hung at exit.
BOOST_AUTO_TEST_CASE(members_ended_by_an_exit_message_end_with_their_system) {
  temp_dir dir;
  auto run = [&] {
    caf::actor_system_config cfg;
    cfg.set("logger.verbosity", caf::atom("quiet"));
    add_message_types(cfg);
    caf::actor_system sys{cfg};
    std::vector<member_actor> members;
    std::vector<std::string> ids{"127.0.0.1:7111", "127.0.0.1:7112",
                                 "127.0.0.1:7113"};
    for (auto& id : ids) {
      config c;
      c.host_port = id;
      c.heartbeat = 5ms;
      // Real time on a loaded machine (fsync per batch): the appends below
      // may wait for a leader longer than the derived 400 ms; what is
      // tested is the shutdown.
      c.append_timeout = 20s;
      c.log_dir = dir.path + "/" + id;
      c.log.threshold = log_level::off;
      auto m = spawn_member(
        sys, c, std::shared_ptr<state_machine>{std::make_shared<kv_machine>()});
      if (!m)
        return std::string{"spawn: "} + sys.render(m.error());
      members.push_back(*m);
    }
    caf::scoped_actor self{sys};
    std::string failure;
    for (size_t i = 0; i < 3; ++i)
      for (size_t j = 0; j < 3; ++j)
        if (i != j)
          self->request(members[i], caf::infinite, caf::add_atom::value,
                        ids[j], caf::actor_cast<caf::actor>(members[j]))
            .receive([](caf::ok_atom) {},
                     [&](caf::error& err) { failure = sys.render(err); });
    for (auto& m : members)
      self->request(m, caf::infinite, start_atom::value)
        .receive([](caf::ok_atom) {},
                 [&](caf::error& err) { failure = sys.render(err); });
    self->request(members[0], std::chrono::seconds(20), append_atom::value,
                  put_cmd("k", "1"))
      .receive([](append_reply&) {},
               [&](caf::error& err) { failure = sys.render(err); });
    // Ended as learner-bench ends them; the handles stay in `members`.
    for (auto& m : members) {
      self->monitor(m);
      self->send_exit(m, caf::exit_reason::user_shutdown);
    }
    for (size_t down = 0; down < members.size(); ++down)
      self->receive([](caf::down_msg&) {});
    return failure;
    // members, self and sys go out of scope here.
  };
  auto done = std::async(std::launch::async, run);
  if (done.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    std::fprintf(stderr, "FAIL: the actor system did not shut down within "
                         "60 s after its members were ended\n");
    std::fflush(stderr);
    std::_Exit(1);
  }
  BOOST_TEST(done.get() == "");
}
