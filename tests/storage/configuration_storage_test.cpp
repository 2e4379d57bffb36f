#define BOOST_TEST_MODULE configuration_storage
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <ostream>
#include <optional>

#include "raft/storage/crc32c.hpp"
#include "raft/storage/file_storage.hpp"
#include "raft/storage/memory_storage.hpp"
#include "raft/storage/snapshot_store.hpp"

#include "byte_order.hpp"
#include "crash_file_io.hpp"
#include "disk_format.hpp"
#include "record_codec.hpp"
#include "storage_test_util.hpp"

// The cluster configuration on disk (issue 12, docs/storage.md): in a
// snapshot's sidecar (format version 2), as the bootstrap configuration in the
// metadata file (format version 2), and as log entries of kind 2. Older files
// (version 1) still load, with an empty configuration.

using namespace raft;
using namespace raft::test;

namespace raft {

// For Boost.Test's messages.
std::ostream& operator<<(std::ostream& os, const cluster_configuration& x) {
  return os << to_string(x);
}

} // namespace raft

namespace {

cluster_configuration three() {
  cluster_configuration c;
  c.voters = {"a:1", "b:2", "c:3"};
  return c;
}

cluster_configuration joint_with_learner() {
  cluster_configuration c;
  c.voters = {"a:1", "b:2", "d:4"};
  c.learners = {"e:5"};
  c.old_voters = {"a:1", "b:2", "c:3"};
  return c;
}

const snapshot_meta meta{99, 4};

std::string sidecar_name() {
  return "snapshot-00000000000000000099-00000000000000000004.meta";
}

snapshot_info save(snapshot_store& store, snapshot_meta m,
                   const std::string& bytes,
                   const cluster_configuration& conf) {
  auto path = store.begin(m);
  BOOST_REQUIRE_MESSAGE(path, why(path));
  write_bytes(*path, std::vector<char>(bytes.begin(), bytes.end()));
  auto info = store.commit(m, conf);
  BOOST_REQUIRE_MESSAGE(info, why(info));
  return *info;
}

/// A version-1 sidecar, as builds before issue 12 wrote it.
std::vector<char> v1_sidecar(snapshot_meta m, const std::string& data) {
  std::vector<char> buf(48);
  auto p = buf.data();
  std::memcpy(p, "CAFRSNAP", 8);
  detail::put_le32(p + 8, 1);
  detail::put_le32(p + 12, 0);
  detail::put_le64(p + 16, m.last_index);
  detail::put_le64(p + 24, m.last_term);
  detail::put_le64(p + 32, data.size());
  detail::put_le32(p + 40, crc32c(data.data(), data.size()));
  detail::put_le32(p + 44, crc32c(p, 44));
  return buf;
}

/// Replaces the trailing checksum of a version-2 sidecar or metadata file.
void reseal(std::vector<char>& file) {
  auto body = file.size() - 4;
  detail::put_le32(file.data() + body, crc32c(file.data(), body));
}

file_storage_options small_segments() {
  file_storage_options o;
  o.segment_bytes = 300;
  return o;
}

write_batch bootstrap_batch(cluster_configuration conf) {
  write_batch b;
  b.bootstrap = std::move(conf);
  return b;
}

log_entry configuration_entry(index_t index, term_t term,
                              const cluster_configuration& conf) {
  return log_entry{term, index, entry_kind::configuration,
                   encode_configuration(conf)};
}

} // namespace

// -- snapshot sidecars ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(sidecar_v2_round_trip) {
  temp_dir tmp;
  snapshot_store store{tmp.path()};
  auto info = save(store, meta, "state", joint_with_learner());
  BOOST_TEST(info.configuration == joint_with_learner());
  auto n = store.newest();
  BOOST_REQUIRE_MESSAGE(n, why(n));
  BOOST_TEST(n->configuration == joint_with_learner());
  BOOST_TEST(n->size == 5u);
  auto side = read_bytes(tmp.file(sidecar_name()));
  BOOST_TEST(detail::get_le32(side.data() + 8) == 2u);
  auto conf_bytes = encode_configuration(joint_with_learner()).bytes();
  BOOST_TEST(side.size() == 52u + conf_bytes.size());
  BOOST_TEST(detail::get_le32(side.data() + 44) == conf_bytes.size());
  // An empty configuration takes no bytes; the old overload stores one too.
  auto older = save(store, {120, 5}, "later", {});
  BOOST_TEST(older.configuration.empty());
  n = store.newest();
  BOOST_REQUIRE(n);
  BOOST_TEST(n->meta.last_index == 120u);
  BOOST_TEST(n->configuration.empty());
  auto plain = store.begin({130, 5});
  BOOST_REQUIRE(plain);
  BOOST_REQUIRE(store.commit({130, 5}));
  n = store.newest();
  BOOST_REQUIRE(n);
  BOOST_TEST(n->configuration.empty());
  BOOST_TEST(read_bytes(n->path).empty());
}

BOOST_AUTO_TEST_CASE(a_received_snapshot_keeps_the_leaders_configuration) {
  temp_dir tmp;
  snapshot_store store{tmp.path()};
  std::string bytes = "the leader's state";
  BOOST_REQUIRE(!store.begin_receive(meta));
  BOOST_REQUIRE(!store.write_chunk(0, bytes));
  auto info = store.finish_receive(bytes.size(),
                                   crc32c(bytes.data(), bytes.size()), three());
  BOOST_REQUIRE_MESSAGE(info, why(info));
  BOOST_TEST(info->configuration == three());
  auto n = store.newest();
  BOOST_REQUIRE(n);
  BOOST_TEST(n->configuration == three());
  // An invalid configuration (a learner that votes) is never stored.
  auto bad = three();
  bad.learners = {"a:1"};
  BOOST_REQUIRE(!store.begin_receive({120, 5}));
  BOOST_REQUIRE(!store.write_chunk(0, bytes));
  auto refused = store.finish_receive(
    bytes.size(), crc32c(bytes.data(), bytes.size()), bad);
  BOOST_REQUIRE(!refused);
  BOOST_TEST(has_code(refused.error(), errc::invalid_config));
  BOOST_TEST(store.list().size() == 1u);
  BOOST_TEST(!store.commit({130, 5}, bad));
}

BOOST_AUTO_TEST_CASE(a_v1_sidecar_still_loads_with_an_empty_configuration) {
  temp_dir tmp;
  snapshot_store store{tmp.path()};
  std::string data = "written by an older version";
  save(store, meta, data, three());
  write_bytes(tmp.file(sidecar_name()), v1_sidecar(meta, data));
  auto n = store.newest();
  BOOST_REQUIRE_MESSAGE(n, why(n));
  BOOST_TEST(n->configuration.empty());
  BOOST_TEST(n->size == data.size());
  BOOST_TEST(n->meta.last_index == meta.last_index);
}

BOOST_AUTO_TEST_CASE(damaged_configuration_bytes_are_corrupt_record_naming_the_file) {
  temp_dir tmp;
  snapshot_store store{tmp.path()};
  save(store, meta, "state", joint_with_learner());
  auto path = tmp.file(sidecar_name());
  auto clean = read_bytes(path);
  // Every bit of the sidecar, the configuration's included.
  for (size_t byte = 0; byte < clean.size(); ++byte)
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = clean;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      write_bytes(path, bad);
      auto n = store.newest();
      BOOST_REQUIRE_MESSAGE(!n, "byte " << byte << " bit " << bit);
      BOOST_REQUIRE(has_code(n.error(), errc::corrupt_record));
      BOOST_REQUIRE(context(n.error()).find(path) != std::string::npos);
      auto off = reported_offset(n.error());
      BOOST_REQUIRE(off >= 0 && off <= static_cast<int64_t>(clean.size()));
    }
  // Bytes that pass the checksum but are no configuration: a member count
  // beyond the bytes, and a learner that also votes.
  auto bad = clean;
  detail::put_le32(bad.data() + 48, 0xFFFFFFFFu);
  reseal(bad);
  write_bytes(path, bad);
  auto n = store.newest();
  BOOST_REQUIRE(!n);
  BOOST_TEST(has_code(n.error(), errc::corrupt_record));
  BOOST_TEST(context(n.error()).find(path) != std::string::npos);
  BOOST_TEST(context(n.error()).find("bad configuration") != std::string::npos);
  BOOST_TEST(reported_offset(n.error()) == 48);
  auto invalid = joint_with_learner();
  invalid.learners = {"a:1"};
  auto conf = encode_configuration(invalid).bytes();
  bad.assign(clean.begin(), clean.begin() + 44);
  bad.resize(48 + conf.size() + 4);
  detail::put_le32(bad.data() + 44, static_cast<uint32_t>(conf.size()));
  std::memcpy(bad.data() + 48, conf.data(), conf.size());
  reseal(bad);
  write_bytes(path, bad);
  n = store.newest();
  BOOST_REQUIRE(!n);
  BOOST_TEST(has_code(n.error(), errc::corrupt_record));
  BOOST_TEST(context(n.error()).find(path) != std::string::npos);
  write_bytes(path, clean);
  BOOST_TEST(static_cast<bool>(store.newest()));
}

BOOST_AUTO_TEST_CASE(a_truncated_sidecar_is_corrupt_record) {
  temp_dir tmp;
  snapshot_store store{tmp.path()};
  save(store, meta, "state", three());
  auto path = tmp.file(sidecar_name());
  auto clean = read_bytes(path);
  for (size_t len = 0; len < clean.size(); ++len) {
    write_bytes(path, std::vector<char>(clean.begin(), clean.begin() + len));
    auto n = store.newest();
    BOOST_REQUIRE_MESSAGE(!n, "cut at " << len);
    BOOST_REQUIRE(has_code(n.error(), errc::corrupt_record));
    BOOST_REQUIRE(context(n.error()).find(path) != std::string::npos);
  }
  // A configuration length that claims more than the bound.
  auto bad = clean;
  detail::put_le32(bad.data() + 44, max_sidecar_configuration + 1);
  write_bytes(path, bad);
  auto n = store.newest();
  BOOST_REQUIRE(!n);
  BOOST_TEST(reported_offset(n.error()) == 44);
}

// -- the bootstrap configuration in the metadata file -------------------------

BOOST_AUTO_TEST_CASE(metadata_v2_round_trip_with_bootstrap) {
  temp_dir tmp;
  auto dir = tmp.file("log");
  {
    file_storage fs{dir, small_segments()};
    auto rec = fs.load();
    BOOST_REQUIRE(rec);
    BOOST_TEST(rec->configuration.empty());
    auto b = state_batch(1);
    b.bootstrap = three();
    b.entries = make_entries(1, 10, 1);
    BOOST_REQUIRE(!fs.write(b));
  }
  auto bytes = read_bytes(dir + "/metadata");
  BOOST_TEST(detail::get_le32(bytes.data() + 8) == 2u);
  {
    file_storage fs{dir, small_segments()};
    auto rec = fs.load();
    BOOST_REQUIRE_MESSAGE(rec, why(rec));
    BOOST_TEST(rec->configuration == three());
    BOOST_TEST(rec->state.current_term == 1u);
    BOOST_TEST(rec->entries.size() == 10u);
    // It survives later hard states, compaction and reset (each rewrites
    // the metadata file).
    BOOST_REQUIRE(!fs.write(state_batch(2, "b:2")));
    BOOST_REQUIRE(!fs.compact({5, 1}));
    BOOST_REQUIRE(!fs.reset({20, 2}));
  }
  {
    file_storage fs{dir, small_segments()};
    auto rec = fs.load();
    BOOST_REQUIRE_MESSAGE(rec, why(rec));
    BOOST_TEST(rec->configuration == three());
    BOOST_TEST(rec->state.voted_for == "b:2");
    BOOST_TEST(rec->snapshot.last_index == 20u);
    // A new bootstrap replaces the old one; nullopt leaves it alone.
    BOOST_REQUIRE(!fs.write(bootstrap_batch(joint_with_learner())));
    BOOST_REQUIRE(!fs.write(append_batch(make_entries(21, 22, 2))));
  }
  file_storage fs{dir, small_segments()};
  auto rec = fs.load();
  BOOST_REQUIRE_MESSAGE(rec, why(rec));
  BOOST_TEST(rec->configuration == joint_with_learner());
  BOOST_TEST(rec->state.current_term == 2u);
  BOOST_TEST(rec->entries.size() == 2u);
}

BOOST_AUTO_TEST_CASE(an_invalid_bootstrap_is_refused_without_writing) {
  temp_dir tmp;
  file_storage fs{tmp.path()};
  BOOST_REQUIRE(fs.load());
  auto before = read_bytes(tmp.file("metadata"));
  auto bad = three();
  bad.voters = {"c:3", "a:1"}; // not sorted
  auto b = state_batch(1);
  b.bootstrap = bad;
  auto err = fs.write(b);
  BOOST_REQUIRE(err);
  BOOST_TEST(!fs.failed());
  BOOST_TEST(read_bytes(tmp.file("metadata")) == before);
  auto rec = fs.load();
  BOOST_REQUIRE(rec);
  BOOST_TEST(rec->state.current_term == 0u);
}

BOOST_AUTO_TEST_CASE(v1_metadata_still_loads) {
  temp_dir tmp;
  {
    file_storage fs{tmp.path()};
    BOOST_REQUIRE(fs.load());
    BOOST_REQUIRE(!fs.write(state_batch(3, "a:1")));
    BOOST_REQUIRE(!fs.write(append_batch(make_entries(1, 4, 3))));
  }
  // Rewrite the metadata file as version 1: the same archive, no
  // configuration section.
  auto v2 = read_bytes(tmp.file("metadata"));
  size_t off = 0;
  size_t len = 0;
  size_t err_off = 0;
  std::string err;
  BOOST_REQUIRE(detail::decode_metadata_file(v2.data(), v2.size(), off, len,
                                             err, err_off));
  std::vector<char> v1(v2.begin(), v2.begin() + off + len);
  v1.resize(v1.size() + 4);
  detail::put_le32(v1.data() + 8, 1);
  reseal(v1);
  write_bytes(tmp.file("metadata"), v1);
  {
    file_storage fs{tmp.path()};
    auto rec = fs.load();
    BOOST_REQUIRE_MESSAGE(rec, why(rec));
    BOOST_TEST(rec->configuration.empty());
    BOOST_TEST(rec->state.current_term == 3u);
    BOOST_TEST(rec->state.voted_for == "a:1");
    BOOST_TEST(rec->entries.size() == 4u);
    // The next metadata write upgrades it to version 2.
    BOOST_REQUIRE(!fs.write(bootstrap_batch(three())));
  }
  BOOST_TEST(detail::get_le32(read_bytes(tmp.file("metadata")).data() + 8)
             == 2u);
  file_storage fs{tmp.path()};
  auto rec = fs.load();
  BOOST_REQUIRE(rec);
  BOOST_TEST(rec->configuration == three());
  BOOST_TEST(rec->state.voted_for == "a:1");
}

BOOST_AUTO_TEST_CASE(every_bit_of_a_metadata_file_with_bootstrap_is_checked) {
  temp_dir tmp;
  {
    file_storage fs{tmp.path()};
    BOOST_REQUIRE(fs.load());
    auto b = state_batch(2);
    b.bootstrap = joint_with_learner();
    BOOST_REQUIRE(!fs.write(b));
  }
  auto path = tmp.file("metadata");
  auto clean = read_bytes(path);
  for (size_t byte = 0; byte < clean.size(); ++byte)
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = clean;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      write_bytes(path, bad);
      file_storage fs{tmp.path()};
      auto rec = fs.load();
      BOOST_REQUIRE_MESSAGE(!rec, "byte " << byte << " bit " << bit);
      BOOST_REQUIRE(has_code(rec.error(), errc::corrupt_record));
      BOOST_REQUIRE(context(rec.error()).find(path) != std::string::npos);
    }
  for (size_t len = 0; len < clean.size(); ++len) {
    write_bytes(path, std::vector<char>(clean.begin(), clean.begin() + len));
    file_storage fs{tmp.path()};
    auto rec = fs.load();
    BOOST_REQUIRE_MESSAGE(!rec, "cut at " << len);
    BOOST_REQUIRE(has_code(rec.error(), errc::corrupt_record));
  }
  // Checksummed bytes that are no configuration.
  auto bad = clean;
  auto conf_len = encode_configuration(joint_with_learner()).size();
  auto conf_at = clean.size() - 4 - conf_len;
  detail::put_le32(bad.data() + conf_at, 0xFFFFFFFFu); // voters' count
  reseal(bad);
  write_bytes(path, bad);
  {
    file_storage fs{tmp.path()};
    auto rec = fs.load();
    BOOST_REQUIRE(!rec);
    BOOST_TEST(has_code(rec.error(), errc::corrupt_record));
    BOOST_TEST(context(rec.error()).find("bad bootstrap configuration")
               != std::string::npos);
    BOOST_TEST(reported_offset(rec.error())
               == static_cast<int64_t>(conf_at));
  }
  write_bytes(path, clean);
  file_storage fs{tmp.path()};
  auto rec = fs.load();
  BOOST_REQUIRE(rec);
  BOOST_TEST(rec->configuration == joint_with_learner());
}

BOOST_AUTO_TEST_CASE(memory_storage_keeps_the_bootstrap) {
  memory_storage mem;
  BOOST_TEST(mem.load()->configuration.empty());
  BOOST_REQUIRE(!mem.write(bootstrap_batch(three())));
  BOOST_REQUIRE(!mem.write(append_batch(make_entries(1, 3, 0))));
  BOOST_REQUIRE(!mem.reset({10, 1}));
  BOOST_TEST(mem.load()->configuration == three());
  write_batch none;
  BOOST_TEST(none.empty());
  none.bootstrap = three();
  BOOST_TEST(!none.empty());
  none.clear();
  BOOST_TEST(!none.bootstrap.has_value());
}

// persist(): the bootstrap goes out with the hard state, before a reset.
BOOST_AUTO_TEST_CASE(persist_writes_the_bootstrap_with_the_hard_state) {
  struct recording : memory_storage {
    std::vector<std::string> calls;
    caf::error write(const write_batch& b) override {
      calls.push_back(std::string{"write"} + (b.has_state ? " state" : "")
                      + (b.bootstrap ? " bootstrap" : "")
                      + (b.entries.empty() ? "" : " entries"));
      return memory_storage::write(b);
    }
    caf::error reset(snapshot_meta m) override {
      calls.push_back("reset");
      return memory_storage::reset(m);
    }
  };
  recording store;
  auto b = append_batch(make_entries(11, 12, 2));
  b.reset_to = snapshot_meta{10, 2};
  b.has_state = true;
  b.state = hard_state{2, {}};
  b.bootstrap = three();
  BOOST_REQUIRE(!persist(store, b));
  std::vector<std::string> expected{"write state bootstrap", "reset",
                                    "write entries"};
  BOOST_TEST(store.calls == expected, boost::test_tools::per_element());
  BOOST_TEST(store.contents().configuration == three());
  // Without a hard state, the bootstrap alone still precedes the reset.
  recording other;
  write_batch c;
  c.reset_to = snapshot_meta{10, 0};
  c.bootstrap = three();
  BOOST_REQUIRE(!persist(other, c));
  expected = {"write bootstrap", "reset"};
  BOOST_TEST(other.calls == expected, boost::test_tools::per_element());
}

// -- configuration entries in the log ------------------------------------------

BOOST_AUTO_TEST_CASE(a_configuration_entry_goes_through_file_storage) {
  temp_dir tmp;
  entry_vector written;
  {
    file_storage fs{tmp.path(), small_segments()};
    BOOST_REQUIRE(fs.load());
    auto b = state_batch(2);
    b.entries = make_entries(1, 3, 1);
    b.entries.push_back(configuration_entry(4, 2, joint_with_learner()));
    b.entries.push_back(log_entry{2, 5, entry_kind::noop, payload{}});
    b.entries.push_back(configuration_entry(6, 2, three()));
    written = b.entries;
    BOOST_REQUIRE(!fs.write(b));
    auto back = fs.read(1, 6);
    BOOST_REQUIRE_MESSAGE(back, why(back));
    BOOST_TEST((*back == written));
  }
  file_storage fs{tmp.path(), small_segments()};
  auto rec = fs.load();
  BOOST_REQUIRE_MESSAGE(rec, why(rec));
  BOOST_REQUIRE(rec->entries.size() == 6u);
  BOOST_TEST((rec->entries == written));
  BOOST_TEST((rec->entries[3].kind == entry_kind::configuration));
  auto conf = decode_configuration(rec->entries[3].data);
  BOOST_REQUIRE(conf);
  BOOST_TEST(*conf == joint_with_learner());
}

// -- crashes: the old or the new, never a mix nor a refusal to start ----------

namespace {

/// Crashes before each changing call of `step` (run on a directory holding
/// `prepare`'s result), with and without losing what was not synced, and
/// calls `check(acknowledged)` on the recovered directory. Returns the
/// number of crash points.
size_t crash_everywhere(const std::function<void(const std::string&)>& prepare,
                        const std::function<caf::error(const std::string&,
                                                       file_io_ptr)>& step,
                        const std::function<void(const std::string&, bool)>&
                          check) {
  temp_dir tmp;
  auto proto = tmp.file("template");
  prepare(proto);
  auto image = snapshot_dir(proto);
  auto dir = tmp.file("run");
  std::filesystem::create_directories(dir);
  size_t points = 0;
  {
    restore_dir(dir, image);
    auto io = std::make_shared<crash_file_io>(std::vector<std::string>{dir});
    auto err = step(dir, io);
    BOOST_REQUIRE_MESSAGE(!err, "clean run: " << context(err));
    points = io->changes();
  }
  check(dir, true);
  for (size_t n = 0; n < points; ++n)
    for (bool power_loss : {false, true}) {
      restore_dir(dir, image);
      bool acked = false;
      {
        auto io = std::make_shared<crash_file_io>(std::vector<std::string>{dir});
        io->crash_after(n);
        acked = !step(dir, io);
        BOOST_TEST(!acked);
        if (power_loss)
          io->lose_unsynced();
      }
      BOOST_TEST_CONTEXT("crash before changing call " << n
                                                       << (power_loss
                                                             ? ", power loss"
                                                             : "")) {
        check(dir, acked);
      }
    }
  return points;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_crash_while_storing_a_bootstrap_keeps_old_or_new) {
  auto n = crash_everywhere(
    [](const std::string& dir) {
      file_storage fs{dir};
      BOOST_REQUIRE(fs.load());
      auto b = state_batch(1, "a:1");
      b.bootstrap = three();
      b.entries = make_entries(1, 3, 1);
      BOOST_REQUIRE(!fs.write(b));
    },
    [](const std::string& dir, file_io_ptr io) -> caf::error {
      file_storage_options o;
      o.io = std::move(io);
      file_storage fs{dir, o};
      if (auto rec = fs.load(); !rec)
        return rec.error();
      auto b = state_batch(2, "b:2");
      b.bootstrap = joint_with_learner();
      b.entries = make_entries(4, 5, 2);
      return fs.write(b);
    },
    [](const std::string& dir, bool acked) {
      file_storage fs{dir};
      auto rec = fs.load();
      BOOST_REQUIRE_MESSAGE(rec, why(rec));
      auto is_new = rec->configuration == joint_with_learner();
      BOOST_TEST((is_new || rec->configuration == three()));
      // Configuration and hard state are one write: both old or both new.
      BOOST_TEST(is_new == (rec->state.current_term == 2u));
      BOOST_TEST(is_new == (rec->state.voted_for == "b:2"));
      if (acked)
        BOOST_TEST(is_new);
    });
  BOOST_TEST(n >= 3u);
}

BOOST_AUTO_TEST_CASE(a_crash_while_publishing_a_snapshot_keeps_old_or_new) {
  auto n = crash_everywhere(
    [](const std::string& dir) {
      snapshot_store store{dir};
      save(store, {10, 1}, "old state", three());
    },
    [](const std::string& dir, file_io_ptr io) -> caf::error {
      snapshot_store_options o;
      o.io = std::move(io);
      snapshot_store store{dir, o};
      auto path = store.begin({20, 2});
      if (!path)
        return path.error();
      write_bytes(*path, {'n', 'e', 'w'});
      auto info = store.commit({20, 2}, joint_with_learner());
      return info ? caf::none : info.error();
    },
    [](const std::string& dir, bool acked) {
      snapshot_store store{dir};
      auto n = store.newest();
      BOOST_REQUIRE_MESSAGE(n, why(n));
      if (n->meta.last_index == 20u) {
        BOOST_TEST(n->configuration == joint_with_learner());
      } else {
        BOOST_TEST(!acked);
        BOOST_TEST(n->meta.last_index == 10u);
        BOOST_TEST(n->configuration == three());
      }
    });
  BOOST_TEST(n >= 3u);
}
