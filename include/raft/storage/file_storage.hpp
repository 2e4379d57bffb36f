// The durable storage of one member: a segmented log of files plus a small
// metadata file, in one directory (shared with the snapshot_store's files).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "raft/storage/file_io.hpp"
#include "raft/storage/storage.hpp"

namespace raft {

namespace detail {
class entry_decoder;
class entry_encoder;
class dir_lock;
} // namespace detail

/// Options of a file_storage.
struct file_storage_options {
  /// A new segment file is started when a batch would grow the current one
  /// beyond this many bytes (a single larger batch gets a segment of its own).
  /// At least 64 bytes, at most 1 GiB.
  uint64_t segment_bytes = 8 * 1024 * 1024;

  /// UNSAFE when false: no fsync/fdatasync at all. A crash (of the machine,
  /// not only of the process) can then lose or tear acknowledged entries and
  /// votes, which breaks Raft's safety. For benchmarks and tests only.
  bool sync = true;

  /// The system calls (tests inject failures here); null: the real ones.
  file_io_ptr io;
};

/// Stable storage in files, LogCabin-style (Storage/SegmentedLog.h).
///
/// Format (docs/storage.md has the full description). Integers in headers
/// and frames are little-endian; record payloads are Boost.Serialization
/// binary archives, which are NOT portable between platforms (byte order,
/// sizes): a directory can be read back only on the same kind of machine.
///
///     <dir>/metadata                      hard state, log base, generation,
///                                         bootstrap configuration
///       "CAFRMETA" | u32 format version (2) | u16 Boost archive version |
///       u16 flags (0) | u32 n | n bytes: binary archive (with class info) of
///       {hard_state{current_term, voted_for}, snapshot_meta base,
///        u64 generation} | u32 c | c bytes: the bootstrap configuration as
///       a configuration entry's payload (0: none) | u32 crc32c of all
///       preceding bytes. Version 1 (no c and no configuration) still loads.
///     <dir>/log-<first index, 20 digits>  one segment of the log
///       header: "CAFRLOG\n" | u32 format version (1) | u16 Boost archive
///       version | u16 flags (0) | u64 first index | u64 generation |
///       u32 p | p bytes: archive prototype | u32 crc32c of the header
///       then records, one per entry, in index order:
///       | u32 crc32c(length field + payload) | u32 length | payload |
///       payload: the entry's fields {term, index, u8 kind, data} as the
///       continuation of the segment's archive, whose prototype (a default
///       entry with Boost's class information, incl. BOOST_CLASS_VERSION)
///       lives in the header. Per entry: 8 bytes of frame, 25 of fields.
///
/// Updates and what is synced:
/// - write(batch): the hard state and the bootstrap configuration first
///   (one metadata file: metadata.tmp written, fsynced,
///   renamed over metadata, directory fsynced); then truncation (segments
///   after the cut unlinked one by one with a directory fsync each, the
///   segment holding the cut ftruncated and fdatasynced: one extra sync, only
///   for batches that truncate); then all entries of the batch encoded into
///   one buffer, written with ONE pwrite and made durable with ONE fdatasync.
///   A new segment is created (log-N.tmp, header, fdatasync, rename,
///   directory fsync) before a batch that would overflow the current one.
/// - compact(meta): metadata with the new base (atomically, as above), then
///   segments wholly covered by it unlinked, directory fsynced.
/// - reset(meta): metadata with the new base and generation + 1, then every
///   segment unlinked (older generations are garbage if a crash intervenes).
///
/// Recovery (load): metadata, then the segments in index order. Segments of
/// an older generation and segments wholly covered by the base are removed
/// (with load_after(snapshot), also those wholly before the snapshot);
/// leftover *.tmp files too. A torn tail (the last segment ends in an
/// incomplete record, or in zero bytes) is cut off with a warning on stderr.
/// Anything else (a checksum mismatch in a complete record, a damaged header,
/// a gap or overlap between segments, an unknown version, a log that
/// contradicts the metadata) is an errc::corrupt_record error naming the file
/// and byte offset; nothing is changed on disk then.
///
/// Failures are fail-stop: after any failed write, sync, rename, truncate or
/// unlink, every later write, compact, reset and load of this object returns
/// errc::storage_failure (after a failed fsync Linux may have dropped the
/// dirty pages; retrying could acknowledge lost data). Restart the process.
///
/// Thread-safe (one mutex); meant for one log writer actor.
class file_storage : public storage {
public:
  /// Stores in `dir` (created on first use). Nothing is read before load().
  explicit file_storage(std::string dir, file_storage_options opts = {});

  ~file_storage() override;

  file_storage(const file_storage&) = delete;
  file_storage& operator=(const file_storage&) = delete;

  // -- reading back (not part of the storage interface) -------------------------

  /// The stored entries with indexes in [from, to]. A member keeps its log
  /// since the last snapshot in memory and never reads entries back; tests
  /// and tools use this to check what is on disk.
  caf::expected<entry_vector> read(index_t from, index_t to);

  // -- storage interface -------------------------------------------------------

  caf::expected<recovered_state> load() override;

  /// Like load(), but segments wholly before the snapshot's last entry are
  /// neither read nor checked: they are garbage once the reconciliation
  /// (compaction or reset, written to the metadata before any file goes) is
  /// durable, which happens here, in the repair phase.
  caf::expected<recovered_state>
  load_after(const snapshot_meta& snap) override;

  caf::error write(const write_batch& batch) override;

  caf::error compact(snapshot_meta meta) override;

  caf::error reset(snapshot_meta meta) override;

  // -- observers ---------------------------------------------------------------

  /// The directory.
  const std::string& dir() const {
    return dir_;
  }

  /// Index of the first entry after the base that is stored, i.e. base + 1.
  index_t first_index() const;

  /// Index of the last stored entry (the base's index if none).
  index_t last_index() const;

  /// Number of segment files.
  size_t segment_count() const;

  /// What the last load() repaired (torn tail cut, stale files removed), one
  /// line each; also printed to stderr.
  std::vector<std::string> warnings() const;

  /// True after a failure: everything but read() is refused.
  bool failed() const;

private:
  // -- in-memory index ---------------------------------------------------------

  /// One segment file. Invariant: offsets.size() entries, the i-th at byte
  /// offset offsets[i], with index first + i; `size` is the file's size.
  struct segment {
    index_t first = 0;
    std::string path;
    uint64_t size = 0;
    /// Offset of each record (4 bytes per entry: the only per-entry memory).
    std::vector<uint32_t> offsets;
    /// The segment's archive prototype (decoders are primed with it).
    std::vector<char> prototype;
    /// Open for appending (only the last segment), else -1.
    int fd = -1;

    index_t last() const {
      return first + offsets.size() - 1;
    }

    uint64_t end_of(size_t i) const {
      return i + 1 < offsets.size() ? offsets[i + 1] : size;
    }
  };

  /// A stretch of entries with one term (term changes are rare).
  struct term_run {
    index_t first;
    term_t term;
  };

  // -- implementation ------------------------------------------------------------

  caf::error write_locked(const write_batch& batch);

  caf::expected<entry_vector> read_range(index_t from, index_t to);

  caf::error compact_locked(snapshot_meta meta);

  caf::error reset_locked(snapshot_meta meta);

  // load(), in phases (file_storage.cpp, "recovery").
  struct segment_scan;
  struct load_plan;

  caf::expected<recovered_state> load_locked(const snapshot_meta* snap);

  caf::error open_locked(entry_vector* entries,
                         const snapshot_meta* snap = nullptr);

  caf::error take_inventory(load_plan& plan);

  caf::error read_metadata(load_plan& plan);

  caf::error read_segment_headers(load_plan& plan);

  caf::error read_records(load_plan& plan, entry_vector* entries);

  caf::error read_segment_records(load_plan& plan, segment_scan& scan,
                                  bool is_last, detail::entry_decoder& decoder,
                                  term_t& prev_term, entry_vector* entries);

  void reconcile_with_snapshot(load_plan& plan, entry_vector* entries);

  caf::error repair(load_plan& plan);

  void install_index(load_plan& plan);

  caf::error ensure_open();

  caf::error fail(caf::error err);

  caf::error refuse() const;

  caf::error write_metadata(const hard_state& st, const snapshot_meta& base,
                            uint64_t generation,
                            const cluster_configuration& conf);

  caf::error truncate_suffix(index_t from);

  caf::error append(const entry_vector& entries);

  caf::error start_segment(index_t first);

  caf::error open_for_append(segment& seg);

  caf::error remove_segment_file(segment& seg);

  caf::error read_locked(index_t from, index_t to, entry_vector& out);

  void close_all();

  index_t last_index_locked() const;

  term_t term_at(index_t index) const;

  void trim_term_runs_front(index_t first_kept);

  void trim_term_runs_back(index_t first_removed);

  void note_term(index_t index, term_t term);

  // -- state -------------------------------------------------------------------------

  mutable std::mutex mtx_;
  std::string dir_;
  file_storage_options opts_;
  file_io* io_;
  caf::error config_error_;

  bool open_ = false;
  bool failed_ = false;
  caf::error failure_;

  hard_state state_;
  /// Invariant: every stored entry with index <= base_.last_index is ignored.
  snapshot_meta base_;
  uint64_t generation_ = 0;
  /// The stored bootstrap configuration (write_batch::bootstrap).
  cluster_configuration bootstrap_;
  std::deque<segment> segments_;
  /// Invariant: runs cover exactly the stored entries after the base.
  std::vector<term_run> term_runs_;
  /// Exclusive use of dir_ (<dir>/LOCK, flock), from the first load or
  /// write until destruction: a second member on the directory is refused.
  std::unique_ptr<detail::dir_lock> lock_;

  std::unique_ptr<detail::entry_encoder> encoder_;
  /// Reused for encoding batches and reading records: no allocation per entry.
  std::vector<char> buf_;
  std::vector<size_t> frame_pos_;
  std::vector<char> read_buf_;
  std::vector<std::string> warnings_;
};

} // namespace raft
