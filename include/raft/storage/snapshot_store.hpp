// Snapshot files of one member, in the same directory as its log. The
// application writes a snapshot's bytes into a file by path (save_atom); the
// store checksums, syncs and publishes it, finds the newest valid one at
// start-up, and moves snapshots in bounded chunks for InstallSnapshot (§7).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/expected.hpp"

#include "raft/core/configuration.hpp"
#include "raft/core/types.hpp"
#include "raft/storage/file_io.hpp"

namespace raft {

/// A complete snapshot on disk.
struct snapshot_info {
  /// Last index and term it covers (all zero: no snapshot).
  snapshot_meta meta;
  /// The application's bytes (restore_atom reads this path).
  std::string path;
  /// Size of the application's bytes.
  uint64_t size = 0;
  /// crc32c of the application's bytes.
  uint32_t crc = 0;
  /// The configuration in force at meta.last_index (§7: a snapshot carries
  /// the latest configuration as of its last included index; thesis §5.1).
  /// Empty for a snapshot written by a version without membership changes.
  cluster_configuration configuration;

  /// True if this describes no snapshot at all.
  bool none() const {
    return path.empty();
  }
};

/// Upper bound of the configuration bytes in a sidecar (a sanity check
/// against a damaged length field; a configuration of 1000 members with
/// 100-byte ids takes ~100 KiB).
constexpr uint32_t max_sidecar_configuration = 1024 * 1024;

/// Options of a snapshot_store.
struct snapshot_store_options {
  /// Complete snapshots kept after a new one is published (at least 1). The
  /// second newest stays around for a leader still sending it and for an
  /// operator falling back by hand.
  size_t keep = 2;

  /// UNSAFE when false: no fsync (benchmarks and tests only).
  bool sync = true;

  /// The system calls (tests inject failures here); null: the real ones.
  file_io_ptr io;
};

/// Snapshot files (docs/storage.md):
///
///     snapshot-<index, 20 digits>-<term, 20 digits>.data  application bytes
///     snapshot-<index, 20 digits>-<term, 20 digits>.meta  sidecar, version 2
///       (written since issue 12):
///       "CAFRSNAP" | u32 format version (2) | u32 flags (0) | u64 last index
///       | u64 last term | u64 size | u32 crc32c(data) | u32 c (at most
///       max_sidecar_configuration) | c bytes: the configuration, as a
///       configuration entry's payload (0 bytes: empty) | u32 crc32c(all
///       preceding bytes)
///     version 1 (still read; its configuration is empty), 48 bytes:
///       "CAFRSNAP" | u32 format version (1) | u32 flags (0) | u64 last index
///       | u64 last term | u64 size | u32 crc32c(data) | u32 crc32c(bytes 0-43)
///     ...data.tmp (being written by the application), ...recv.tmp (being
///     received), ...meta.tmp (sidecar being replaced): never trusted.
///
/// A snapshot exists once its .meta exists (the sidecar's rename is the
/// commit point; the data file was fsynced and renamed, and the directory
/// fsynced, before). A .data without .meta is an interrupted commit: ignored,
/// and removed by the next commit.
///
/// newest() checks the newest snapshot completely (sidecar fields and
/// checksum, data size and crc32c). If it is damaged, newest() returns a
/// corrupt_record error naming the file even when an older snapshot is
/// intact (the error then names that one): the log was compacted up to the
/// newest, so silently falling back would lose the entries in between. An
/// operator may delete the damaged pair to fall back on purpose.
///
/// Thread-safe (one mutex).
class snapshot_store {
public:
  explicit snapshot_store(std::string dir, snapshot_store_options opts = {});

  ~snapshot_store();

  snapshot_store(const snapshot_store&) = delete;
  snapshot_store& operator=(const snapshot_store&) = delete;

  // -- local snapshots (the application writes them) --------------------------

  /// Returns the temporary path for the application to write the snapshot
  /// covering `meta` into (an existing one is truncated). Creates the
  /// directory if needed.
  caf::expected<std::string> begin(snapshot_meta meta);

  /// Publishes what the application wrote to begin(meta)'s path: computes
  /// size and crc32c, fsyncs it, renames it into place, writes the sidecar
  /// (fsync, rename, directory fsync), then removes older snapshots beyond
  /// `keep`. An empty file is a valid (empty) snapshot.
  caf::expected<snapshot_info> commit(snapshot_meta meta);

  /// Like commit(meta), and the sidecar carries `configuration`, the
  /// configuration in force at meta.last_index.
  caf::expected<snapshot_info>
  commit(snapshot_meta meta, const cluster_configuration& configuration);

  /// Drops begin(meta)'s temporary file.
  void abort(snapshot_meta meta);

  // -- reading -------------------------------------------------------------------

  /// The newest valid snapshot (none() if there is none), or a corrupt_record
  /// error naming the damaged file. Reads the whole data file (checksum).
  caf::expected<snapshot_info> newest();

  /// Up to `max_bytes` of the snapshot `meta`'s data from `offset` (empty at
  /// the end). Memory: at most `max_bytes`. snapshot_failure if there is no
  /// such snapshot (e.g. removed since) or `offset` lies beyond its end.
  caf::expected<std::string> read_chunk(snapshot_meta meta, uint64_t offset,
                                        size_t max_bytes);

  // -- receiving (InstallSnapshot, §7) -------------------------------------------------

  /// Starts receiving the snapshot `meta` (abandoning one in progress).
  caf::error begin_receive(snapshot_meta meta);

  /// Appends a chunk. `offset` must equal received(): anything else (a gap,
  /// a duplicate) is refused with snapshot_failure and changes nothing, so
  /// the sender can resume from received().
  caf::error write_chunk(uint64_t offset, const char* data, size_t n);

  caf::error write_chunk(uint64_t offset, const std::string& bytes) {
    return write_chunk(offset, bytes.data(), bytes.size());
  }

  /// Bytes received so far in the current transfer.
  uint64_t received() const;

  /// True while a transfer is in progress.
  bool receiving() const;

  /// Completes the transfer: checks that `size` bytes with crc32c `crc` (the
  /// sender's snapshot_info) arrived, fsyncs, publishes like commit(). On a
  /// mismatch the transfer is dropped and corrupt_record returned.
  caf::expected<snapshot_info> finish_receive(uint64_t size, uint32_t crc);

  /// Like finish_receive(size, crc), and the sidecar carries `configuration`
  /// (install_snapshot_request::configuration).
  caf::expected<snapshot_info>
  finish_receive(uint64_t size, uint32_t crc,
                 const cluster_configuration& configuration);

  /// Completes the transfer without comparing against the sender's values
  /// (Figure 13 sends none): publishes what was received.
  caf::expected<snapshot_info> finish_receive();

  /// Drops the transfer in progress, if any.
  void abort_receive();

  // -- observers --------------------------------------------------------------------

  const std::string& dir() const {
    return dir_;
  }

  /// Path of the data file of the snapshot `meta` (whether it exists or not).
  std::string data_path(snapshot_meta meta) const;

  /// Every complete snapshot (sidecar present, not verified), newest first.
  std::vector<snapshot_meta> list() const;

private:
  caf::expected<snapshot_info>
  publish(snapshot_meta meta, const std::string& tmp, int fd, uint64_t size,
          uint32_t crc, const cluster_configuration& configuration);

  caf::expected<snapshot_info>
  finish_locked(bool check, uint64_t size, uint32_t crc,
                const cluster_configuration& configuration);

  caf::error prune(snapshot_meta newest);

  caf::expected<snapshot_info> verify(snapshot_meta meta);

  void abort_receive_locked();

  std::string name(snapshot_meta meta) const;

  mutable std::mutex mtx_;
  std::string dir_;
  snapshot_store_options opts_;
  file_io* io_;

  // The transfer in progress.
  bool receiving_ = false;
  snapshot_meta recv_meta_;
  std::string recv_path_;
  int recv_fd_ = -1;
  uint64_t recv_size_ = 0;
  uint32_t recv_crc_ = 0;

  std::vector<char> buf_;
};

} // namespace raft
