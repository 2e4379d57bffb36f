// The record codec (Boost.Serialization archives of log entries and of the
// metadata record): round trips, and a length field that claims more bytes
// than the record holds is refused before anything is allocated.

#define BOOST_TEST_MODULE record_codec
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "record_codec.hpp"

using namespace raft;
using namespace raft::detail;

namespace {

/// Finds `len` as Boost writes a string length (a little-endian size_t)
/// directly followed by `text`, and overwrites it with `claimed`.
bool forge_length(std::vector<char>& bytes, const std::string& text,
                  uint64_t claimed) {
  uint64_t len = text.size();
  for (size_t i = 0; i + 8 + text.size() <= bytes.size(); ++i) {
    if (std::memcmp(&bytes[i], &len, 8) == 0
        && std::memcmp(&bytes[i + 8], text.data(), text.size()) == 0) {
      std::memcpy(&bytes[i], &claimed, 8);
      return true;
    }
  }
  return false;
}

log_entry command(index_t index, std::string bytes) {
  log_entry e;
  e.term = 3;
  e.index = index;
  e.kind = entry_kind::command;
  e.data = payload{std::move(bytes)};
  return e;
}

} // namespace

BOOST_AUTO_TEST_CASE(entries_round_trip_through_one_archive) {
  entry_encoder enc;
  entry_decoder dec;
  std::string err;
  BOOST_REQUIRE(dec.prime(enc.prototype().data(), enc.prototype().size(), err));
  for (index_t i = 1; i <= 3; ++i) {
    std::vector<char> rec;
    auto in = command(i, std::string(i * 100, static_cast<char>(i)) + '\0');
    enc.encode(in, rec);
    log_entry out;
    BOOST_REQUIRE_MESSAGE(dec.decode(rec.data(), rec.size(), out, err), err);
    BOOST_TEST((out == in));
  }
}

BOOST_AUTO_TEST_CASE(a_record_claiming_a_huge_command_is_refused) {
  entry_encoder enc;
  entry_decoder dec;
  std::string err;
  BOOST_REQUIRE(dec.prime(enc.prototype().data(), enc.prototype().size(), err));
  std::vector<char> rec;
  enc.encode(command(1, "payload"), rec);
  // 1 TiB: resizing first would throw bad_alloc or take the machine's memory.
  BOOST_REQUIRE(forge_length(rec, "payload", uint64_t{1} << 40));
  log_entry out;
  BOOST_TEST(!dec.decode(rec.data(), rec.size(), out, err));
  BOOST_TEST(err.find("longer than the record") != std::string::npos, err);
  // One byte more than is there is refused too; the exact length decodes.
  std::vector<char> rec2;
  enc.encode(command(2, "payload"), rec2);
  auto exact = rec2;
  BOOST_REQUIRE(forge_length(rec2, "payload", 8));
  BOOST_TEST(!dec.decode(rec2.data(), rec2.size(), out, err));
  BOOST_TEST(dec.decode(exact.data(), exact.size(), out, err), err);
}

BOOST_AUTO_TEST_CASE(metadata_round_trips_and_a_huge_vote_is_refused) {
  metadata_record m;
  m.state.current_term = 7;
  m.state.voted_for = "127.0.0.1:7001";
  m.base = snapshot_meta{40, 6};
  m.generation = 2;
  auto bytes = encode_metadata(m);
  metadata_record out;
  std::string err;
  BOOST_REQUIRE_MESSAGE(decode_metadata(bytes.data(), bytes.size(), out, err),
                        err);
  BOOST_TEST((out.state == m.state));
  BOOST_TEST(out.base.last_index == 40u);
  BOOST_TEST(out.generation == 2u);
  BOOST_REQUIRE(forge_length(bytes, "127.0.0.1:7001", uint64_t{1} << 40));
  BOOST_TEST(!decode_metadata(bytes.data(), bytes.size(), out, err));
  BOOST_TEST(err.find("longer than the record") != std::string::npos, err);
}
