// The key-value state machine alone: command encoding, deterministic apply
// (same commands, same results and state), queries, and snapshots.
#define BOOST_TEST_MODULE kv_state_machine
#include <boost/test/unit_test.hpp>

#include <sstream>

#include "kv_command.hpp"
#include "kv_state_machine.hpp"

BOOST_AUTO_TEST_CASE(commands_round_trip_and_malformed_ones_are_refused) {
  std::string binary("k\0ey\xff", 5);
  auto cmd = kv::decode(kv::cas_cmd(binary, "", "v").bytes());
  BOOST_REQUIRE(cmd.has_value());
  BOOST_TEST((cmd->op == kv::op::cas));
  BOOST_TEST(cmd->args.size() == 3u);
  BOOST_TEST(cmd->args[0] == binary);
  BOOST_TEST(cmd->args[1].empty());
  auto bytes = kv::put_cmd("a", "b").bytes();
  BOOST_TEST(!kv::decode(bytes.substr(0, bytes.size() - 1)).has_value());
  BOOST_TEST(!kv::decode(bytes + "x").has_value());
  BOOST_TEST(!kv::decode("").has_value());
  BOOST_TEST(!kv::decode("X").has_value());
  kv::machine m;
  BOOST_TEST(m.apply(1, raft::payload{"garbage"}).error == kv::bad_command);
}

BOOST_AUTO_TEST_CASE(apply_is_deterministic) {
  std::vector<raft::payload> cmds{
    kv::put_cmd("a", "1"),         kv::put_cmd("b", "2"),
    kv::cas_cmd("a", "1", "3"),    kv::cas_cmd("a", "1", "4"),
    kv::del_cmd("b"),              kv::del_cmd("b"),
    kv::get_cmd("a"),              kv::cas_cmd("zz", "x", "y")};
  std::vector<std::string> expected_errors{
    "", "", "", kv::mismatch, "", kv::not_found, "", kv::not_found};
  kv::machine m1;
  kv::machine m2;
  for (size_t i = 0; i < cmds.size(); ++i) {
    auto r1 = m1.apply(i + 1, cmds[i]);
    auto r2 = m2.apply(i + 1, cmds[i]);
    BOOST_TEST_CONTEXT("command " << i) {
      BOOST_TEST(r1.error == expected_errors[i]);
      BOOST_TEST(r1.result == r2.result);
      BOOST_TEST(r1.error == r2.error);
    }
  }
  BOOST_TEST((m1.contents() == m2.contents()));
  BOOST_TEST(m1.contents().at("a") == "3");
  // cas mismatch reports the current value.
  BOOST_TEST(m1.apply(9, kv::cas_cmd("a", "9", "x")).result == "3");
  // Queries read without changing anything.
  BOOST_TEST(m1.query(kv::get_cmd("a")).result == "3");
  BOOST_TEST(m1.query(kv::get_cmd("b")).error == kv::not_found);
  BOOST_TEST(m1.query(kv::put_cmd("a", "x")).error == kv::bad_command);
  BOOST_TEST(m1.contents().at("a") == "3");
}

BOOST_AUTO_TEST_CASE(snapshots_round_trip_and_damaged_ones_are_refused) {
  kv::machine m;
  m.apply(1, kv::put_cmd("", "empty key"));
  m.apply(2, kv::put_cmd(std::string("\0\n", 2), std::string(70000, 'x')));
  m.apply(3, kv::put_cmd("k", ""));
  std::ostringstream out;
  BOOST_REQUIRE(!m.save_snapshot(out));
  auto snap = out.str();
  kv::machine restored;
  restored.apply(1, kv::put_cmd("stale", "gone after restore"));
  std::istringstream in{snap};
  BOOST_REQUIRE(!restored.restore_snapshot(3, in));
  BOOST_TEST((restored.contents() == m.contents()));
  // Every truncation, and trailing garbage, is refused; the state stays.
  for (size_t n = 0; n < snap.size(); n += (n < 64 ? 1 : 997)) {
    kv::machine x;
    x.apply(1, kv::put_cmd("keep", "me"));
    std::istringstream cut{snap.substr(0, n)};
    BOOST_TEST_CONTEXT("truncated to " << n) {
      BOOST_TEST(static_cast<bool>(x.restore_snapshot(3, cut)));
      BOOST_TEST(x.contents().at("keep") == "me");
    }
  }
  kv::machine y;
  std::istringstream longer{snap + "x"};
  BOOST_TEST(static_cast<bool>(y.restore_snapshot(3, longer)));
}

// Two-phase save (state_machine::begin_snapshot): the writer writes the state
// as it was when the view was taken, whatever was applied since, and the
// same bytes as a one-phase save at that moment.
BOOST_AUTO_TEST_CASE(a_view_is_not_changed_by_later_applies) {
  kv::machine m;
  for (int k = 0; k < 3000; ++k)
    m.apply(k + 1, kv::put_cmd("k" + std::to_string(k), std::to_string(k)));
  std::ostringstream one_phase;
  BOOST_REQUIRE(!m.save_snapshot(one_phase));
  auto before = m.contents();
  auto writer = m.begin_snapshot();
  BOOST_REQUIRE(static_cast<bool>(writer));
  BOOST_REQUIRE(static_cast<bool>(*writer));
  // Change every key, add and delete some, while the view is held.
  for (int k = 0; k < 3000; ++k)
    m.apply(3001 + k, kv::put_cmd("k" + std::to_string(k), "new"));
  m.apply(6001, kv::put_cmd("added", "x"));
  m.apply(6002, kv::del_cmd("k7"));
  m.apply(6003, kv::cas_cmd("k8", "new", "newer"));
  // Each changed shard was copied once, not once per change.
  BOOST_TEST(m.shard_copies() <= kv::machine::shard_count);
  BOOST_TEST(m.shard_copies() > 0u);
  std::ostringstream two_phase;
  BOOST_REQUIRE(!(*writer)(two_phase));
  BOOST_TEST(two_phase.str() == one_phase.str());
  kv::machine restored;
  std::istringstream in{two_phase.str()};
  BOOST_REQUIRE(!restored.restore_snapshot(3000, in));
  BOOST_TEST((restored.contents() == before));
  // The live state has every change.
  auto now = m.contents();
  BOOST_TEST(now.at("k1") == "new");
  BOOST_TEST(now.at("k8") == "newer");
  BOOST_TEST(now.count("k7") == 0u);
  BOOST_TEST(now.at("added") == "x");
  // Without a new view, changes go in place: no more copies.
  auto copies = m.shard_copies();
  m.apply(6004, kv::put_cmd("k1", "again"));
  BOOST_TEST(m.shard_copies() == copies);
}

BOOST_AUTO_TEST_CASE(an_empty_store_writes_an_empty_state) {
  kv::machine m;
  auto writer = m.begin_snapshot();
  BOOST_REQUIRE(static_cast<bool>(writer));
  m.apply(1, kv::put_cmd("later", "x"));
  std::ostringstream out;
  BOOST_REQUIRE(!(*writer)(out));
  kv::machine restored;
  restored.apply(1, kv::put_cmd("stale", "x"));
  std::istringstream in{out.str()};
  BOOST_REQUIRE(!restored.restore_snapshot(0, in));
  BOOST_TEST(restored.contents().empty());
}
