// How long raft-kv's store stops applies per snapshot, one-phase against
// two-phase (not a test; docs/benchmarks.md, "Snapshots that don't stop the
// world"). Fills the store with N keys of B-byte values, then per round:
//   one-phase: save_snapshot into a snapshot_store file and commit it (fsync,
//     rename, directory fsync): what a member waited for before applying on;
//   two-phase: begin_snapshot() only (the stall), then the writer and the
//     commit (in the background in a member), and the cost of the N puts
//     that follow while the view is held (each changed shard is copied once)
//     against N puts without a view.
//
//   kv-snapshot-stall [--keys N] [--size B] [--rounds R] [--dir D]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "raft/storage/snapshot_store.hpp"

#include "kv_command.hpp"
#include "kv_state_machine.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0)
    .count();
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs.empty() ? 0 : xs[xs.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  size_t keys = 100000;
  size_t size = 256;
  int rounds = 5;
  std::string dir = "/tmp/kv-snapshot-stall";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--keys")
      keys = std::stoul(argv[i + 1]);
    else if (a == "--size")
      size = std::stoul(argv[i + 1]);
    else if (a == "--rounds")
      rounds = std::stoi(argv[i + 1]);
    else if (a == "--dir")
      dir = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  std::filesystem::remove_all(dir);
  raft::snapshot_store store{dir};
  kv::machine m;
  raft::index_t index = 0;
  std::string value(size, 'v');
  auto put_all = [&] {
    for (size_t k = 0; k < keys; ++k)
      m.apply(++index, kv::put_cmd("key" + std::to_string(k), value));
  };
  put_all();
  std::vector<double> one, begin, write, puts_view, puts_plain;
  for (int r = 0; r < rounds; ++r) {
    // One phase: everything before applies resume.
    raft::snapshot_meta meta{index, 1};
    auto t0 = clock_type::now();
    auto path = store.begin(meta);
    {
      std::ofstream out{*path, std::ios::binary | std::ios::trunc};
      if (m.save_snapshot(out))
        return 1;
    }
    if (!store.commit(meta))
      return 1;
    one.push_back(ms_since(t0));
    // N puts without a view.
    t0 = clock_type::now();
    put_all();
    puts_plain.push_back(ms_since(t0));
    // Two phases: the view (the stall), then writing and committing.
    meta = raft::snapshot_meta{index, 1};
    t0 = clock_type::now();
    auto writer = m.begin_snapshot();
    begin.push_back(ms_since(t0));
    // N puts while the view is held (copy-on-write).
    t0 = clock_type::now();
    put_all();
    puts_view.push_back(ms_since(t0));
    t0 = clock_type::now();
    path = store.begin(meta);
    {
      std::ofstream out{*path, std::ios::binary | std::ios::trunc};
      if ((*writer)(out))
        return 1;
    }
    if (!store.commit(meta))
      return 1;
    write.push_back(ms_since(t0));
  }
  std::printf("keys %zu, value bytes %zu, rounds %d (medians, ms)\n", keys,
              size, rounds);
  std::printf("one-phase stall (save + commit):      %8.2f\n", median(one));
  std::printf("two-phase stall (begin_snapshot):     %8.3f\n", median(begin));
  std::printf("two-phase writing + commit (bg):      %8.2f\n", median(write));
  std::printf("%zu puts with no view held:        %8.2f\n", keys,
              median(puts_plain));
  std::printf("%zu puts while a view is held:     %8.2f\n", keys,
              median(puts_view));
  std::filesystem::remove_all(dir);
  return 0;
}
