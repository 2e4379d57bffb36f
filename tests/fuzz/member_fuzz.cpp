// Fuzz target: hostile peer messages to live members. A 3-member cluster on
// CAF's test scheduler (tests/support/test_cluster) elects a leader and
// commits two commands; then the input is a list of messages, each
// `| u8 member | u8 type | u16 length | CAF binary encoding |`, decoded as
// they would arrive from the network and delivered to that member.
// Types: 0 append_entries_request, 1 request_vote_request,
// 2 append_entries_response, 3 request_vote_response,
// 4 install_snapshot_request, 5 install_snapshot_response, 6 a whole
// type-erased caf::message.
//
// A forged leader may legitimately change a follower's uncommitted log, so
// Figure 3 across the cluster is not the oracle here. Each member must stay
// alive and keep its own invariants: log indexes contiguous, terms never
// decreasing and never above its current term, commit and apply indexes in
// range, and, once its writes are done, its durable log and hard state equal
// to the ones in memory (its log is never corrupted).
#include <string>

#include "caf/binary_deserializer.hpp"
#include "caf/message.hpp"
#include "caf/send.hpp"

#include "raft/messages.hpp"

#include "test_cluster.hpp"

#include "fuzz_common.hpp"

using namespace raft;
using namespace raft::test;
using namespace std::chrono_literals;
using raft::fuzz::check;

namespace {

template <class T>
bool decode(caf::actor_system& sys, const std::string& bytes,
            caf::message& out) {
  T x;
  caf::binary_deserializer source{sys, bytes.data(), bytes.size()};
  if (source(x))
    return false;
  out = caf::make_message(std::move(x));
  return true;
}

bool decode_any(caf::actor_system& sys, uint8_t type,
                const std::string& bytes, caf::message& out) {
  switch (type % 7) {
    case 0:
      return decode<append_entries_request>(sys, bytes, out);
    case 1:
      return decode<request_vote_request>(sys, bytes, out);
    case 2:
      return decode<append_entries_response>(sys, bytes, out);
    case 3:
      return decode<request_vote_response>(sys, bytes, out);
    case 4:
      return decode<install_snapshot_request>(sys, bytes, out);
    case 5:
      return decode<install_snapshot_response>(sys, bytes, out);
    default: {
      caf::binary_deserializer source{sys, bytes.data(), bytes.size()};
      return !source(out);
    }
  }
}

void check_member(test_cluster& c, size_t i) {
  auto who = "member " + std::to_string(i + 1) + ": ";
  check(c.alive(i), who + "alive (" + c.exit_reason(i) + ")");
  auto& st = c.state(i);
  auto& log = st.log;
  term_t prev_term = log.base().last_term;
  for (auto k = log.first_index(); k <= log.last_index(); ++k) {
    auto& e = log.at(k);
    check(e.index == k, who + "log indexes are contiguous");
    check(e.term >= prev_term, who + "log terms never decrease");
    check(e.term <= st.persistent.current_term,
          who + "no entry has a term above the current term");
    prev_term = e.term;
  }
  check(st.commit_index <= log.last_index(), who + "commit within the log");
  check(st.last_applied <= st.commit_index, who + "applied within commit");
  check(st.commit_index >= log.base().last_index,
        who + "commit covers the snapshot");
  if (st.writes.writing() || st.writes.has_pending())
    return;
  // Nothing in flight to the disk: disk and memory agree.
  auto disk = c.storages[i]->contents();
  check(disk.state == st.persistent, who + "durable hard state equals memory");
  entry_vector mine;
  for (auto k = std::max(log.first_index(), disk.snapshot.last_index + 1);
       k <= log.last_index(); ++k)
    mine.push_back(log.at(k));
  entry_vector theirs;
  for (auto& e : disk.entries)
    if (e.index >= log.first_index())
      theirs.push_back(e);
  check(mine == theirs, who + "durable log equals the log in memory");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  test_cluster c{3, 1};
  c.start_all();
  auto l = c.await_leader(2s);
  check(l.has_value(), "setup: a leader");
  c.append(*l, put_cmd("a", "1"), 1s);
  c.append(*l, put_cmd("b", "2"), 1s);
  raft::fuzz::reader in{data, size};
  for (int k = 0; k < 16 && in.left() >= 4; ++k) {
    auto target = in.u8() % 3;
    auto type = in.u8();
    auto bytes = in.bytes(in.u16());
    caf::message msg;
    if (!decode_any(*c.sys, type, bytes, msg))
      continue;
    if (c.alive(target))
      caf::anon_send(caf::actor_cast<caf::actor>(c.members[target]),
                     std::move(msg));
    c.run();
    c.advance(2ms);
  }
  c.advance(100ms);
  for (size_t i = 0; i < c.size(); ++i)
    check_member(c, i);
  return 0;
}
