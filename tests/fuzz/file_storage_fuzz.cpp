// Fuzz target: recovery of the durable log from a damaged or hostile
// directory (file_storage::load, docs/storage.md). The input is a list of
// files, each `| u8 name | u16 length | bytes |`; the name byte picks one
// of the names file_storage knows (metadata, segments, temporary files).
// load() must either refuse with an error or return a log that is
// consistent (contiguous indexes after the base, read() agrees), and that
// stays so when a batch is written and the directory is loaded again.
#include <cinttypes>
#include <cstdio>
#include <string>

#include "raft/errc.hpp"
#include "raft/storage/file_storage.hpp"

#include "fuzz_common.hpp"

using namespace raft;
using raft::fuzz::check;

namespace {

std::string segment_name(uint64_t first, bool tmp = false) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "log-%020" PRIu64 "%s", first,
                tmp ? ".tmp" : "");
  return buf;
}

/// The file names a fuzz input can create.
std::string file_name(uint8_t x) {
  switch (x % 10) {
    case 0:
      return "metadata";
    case 1:
      return "metadata.tmp";
    case 2:
      return segment_name(1);
    case 3:
      return segment_name(2);
    case 4:
      return segment_name(3);
    case 5:
      return segment_name(5);
    case 6:
      return segment_name(11);
    case 7:
      return segment_name(1, true);
    case 8:
      return segment_name(101);
    default:
      return "log-garbage";
  }
}

std::string describe(const recovered_state& x) {
  return "term " + std::to_string(x.state.current_term) + ", base "
         + std::to_string(x.snapshot.last_index) + ", "
         + std::to_string(x.entries.size()) + " entries";
}

void check_consistent(const recovered_state& rec, file_storage& fs) {
  auto base = rec.snapshot.last_index;
  for (size_t k = 0; k < rec.entries.size(); ++k)
    check(rec.entries[k].index == base + 1 + k,
          "recovered entries are contiguous after the base ("
            + describe(rec) + ")");
  check(fs.first_index() == base + 1, "first_index() is base + 1");
  check(fs.last_index() == base + rec.entries.size(),
        "last_index() matches the recovered entries");
  if (!rec.entries.empty()) {
    auto back = fs.read(base + 1, fs.last_index());
    check(static_cast<bool>(back), "read() of the recovered range works");
    check(*back == rec.entries, "read() returns what load() returned");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  raft::fuzz::reader in{data, size};
  raft::fuzz::temp_dir dir;
  for (int files = 0; !in.empty() && files < 16; ++files) {
    auto name = file_name(in.u8());
    auto length = in.u16();
    dir.write(name, in.bytes(length));
  }
  file_storage_options opts;
  opts.sync = false; // tmpfs, and nothing to make durable in a fuzz run
  recovered_state first;
  {
    file_storage fs{dir.path(), opts};
    auto rec = fs.load();
    if (!rec) {
      check(rec.error().category() == errc_category,
            "load() fails with a raft error");
      return 0;
    }
    first = *rec;
    check_consistent(first, fs);
    // Write on top of what was recovered: a new term and one entry.
    write_batch batch;
    batch.has_state = true;
    batch.state.current_term = first.state.current_term + 1;
    batch.state.voted_for = "127.0.0.1:7001";
    log_entry e;
    e.index = fs.last_index() + 1;
    e.term = batch.state.current_term;
    e.data = payload{"put k fuzz"};
    batch.entries.push_back(e);
    auto err = fs.write(batch);
    if (err)
      return 0; // e.g. the index would overflow: refused, not corrupted
    first.state = batch.state;
    first.entries.push_back(e);
  }
  // A second load sees exactly the state after the write.
  file_storage fs{dir.path(), opts};
  auto again = fs.load();
  check(static_cast<bool>(again), "the directory loads again after a write");
  check(again->state == first.state, "hard state survives a reload");
  check(again->snapshot.last_index == first.snapshot.last_index
          && again->snapshot.last_term == first.snapshot.last_term,
        "base survives a reload");
  check(again->entries == first.entries,
        "entries survive a reload (" + describe(*again) + " vs "
          + describe(first) + ")");
  check_consistent(*again, fs);
  return 0;
}
