// Log replication on CAF's test scheduler (§5.3): commands appended through
// any member are applied on every member in the same order with the same
// index; failures are clear errors; Figure 3 is checked after every message.
#define BOOST_TEST_MODULE actors_replication
#include <boost/test/unit_test.hpp>

#include <set>

#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

#include "test_cluster.hpp"

using namespace raft;
using namespace raft::test;
using namespace std::chrono_literals;

namespace {

/// Every live member applied the same commands at the same indexes.
void require_identical_apply(test_cluster& c) {
  std::optional<size_t> first;
  for (size_t i = 0; i < c.size(); ++i) {
    if (!c.alive(i))
      continue;
    if (!first) {
      first = i;
      continue;
    }
    BOOST_TEST((c.machines[i]->applied == c.machines[*first]->applied),
               "member " << i << " applied differently from " << *first);
  }
}

} // namespace

// §5.3: "Once a follower learns that a log entry is committed, it applies the
// entry to its local state machine (in log order)."
BOOST_AUTO_TEST_CASE(identical_apply_order_on_all_members) {
  for (size_t n : {3, 5}) {
    for (uint64_t seed = 1; seed <= 5; ++seed) {
      BOOST_TEST_CONTEXT("members " << n << ", seed " << seed) {
        test_cluster c{n, seed};
        c.start_all();
        BOOST_REQUIRE(c.await_leader().has_value());
        std::vector<std::shared_ptr<pending_reply<append_reply>>> replies;
        for (int k = 0; k < 60; ++k)
          replies.push_back(c.append_async(k % n, put_cmd("k" + std::to_string(k % 7),
                                                           std::to_string(k))));
        BOOST_REQUIRE(c.run_until([&] {
          for (auto& r : replies)
            if (!r->done)
              return false;
          return true;
        }));
        std::set<index_t> indexes;
        for (auto& r : replies) {
          BOOST_REQUIRE(r->value.has_value());
          BOOST_TEST(r->value->apply_error == "");
          BOOST_TEST(r->value->result == "ok");
          indexes.insert(r->value->index);
        }
        BOOST_TEST(indexes.size() == replies.size()); // one index each
        BOOST_REQUIRE(c.converge(5s));
        require_identical_apply(c);
        BOOST_TEST(c.machines[0]->applied.size() == replies.size());
        BOOST_TEST(c.violation() == "");
      }
    }
  }
}

// Vanadium's raft interface: Append on a follower is forwarded to the leader, and the
// reply comes once the receiving member has applied the entry itself.
BOOST_AUTO_TEST_CASE(append_on_a_follower_is_forwarded_and_applied_there) {
  test_cluster c{3, 2};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  auto f = (*l + 1) % 3;
  auto applied_at_reply = std::make_shared<index_t>(0);
  auto reply = std::make_shared<std::optional<append_reply>>();
  auto dest = c.members[f];
  auto* cl = &c;
  c.sys->spawn([=](caf::event_based_actor* self) {
    self->request(dest, caf::infinite, append_atom::value, put_cmd("a", "1"))
      .then([=](append_reply& r) {
        *applied_at_reply = cl->state(f).last_applied;
        *reply = r;
      });
  });
  BOOST_REQUIRE(c.run_until([&] { return reply->has_value(); }));
  BOOST_TEST((*reply)->result == "ok");
  BOOST_TEST(*applied_at_reply >= (*reply)->index);
  BOOST_TEST(c.machines[f]->data["a"] == "1");
  // The apply result travels back: a read through a follower.
  auto get = c.append(f, get_cmd("a"));
  BOOST_REQUIRE(get->value.has_value());
  BOOST_TEST(get->value->result == "1");
  // The application's error is kept apart from Raft's.
  auto missing = c.append(f, get_cmd("nope"));
  BOOST_REQUIRE(missing->value.has_value());
  BOOST_TEST(missing->value->apply_error == "not_found");
  BOOST_TEST(!missing->error);
  BOOST_TEST(c.violation() == "");
}

// §5.4.2 / thesis §6.4: the no-op a new leader appends is committed but never
// delivered to the application.
BOOST_AUTO_TEST_CASE(the_leaders_noop_is_not_applied) {
  test_cluster c{3, 4};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE(c.converge(5s));
  BOOST_TEST(c.state(*l).commit_index == 1u);
  BOOST_TEST((c.state(*l).log.at(1).kind == entry_kind::noop));
  BOOST_TEST(c.machines[*l]->applied.empty());
  auto r = c.append(*l, put_cmd("x", "1"));
  BOOST_REQUIRE(r->value.has_value());
  BOOST_TEST(r->value->index == 2u);
  BOOST_REQUIRE(c.converge(5s));
  for (size_t i = 0; i < 3; ++i) {
    BOOST_REQUIRE(c.machines[i]->applied.size() == 1u);
    BOOST_TEST(c.machines[i]->applied[0].first == 2u);
  }
}

// Vanadium's raft interface: Append returns once a quorum has logged it. On the minority side of a
// partition nothing can commit: the append fails with a clear error, and the
// command is never applied anywhere, even after the partition heals.
BOOST_AUTO_TEST_CASE(append_on_a_minority_side_fails_and_is_never_applied) {
  test_cluster c{5, 6};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  auto f = (*l + 1) % 5;
  c.net->partition({c.ids[*l], c.ids[f]}, c.ids);
  auto at_leader = c.append_async(*l, put_cmd("lost", "1"));
  auto at_follower = c.append_async(f, put_cmd("lost", "2"));
  BOOST_REQUIRE(c.run_until([&] { return at_leader->done && at_follower->done; },
                            20s));
  BOOST_TEST(!at_leader->value.has_value());
  BOOST_TEST(!at_follower->value.has_value());
  BOOST_TEST(c.sys->render(at_leader->error) != "");
  // The leader noticed it lost its majority (check quorum), so the outcome
  // is reported as unknown, never as success.
  auto unknown_or_no_leader
    = outcome_unknown(at_leader->error)
      || at_leader->error.code() == static_cast<uint8_t>(errc::no_leader);
  BOOST_TEST(unknown_or_no_leader);
  // The majority side elects a leader and keeps serving.
  auto majority_member = (*l + 2) % 5;
  auto ok = c.append(majority_member, put_cmd("kept", "1"), 10s);
  BOOST_REQUIRE(ok->value.has_value());
  c.net->heal();
  BOOST_REQUIRE(c.converge(10s));
  for (size_t i = 0; i < 5; ++i) {
    for (auto& [index, cmd] : c.machines[i]->applied)
      BOOST_TEST(cmd.find("lost") == std::string::npos,
                 "member " << i << " applied " << cmd << " at " << index);
    BOOST_TEST(c.machines[i]->data.count("lost") == 0u);
    BOOST_TEST(c.machines[i]->data["kept"] == "1");
  }
  require_identical_apply(c);
  BOOST_TEST(c.violation() == "");
}

// No leader within the append timeout: the error says so.
BOOST_AUTO_TEST_CASE(append_without_a_leader_fails_with_no_leader) {
  test_cluster c{3, 8, [](size_t, config& cfg) {
    cfg.append_timeout = std::chrono::milliseconds(500);
  }};
  c.start_all();
  BOOST_REQUIRE(c.await_leader().has_value());
  auto l = *c.leader();
  c.crash((l + 1) % 3);
  c.crash((l + 2) % 3);
  c.advance(1s); // the leader steps down: no quorum
  auto r = c.append(l, put_cmd("x", "1"), 2s);
  BOOST_REQUIRE(r->done);
  BOOST_TEST(r->error.code() == static_cast<uint8_t>(errc::no_leader));
}

// §5.2/§5.3: a leader crash loses no acknowledged command; the new leader
// carries on, and a restarted member catches up by replaying its log.
BOOST_AUTO_TEST_CASE(leader_crash_loses_no_acknowledged_command) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    BOOST_TEST_CONTEXT("seed " << seed) {
      test_cluster c{3, seed};
      c.start_all();
      auto l = c.await_leader();
      BOOST_REQUIRE(l.has_value());
      std::vector<std::string> acknowledged;
      for (int k = 0; k < 20; ++k) {
        auto r = c.append(k % 3, put_cmd("a" + std::to_string(k), "v"));
        BOOST_REQUIRE(r->value.has_value());
        acknowledged.push_back("a" + std::to_string(k));
      }
      // Some in flight while the leader dies.
      std::vector<std::shared_ptr<pending_reply<append_reply>>> racing;
      for (int k = 0; k < 10; ++k)
        racing.push_back(c.append_async((*l + 1) % 3,
                                        put_cmd("b" + std::to_string(k), "v")));
      c.crash(*l);
      auto nl = c.await_leader(5s);
      BOOST_REQUIRE(nl.has_value());
      BOOST_TEST(*nl != *l);
      BOOST_REQUIRE(c.run_until([&] {
        for (auto& r : racing)
          if (!r->done)
            return false;
        return true;
      }, 30s));
      for (size_t k = 0; k < racing.size(); ++k)
        if (racing[k]->value)
          acknowledged.push_back("b" + std::to_string(k));
      for (int k = 0; k < 10; ++k) {
        auto r = c.append(*nl, put_cmd("c" + std::to_string(k), "v"));
        BOOST_REQUIRE(r->value.has_value());
        acknowledged.push_back("c" + std::to_string(k));
      }
      c.restart(*l);
      BOOST_REQUIRE(c.converge(10s));
      for (size_t i = 0; i < 3; ++i)
        for (auto& key : acknowledged)
          BOOST_TEST(c.machines[i]->data.count(key) == 1u,
                     "member " << i << " lacks acknowledged " << key);
      require_identical_apply(c);
      BOOST_TEST(c.violation() == "");
    }
  }
}

// Batching: proposals arriving together travel in one message per follower
// and one storage write; never one per entry.
BOOST_AUTO_TEST_CASE(proposals_arriving_together_are_batched) {
  test_cluster c{3, 9};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE(c.converge(5s));
  auto writes_before = c.storages[*l]->writes();
  auto delivered_before = c.net->delivered;
  auto counted_before = c.state(*l).counters;
  std::vector<std::shared_ptr<pending_reply<append_reply>>> replies;
  for (int k = 0; k < 200; ++k)
    replies.push_back(c.append_async(*l, put_cmd("k", std::to_string(k))));
  BOOST_REQUIRE(c.run_until([&] {
    for (auto& r : replies)
      if (!r->done)
        return false;
    return true;
  }));
  for (auto& r : replies)
    BOOST_REQUIRE(r->value.has_value());
  auto writes = c.storages[*l]->writes() - writes_before;
  auto messages = c.net->delivered - delivered_before;
  BOOST_TEST_MESSAGE("200 appends: " << writes << " leader writes, " << messages
                                     << " member messages");
  BOOST_TEST(writes <= 4u);
  BOOST_TEST(messages <= 16u);
  // The counters the member reports (member_status::counters, raft-bench's
  // entries_per_fsync and messages_per_entry) say the same.
  auto counted = c.state(*l).counters;
  BOOST_TEST(counted.log_writes - counted_before.log_writes == writes);
  BOOST_TEST(counted.entries_written - counted_before.entries_written == 200u);
  BOOST_TEST(counted.entries_sent - counted_before.entries_sent == 400u);
  BOOST_TEST(counted.messages_sent - counted_before.messages_sent <= 8u);
}

// Pipelining (thesis §10.2.2): several appends in flight to one follower.
BOOST_AUTO_TEST_CASE(replication_is_pipelined) {
  test_cluster c{3, 10, [](size_t, config& cfg) {
    cfg.max_entries_per_message = 4;
    cfg.max_in_flight = 8;
  }};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE(c.converge(5s));
  std::vector<std::shared_ptr<pending_reply<append_reply>>> replies;
  for (int k = 0; k < 64; ++k)
    replies.push_back(c.append_async(*l, put_cmd("k", std::to_string(k))));
  size_t most_in_flight = 0;
  while (c.sched->try_run_once()) {
    if (c.alive(*l) && c.state(*l).role == role::leader)
      for (auto& kvp : c.state(*l).leading().followers)
        most_in_flight = std::max(most_in_flight, kvp.second.in_flight());
  }
  BOOST_TEST(most_in_flight > 1u);
  BOOST_TEST(most_in_flight <= 8u);
  BOOST_REQUIRE(c.converge(5s));
  require_identical_apply(c);
}

// A failing disk stops that member with a clear error (fail-stop); the
// others carry on and nothing acknowledged is lost.
BOOST_AUTO_TEST_CASE(storage_failure_stops_the_member_and_others_carry_on) {
  test_cluster c{3, 12};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  auto r1 = c.append(*l, put_cmd("before", "1"));
  BOOST_REQUIRE(r1->value.has_value());
  c.storages[*l]->fail_writes(true);
  auto r2 = c.append(*l, put_cmd("during", "1"), 2s);
  BOOST_REQUIRE(r2->done);
  BOOST_TEST(!r2->value.has_value());
  BOOST_TEST(!c.alive(*l));
  auto nl = c.await_leader(5s);
  BOOST_REQUIRE(nl.has_value());
  auto r3 = c.append(*nl, put_cmd("after", "1"));
  BOOST_REQUIRE(r3->value.has_value());
  BOOST_REQUIRE(c.converge(5s));
  for (size_t i = 0; i < 3; ++i)
    if (c.alive(i)) {
      BOOST_TEST(c.machines[i]->data["before"] == "1");
      BOOST_TEST(c.machines[i]->data["after"] == "1");
    }
  BOOST_TEST(c.violation() == "");
}

// Requests before start or a second start are refused with clear errors.
BOOST_AUTO_TEST_CASE(requests_before_start_and_after_stop_fail_clearly) {
  test_cluster c{3, 14};
  auto r = c.append(0, put_cmd("x", "1"), 100ms);
  BOOST_REQUIRE(r->done);
  BOOST_TEST(r->error.code() == static_cast<uint8_t>(errc::not_started));
  c.start_all();
  auto again = c.call_ok(0, caf::make_message(start_atom::value));
  BOOST_TEST(again.code() == static_cast<uint8_t>(errc::already_started));
}

// Bad input loses nothing: malformed or foreign AppendEntries are refused
// with a log line and change neither the log nor the term.
BOOST_AUTO_TEST_CASE(malformed_and_foreign_messages_are_refused) {
  test_cluster c{3, 15};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE(c.append(*l, put_cmd("a", "1"))->value.has_value());
  c.run();
  auto f = (*l + 1) % 3;
  auto before = c.state(f).log.last_index();
  auto term = c.state(f).persistent.current_term;
  auto send = [&](append_entries_request req) {
    caf::anon_send(caf::actor_cast<caf::actor>(c.members[f]), std::move(req));
    c.run();
  };
  append_entries_request gap;
  gap.term = term;
  gap.leader_id = c.ids[*l];
  gap.prev_log_index = before;
  gap.prev_log_term = c.state(f).log.last_term();
  gap.entries.push_back(log_entry{term, before + 5, entry_kind::command,
                                  put_cmd("evil", "1")});
  send(gap);
  auto backwards = gap;
  backwards.entries = {log_entry{term, before + 1, entry_kind::command, {}},
                       log_entry{term - 1, before + 2, entry_kind::command, {}}};
  send(backwards);
  auto future = gap;
  future.entries = {log_entry{term + 7, before + 1, entry_kind::command, {}}};
  send(future);
  auto stranger = gap;
  stranger.leader_id = "10.9.9.9:1";
  stranger.term = term + 100;
  stranger.entries.clear();
  send(stranger);
  BOOST_TEST(c.state(f).log.last_index() == before);
  BOOST_TEST(c.state(f).persistent.current_term == term);
  BOOST_TEST(c.alive(f));
  BOOST_TEST(c.append(f, put_cmd("b", "2"))->value.has_value());
  BOOST_TEST(c.violation() == "");
}

// Every refusal leaves one line in the configured log sink (raft::config's
// `log`), at warning level; a threshold above it silences the member.
BOOST_AUTO_TEST_CASE(refusals_go_to_the_configured_log_sink) {
  auto lines = std::make_shared<std::vector<std::string>>();
  test_cluster c{3, 16, [lines](size_t i, config& cfg) {
    cfg.log.threshold = i == 2 ? log_level::off : log_level::warning;
    cfg.log.function = [lines](log_level level, const std::string& who,
                               const std::string& text) {
      lines->push_back(who + " " + to_string(level) + " " + text);
    };
  }};
  c.start_all();
  BOOST_REQUIRE(c.await_leader().has_value());
  lines->clear();
  append_entries_request stranger;
  stranger.term = 1000;
  stranger.leader_id = "10.9.9.9:1";
  for (size_t i = 0; i < 3; ++i)
    caf::anon_send(caf::actor_cast<caf::actor>(c.members[i]), stranger);
  c.run();
  BOOST_REQUIRE_EQUAL(lines->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    BOOST_TEST(lines->at(i).find(c.ids[i] + " warning refused: ")
               == 0u, lines->at(i));
    BOOST_TEST(lines->at(i).find("unknown member 10.9.9.9:1")
               != std::string::npos, lines->at(i));
  }
}

// Figure 2, receiver 1 comes first: a deposed leader's AppendEntries,
// delayed until entries of a later term were committed, disagrees with them
// but is only stale. It is answered with our term (no refusal, no log line)
// and changes nothing.
BOOST_AUTO_TEST_CASE(a_stale_append_is_answered_not_refused) {
  auto lines = std::make_shared<std::vector<std::string>>();
  test_cluster c{3, 17, [lines](size_t, config& cfg) {
    cfg.log.function = [lines](log_level level, const std::string& who,
                               const std::string& text) {
      if (level >= log_level::warning)
        lines->push_back(who + " " + text);
    };
  }};
  c.start_all();
  auto old = c.await_leader();
  BOOST_REQUIRE(old.has_value());
  auto old_term = c.state(*old).persistent.current_term;
  c.crash(*old);
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE(c.append(*l, put_cmd("a", "1"))->value.has_value());
  c.run();
  auto f = 3 - *old - *l; // the third member
  auto& st = c.state(f);
  auto commit = st.commit_index;
  auto term = st.persistent.current_term;
  BOOST_REQUIRE(term > old_term);
  BOOST_REQUIRE(st.log.at(commit).term == term);
  auto last = st.log.last_index();
  // What the old leader would have sent: after the last entry of its
  // term or earlier, one more entry of its term where the new leader's
  // committed entries are now.
  index_t prev = commit;
  while (prev > 0 && st.log.at(prev).term > old_term)
    --prev;
  append_entries_request stale;
  stale.term = old_term;
  stale.leader_id = c.ids[*old];
  stale.prev_log_index = prev;
  stale.prev_log_term = prev == 0 ? 0 : st.log.at(prev).term;
  stale.leader_commit = prev;
  stale.entries.push_back(log_entry{old_term, prev + 1, entry_kind::command,
                                    put_cmd("old", "1")});
  lines->clear();
  auto refused_before = st.metrics.totals.refused;
  caf::anon_send(caf::actor_cast<caf::actor>(c.members[f]), stale);
  c.run();
  BOOST_TEST(lines->empty(), (lines->empty() ? "" : lines->front()));
  BOOST_TEST((c.state(f).metrics.totals.refused == refused_before));
  BOOST_TEST(c.state(f).log.last_index() == last);
  BOOST_TEST(c.state(f).log.at(commit).term == term);
  BOOST_TEST(c.state(f).persistent.current_term == term);
  BOOST_TEST(c.violation() == "");
}

// Thesis §3.5 (committed means committed): an AppendEntries that names the
// known leader but would replace an entry at or below the follower's commit
// index is refused and logged; the follower keeps its log, its commit index
// and its term, and later entries still commit and read back.
BOOST_AUTO_TEST_CASE(a_forged_append_never_replaces_committed_entries) {
  auto lines = std::make_shared<std::vector<std::string>>();
  test_cluster c{3, 17, [lines](size_t, config& cfg) {
    cfg.log.function = [lines](log_level, const std::string& who,
                               const std::string& text) {
      lines->push_back(who + " " + text);
    };
  }};
  c.start_all();
  auto l = c.await_leader();
  BOOST_REQUIRE(l.has_value());
  BOOST_REQUIRE(c.append(*l, put_cmd("a", "1"))->value.has_value());
  BOOST_REQUIRE(c.append(*l, put_cmd("b", "1"))->value.has_value());
  c.run();
  auto f = (*l + 1) % 3;
  auto& st = c.state(f);
  auto commit = st.commit_index;
  BOOST_REQUIRE(commit >= 2u);
  auto last = st.log.last_index();
  auto term = st.persistent.current_term;
  auto committed_term = st.log.at(commit).term;
  // From the known leader's id, one term later (which a correct leader of
  // that term could send), replacing the committed entry at `commit`.
  append_entries_request forged;
  forged.term = term + 1;
  forged.leader_id = c.ids[*l];
  forged.prev_log_index = commit - 1;
  forged.prev_log_term = st.log.at(commit - 1).term;
  forged.leader_commit = commit;
  forged.entries.push_back(log_entry{term + 1, commit, entry_kind::command,
                                     put_cmd("evil", "1")});
  lines->clear();
  caf::anon_send(caf::actor_cast<caf::actor>(c.members[f]), forged);
  c.run();
  BOOST_TEST(c.state(f).log.last_index() == last);
  BOOST_TEST(c.state(f).log.at(commit).term == committed_term);
  BOOST_TEST(c.state(f).commit_index == commit);
  BOOST_TEST(c.state(f).persistent.current_term == term);
  BOOST_REQUIRE_EQUAL(lines->size(), 1u);
  BOOST_TEST(lines->at(0).find("replaces committed entry "
                               + std::to_string(commit))
               != std::string::npos, lines->at(0));
  auto later = c.append(f, put_cmd("c", "2"));
  BOOST_REQUIRE(later->value.has_value());
  c.run();
  auto& applied = c.machines[f]->applied;
  BOOST_REQUIRE(!applied.empty());
  BOOST_TEST(applied.back().first == later->value->index);
  BOOST_TEST(c.violation() == "");
}
