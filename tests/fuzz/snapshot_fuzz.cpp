// Fuzz target: the snapshot store (src/storage/snapshot_store.cpp). First
// input byte: what the rest is.
//   0: a snapshot on disk: `| u16 sidecar length | sidecar | data |` in the
//      files of snapshot (5, 2), next to an intact older one (3, 1);
//      newest() must refuse damage or return a snapshot whose bytes match
//      its size and checksum.
//   1: a snapshot arriving in chunks (InstallSnapshot, §7): chunks
//      `| u8 offset kind | u16 length | bytes |` then the sender's size and
//      crc32c; out-of-order chunks are refused, a finished transfer is
//      readable and checks out.
#include <cinttypes>
#include <cstdio>
#include <string>

#include "raft/errc.hpp"
#include "raft/storage/crc32c.hpp"
#include "raft/storage/snapshot_store.hpp"

#include "fuzz_common.hpp"

using namespace raft;
using raft::fuzz::check;

namespace {

std::string stem(uint64_t index, uint64_t term) {
  char buf[80];
  std::snprintf(buf, sizeof(buf), "snapshot-%020" PRIu64 "-%020" PRIu64,
                index, term);
  return buf;
}

/// Reads the whole snapshot back in chunks and checks size and crc32c.
void check_readable(snapshot_store& st, const snapshot_info& info) {
  std::string all;
  for (uint64_t off = 0;;) {
    auto chunk = st.read_chunk(info.meta, off, 7);
    check(static_cast<bool>(chunk), "a listed snapshot can be read");
    if (chunk->empty())
      break;
    all += *chunk;
    off += chunk->size();
    check(all.size() <= info.size, "no more bytes than the sidecar says");
  }
  check(all.size() == info.size, "as many bytes as the sidecar says");
  check(crc32c(all.data(), all.size()) == info.crc,
        "the bytes match the sidecar's crc32c");
}

void on_disk(raft::fuzz::reader& in) {
  raft::fuzz::temp_dir dir;
  snapshot_store_options opts;
  opts.sync = false;
  {
    // An intact older snapshot written by the store itself.
    snapshot_store st{dir.path(), opts};
    auto path = st.begin(snapshot_meta{3, 1});
    check(static_cast<bool>(path), "begin() works");
    auto f = std::fopen(path->c_str(), "wb");
    std::fputs("older", f);
    std::fclose(f);
    check(static_cast<bool>(st.commit(snapshot_meta{3, 1})), "commit() works");
  }
  auto sidecar_len = in.u16();
  dir.write(stem(5, 2) + ".meta", in.bytes(sidecar_len));
  dir.write(stem(5, 2) + ".data", in.rest());
  snapshot_store st{dir.path(), opts};
  auto listed = st.list();
  auto newest = st.newest();
  if (!newest) {
    check(newest.error().category() == errc_category,
          "a damaged snapshot is a raft error");
    return;
  }
  check(!newest->none(), "there is a snapshot");
  check(newest->meta.last_index == 5 && newest->meta.last_term == 2,
        "the newest snapshot is the one named newest");
  check(!listed.empty(), "list() shows it");
  check(!raft::check(newest->configuration),
        "a loaded configuration is valid");
  check_readable(st, *newest);
}

void received(raft::fuzz::reader& in) {
  raft::fuzz::temp_dir dir;
  snapshot_store_options opts;
  opts.sync = false;
  snapshot_store st{dir.path(), opts};
  snapshot_meta meta{7, 3};
  check(!st.begin_receive(meta), "begin_receive() works");
  std::string sent;
  for (int k = 0; k < 32 && in.left() > 4; ++k) {
    auto kind = in.u8();
    auto length = in.u16();
    auto bytes = in.bytes(length);
    // Mostly the right offset, sometimes a duplicate or a gap.
    uint64_t offset = st.received();
    if (kind % 4 == 1)
      offset = offset > 0 ? offset - 1 : 1;
    else if (kind % 4 == 2)
      offset += 1 + kind;
    auto before = st.received();
    auto err = st.write_chunk(offset, bytes);
    if (offset != before) {
      check(static_cast<bool>(err), "a chunk at the wrong offset is refused");
      check(st.received() == before, "a refused chunk changes nothing");
    } else if (!err) {
      sent += bytes;
      check(st.received() == sent.size(), "received() counts the bytes");
    }
  }
  auto size = in.u8() % 2 == 0 ? sent.size() : in.u64();
  auto crc = in.u8() % 2 == 0 ? crc32c(sent.data(), sent.size()) : in.u32();
  auto info = st.finish_receive(size, crc);
  if (size != sent.size() || crc != crc32c(sent.data(), sent.size())) {
    check(!info, "a transfer that does not match the sender's size and "
                 "checksum is refused");
    return;
  }
  check(static_cast<bool>(info), "a complete transfer is published");
  auto newest = st.newest();
  check(static_cast<bool>(newest) && newest->meta.last_index == 7,
        "the received snapshot is the newest");
  check_readable(st, *newest);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  raft::fuzz::reader in{data, size};
  if (in.u8() % 2 == 0)
    on_disk(in);
  else
    received(in);
  return 0;
}
