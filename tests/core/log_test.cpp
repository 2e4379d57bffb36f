// raft::log, the in-memory log of §5.3 with the snapshot boundary of §7.
// Every case ends by checking the class invariants (contiguous indexes,
// terms that never decrease).
#define BOOST_TEST_MODULE core_log_test
#include <boost/test/unit_test.hpp>

#include <limits>
#include <optional>
#include <vector>

#include "raft/core/log.hpp"

#include "core_fixtures.hpp"

using namespace raft;
using namespace raft::test;

namespace {

using terms = std::vector<term_t>;

/// The log of the leader in Figure 7 (indexes 1..10).
raft::log figure7_leader() {
  return make_log({1, 1, 1, 4, 4, 5, 5, 6, 6, 6});
}

/// An entry with `size` payload bytes.
log_entry sized_entry(index_t index, term_t term, size_t size) {
  auto e = make_entry(index, term);
  e.data = payload{std::string(size, 'x')};
  return e;
}

std::vector<index_t> indexes_of(const entry_vector& xs) {
  std::vector<index_t> result;
  for (auto& x : xs)
    result.push_back(x.index);
  return result;
}

} // namespace

// §5.3: "the first entry has index 1"; index 0 stands for "before the log"
// and matches term 0, so that the first AppendEntries (prevLogIndex 0)
// passes the consistency check.
BOOST_AUTO_TEST_CASE(an_empty_log_starts_at_index_1) {
  raft::log l;
  BOOST_TEST(l.first_index() == 1u);
  BOOST_TEST(l.last_index() == 0u);
  BOOST_TEST(l.last_term() == 0u);
  BOOST_TEST_REQUIRE(l.term_at(0).has_value());
  BOOST_TEST(*l.term_at(0) == 0u);
  BOOST_TEST(!l.term_at(1));
  BOOST_TEST(l.matches(0, 0));
  BOOST_TEST(!l.matches(0, 1));
  BOOST_TEST(!l.matches(1, 0));
  BOOST_TEST(log_invariant_violation(l) == "");
}

// Figure 2 (log[]): each entry has an index and the term in which the leader
// received it; term_at answers for held entries, the snapshot's last entry
// (§7 "last included term") and nothing else.
BOOST_AUTO_TEST_CASE(term_at_covers_held_entries_and_the_snapshot_boundary) {
  auto l = figure7_leader();
  BOOST_TEST(l.last_index() == 10u);
  BOOST_TEST(l.last_term() == 6u);
  BOOST_TEST(*l.term_at(1) == 1u);
  BOOST_TEST(*l.term_at(4) == 4u);
  BOOST_TEST(*l.term_at(10) == 6u);
  BOOST_TEST(!l.term_at(11));
  auto c = make_log({4, 5}, snapshot_meta{5, 4}); // indexes 6, 7
  BOOST_TEST(c.first_index() == 6u);
  BOOST_TEST(c.last_index() == 7u);
  BOOST_TEST(*c.term_at(0) == 0u);
  BOOST_TEST(!c.term_at(4)); // compacted away
  BOOST_TEST(*c.term_at(5) == 4u); // the snapshot's last included entry
  BOOST_TEST(*c.term_at(6) == 4u);
  BOOST_TEST(*c.term_at(7) == 5u);
  BOOST_TEST(!c.term_at(8));
  BOOST_TEST(log_invariant_violation(c) == "");
}

// §5.3 Log Matching: "If two entries in different logs have the same index
// and term, then they store the same command"; matches() is the check of
// Figure 2 (AppendEntries receiver 2).
BOOST_AUTO_TEST_CASE(matches_checks_index_and_term) {
  auto l = figure7_leader();
  BOOST_TEST(l.matches(5, 4));
  BOOST_TEST(!l.matches(5, 5));
  BOOST_TEST(!l.matches(11, 6));
  auto c = make_log({4}, snapshot_meta{5, 4});
  BOOST_TEST(c.matches(5, 4));
  BOOST_TEST(!c.matches(5, 3));
  BOOST_TEST(!c.matches(3, 1)); // compacted: unknown, so no match
}

// §5.3: the leader sends "one or more" entries per AppendEntries; slice caps
// the batch by count.
BOOST_AUTO_TEST_CASE(slice_stops_at_max_entries) {
  auto l = figure7_leader();
  auto s = l.slice(3, 4, 1 << 20);
  BOOST_TEST(indexes_of(s) == (std::vector<index_t>{3, 4, 5, 6}));
  BOOST_CHECK(s.front() == l.at(3));
  BOOST_TEST(indexes_of(l.slice(9, 4, 1 << 20)) == (std::vector<index_t>{9, 10}));
  BOOST_TEST(indexes_of(l.slice(10, 4, 1 << 20)) == (std::vector<index_t>{10}));
}

// "No limit" written as the largest size_t must not overflow the index
// arithmetic: the whole suffix comes back.
BOOST_AUTO_TEST_CASE(slice_with_unlimited_entries_returns_the_suffix) {
  auto l = figure7_leader();
  auto unlimited = std::numeric_limits<size_t>::max();
  BOOST_TEST(indexes_of(l.slice(1, unlimited, unlimited)).size() == 10u);
  BOOST_TEST(indexes_of(l.slice(2, unlimited, unlimited))
             == (std::vector<index_t>{2, 3, 4, 5, 6, 7, 8, 9, 10}));
  BOOST_TEST(indexes_of(l.slice(10, unlimited, unlimited))
             == (std::vector<index_t>{10}));
}

// slice caps the batch by payload bytes too, but always returns at least one
// entry so that a large command still makes progress.
BOOST_AUTO_TEST_CASE(slice_stops_before_max_bytes_but_returns_one_entry) {
  raft::log l;
  for (index_t i = 1; i <= 5; ++i)
    l.append(sized_entry(i, 1, 10));
  BOOST_TEST(indexes_of(l.slice(1, 100, 25)) == (std::vector<index_t>{1, 2}));
  BOOST_TEST(indexes_of(l.slice(1, 100, 30)) == (std::vector<index_t>{1, 2, 3}));
  BOOST_TEST(indexes_of(l.slice(1, 100, 9)) == (std::vector<index_t>{1}));
  BOOST_TEST(indexes_of(l.slice(4, 100, 1)) == (std::vector<index_t>{4}));
  BOOST_TEST(indexes_of(l.slice(2, 2, 1000)) == (std::vector<index_t>{2, 3}));
}

// slice returns nothing outside [first_index, last_index]: past the end
// there is nothing to send, and compacted entries go by snapshot (§7).
BOOST_AUTO_TEST_CASE(slice_outside_the_log_is_empty) {
  auto l = make_log({1, 2, 2}, snapshot_meta{3, 1}); // indexes 4..6
  BOOST_TEST(l.slice(7, 10, 100).empty());
  BOOST_TEST(l.slice(3, 10, 100).empty());
  BOOST_TEST(l.slice(0, 10, 100).empty());
  BOOST_TEST(indexes_of(l.slice(4, 10, 100)) == (std::vector<index_t>{4, 5, 6}));
}

// §5.3, Figure 2 (AppendEntries receiver 3): "delete the existing entry and
// all that follow it".
BOOST_AUTO_TEST_CASE(truncate_from_removes_the_entry_and_all_after_it) {
  auto l = figure7_leader();
  l.truncate_from(11); // past the end: nothing
  BOOST_TEST(l.last_index() == 10u);
  l.truncate_from(10);
  BOOST_TEST(l.last_index() == 9u);
  l.truncate_from(6);
  BOOST_TEST(terms_of(l) == (terms{1, 1, 1, 4, 4}));
  BOOST_TEST(l.last_term() == 4u);
  // The log grows again from there.
  l.append(make_entry(6, 7));
  BOOST_TEST(terms_of(l) == (terms{1, 1, 1, 4, 4, 7}));
  l.truncate_from(1);
  BOOST_TEST(l.last_index() == 0u);
  BOOST_TEST(log_invariant_violation(l) == "");
}

// §7: snapshotted entries are committed, so truncation never cuts into the
// snapshot; below it, only the entries after it go.
BOOST_AUTO_TEST_CASE(truncate_from_never_cuts_into_the_snapshot) {
  auto l = make_log({2, 3}, snapshot_meta{5, 2});
  l.truncate_from(3);
  BOOST_TEST(l.base().last_index == 5u);
  BOOST_TEST(l.base().last_term == 2u);
  BOOST_TEST(l.last_index() == 5u);
  BOOST_TEST(l.last_term() == 2u);
  BOOST_TEST(log_invariant_violation(l) == "");
}

// §7: "the server ... discards the log up through the last included index";
// later entries stay and keep their indexes.
BOOST_AUTO_TEST_CASE(compact_drops_the_prefix_and_keeps_the_suffix) {
  auto l = figure7_leader();
  l.compact(snapshot_meta{5, 4});
  BOOST_TEST(l.first_index() == 6u);
  BOOST_TEST(l.last_index() == 10u);
  BOOST_TEST(terms_of(l) == (terms{5, 5, 6, 6, 6}));
  BOOST_CHECK(l.at(6) == make_entry(6, 5));
  BOOST_TEST(*l.term_at(5) == 4u);
  BOOST_TEST(log_invariant_violation(l) == "");
  // An older or equal snapshot changes nothing.
  l.compact(snapshot_meta{3, 1});
  l.compact(snapshot_meta{5, 4});
  BOOST_TEST(l.first_index() == 6u);
  BOOST_TEST(terms_of(l) == (terms{5, 5, 6, 6, 6}));
  // Compacting everything leaves an empty log ending at the snapshot.
  l.compact(snapshot_meta{10, 6});
  BOOST_TEST(l.first_index() == 11u);
  BOOST_TEST(l.last_index() == 10u);
  BOOST_TEST(l.last_term() == 6u);
  l.append(make_entry(11, 8));
  BOOST_TEST(l.last_index() == 11u);
  BOOST_TEST(log_invariant_violation(l) == "");
}

// §7 (InstallSnapshot receiver 6-7): "If existing log entry has same index
// and term as snapshot's last included entry, retain log entries following
// it"; otherwise "discard the entire log". A snapshot past our end (a
// follower that was far behind) replaces the log.
BOOST_AUTO_TEST_CASE(compact_past_the_end_or_mismatching_replaces_the_log) {
  auto l = make_log({1, 1, 2});
  l.compact(snapshot_meta{8, 5});
  BOOST_TEST(l.first_index() == 9u);
  BOOST_TEST(l.last_index() == 8u);
  BOOST_TEST(l.last_term() == 5u);
  BOOST_TEST(*l.term_at(8) == 5u);
  BOOST_TEST(!l.term_at(3));
  BOOST_TEST(log_invariant_violation(l) == "");
  auto m = make_log({1, 1, 2, 2, 2});
  m.compact(snapshot_meta{3, 3}); // we hold (3, term 2): a different entry
  BOOST_TEST(m.first_index() == 4u);
  BOOST_TEST(m.last_index() == 3u);
  BOOST_TEST(m.last_term() == 3u);
  BOOST_TEST(log_invariant_violation(m) == "");
}

// §5.3 fast backtracking (follower side): "the first index it stores for
// that term", searched backwards from the conflicting index.
BOOST_AUTO_TEST_CASE(first_index_of_term_finds_where_a_term_begins) {
  auto l = figure7_leader();
  BOOST_TEST(l.first_index_of_term(6, 10) == 8u);
  BOOST_TEST(l.first_index_of_term(6, 9) == 8u);
  BOOST_TEST(l.first_index_of_term(5, 7) == 6u);
  BOOST_TEST(l.first_index_of_term(4, 5) == 4u);
  BOOST_TEST(l.first_index_of_term(1, 3) == 1u);
  BOOST_TEST(l.first_index_of_term(6, 99) == 8u); // hint clamped to the end
  // The term reaches into the snapshot: the first held entry.
  auto c = make_log({4, 4, 5}, snapshot_meta{3, 4}); // indexes 4..6
  BOOST_TEST(c.first_index_of_term(4, 5) == 4u);
  BOOST_TEST(c.first_index_of_term(5, 6) == 6u);
}

// §5.3 fast backtracking (leader side): the leader's last entry of a term is
// found as the last index whose term is at or below it.
BOOST_AUTO_TEST_CASE(last_index_at_or_below_scans_back_by_term) {
  auto l = figure7_leader();
  BOOST_TEST(l.last_index_at_or_below(6) == 10u);
  BOOST_TEST(l.last_index_at_or_below(9) == 10u);
  BOOST_TEST(l.last_index_at_or_below(5) == 7u);
  BOOST_TEST(l.last_index_at_or_below(4) == 5u);
  BOOST_TEST(l.last_index_at_or_below(3) == 3u);
  BOOST_TEST(l.last_index_at_or_below(1) == 3u);
  BOOST_TEST(l.last_index_at_or_below(0) == 0u);
  // Past the entries, the snapshot boundary answers.
  auto c = make_log({4, 4}, snapshot_meta{3, 2}); // indexes 4, 5
  BOOST_TEST(c.last_index_at_or_below(4) == 5u);
  BOOST_TEST(c.last_index_at_or_below(3) == 3u);
  BOOST_TEST(c.last_index_at_or_below(2) == 3u);
  BOOST_TEST(c.last_index_at_or_below(1) == 0u);
  raft::log empty;
  BOOST_TEST(empty.last_index_at_or_below(5) == 0u);
}
