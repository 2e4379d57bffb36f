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
