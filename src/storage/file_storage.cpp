#include "raft/storage/file_storage.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "raft/errc.hpp"

#include "dir_lock.hpp"
#include "disk_format.hpp"
#include "fs_util.hpp"
#include "record_codec.hpp"

namespace raft {

namespace {

constexpr char metadata_name[] = "metadata";
constexpr char segment_prefix[] = "log-";
constexpr size_t segment_prefix_len = 4;
constexpr size_t index_digits = 20;

/// Record offsets are 32-bit: no segment file may reach 4 GiB.
constexpr uint64_t max_segment_file = UINT32_MAX;

std::string segment_name(index_t first) {
  return segment_prefix + detail::fixed_decimal(first);
}

/// Parses "log-<20 digits>" (tmp = false) or "log-<20 digits>.tmp".
bool parse_segment_name(const std::string& name, index_t& first, bool& tmp) {
  if (name.compare(0, segment_prefix_len, segment_prefix) != 0)
    return false;
  auto end = segment_prefix_len + index_digits;
  if (!detail::parse_fixed_decimal(name, segment_prefix_len, index_digits,
                                   first))
    return false;
  if (name.size() == end) {
    tmp = false;
    return true;
  }
  if (name.compare(end, std::string::npos, ".tmp") == 0) {
    tmp = true;
    return true;
  }
  return false;
}

caf::error corrupt(const std::string& path, uint64_t offset,
                   const std::string& what) {
  return make_error(errc::corrupt_record, path + ": " + what
                                            + " at byte offset "
                                            + std::to_string(offset));
}

caf::error invalid_batch(const std::string& what) {
  return make_error(errc::storage_failure, "invalid write batch: " + what);
}

std::string str(uint64_t x) {
  return std::to_string(x);
}

/// An exception (bad_alloc, say) turned into an error: never crash the
/// log writer.
caf::error unexpected(const std::exception& ex) {
  return make_error(errc::storage_failure,
                    std::string{"unexpected exception: "} + ex.what());
}

} // namespace

// -- construction ---------------------------------------------------------------

file_storage::file_storage(std::string dir, file_storage_options opts)
  : dir_(std::move(dir)),
    opts_(std::move(opts)),
    encoder_(std::make_unique<detail::entry_encoder>()) {
  if (!opts_.io)
    opts_.io = default_file_io();
  io_ = opts_.io.get();
  if (dir_.empty())
    config_error_ = make_error(errc::invalid_config,
                               "file_storage: empty directory name");
  else if (opts_.segment_bytes < 64 || opts_.segment_bytes > (1u << 30))
    config_error_ = make_error(errc::invalid_config,
                               "file_storage: segment_bytes must be within "
                               "[64, 2^30], got "
                                 + str(opts_.segment_bytes));
}

file_storage::~file_storage() {
  close_all();
}

// -- storage interface ---------------------------------------------------------------

caf::expected<recovered_state> file_storage::load() {
  std::lock_guard<std::mutex> guard{mtx_};
  return load_locked(nullptr);
}

caf::expected<recovered_state>
file_storage::load_after(const snapshot_meta& snap) {
  std::lock_guard<std::mutex> guard{mtx_};
  return load_locked(&snap);
}

caf::expected<recovered_state>
file_storage::load_locked(const snapshot_meta* snap) {
  if (config_error_)
    return config_error_;
  if (failed_)
    return refuse();
  try {
    recovered_state out;
    if (auto err = open_locked(&out.entries, snap))
      return err;
    out.state = state_;
    out.snapshot = base_;
    out.configuration = bootstrap_;
    return out;
  } catch (std::exception& ex) {
    // E.g. bad_alloc for a huge log: nothing was changed on disk, but the
    // index may be half built; start over on the next call.
    open_ = false;
    return unexpected(ex);
  }
}

caf::error file_storage::write(const write_batch& batch) {
  std::lock_guard<std::mutex> guard{mtx_};
  try {
    return write_locked(batch);
  } catch (std::exception& ex) {
    return fail(unexpected(ex));
  }
}

caf::error file_storage::write_locked(const write_batch& batch) {
  if (auto err = ensure_open())
    return err;
  if (failed_)
    return refuse();
  // Check the whole batch before touching the disk.
  auto last = last_index_locked();
  auto next = last + 1;
  index_t cut = 0;
  if (batch.truncate_from != 0) {
    // Entries up to the base are gone already (as in memory_storage).
    cut = std::max(batch.truncate_from, base_.last_index + 1);
    if (cut <= last)
      next = cut;
    else
      cut = 0;
  }
  if (batch.has_state && batch.state.current_term < state_.current_term)
    return invalid_batch("current term would go back from "
                         + str(state_.current_term) + " to "
                         + str(batch.state.current_term));
  if (batch.bootstrap) {
    if (auto err = check(*batch.bootstrap))
      return invalid_batch("bootstrap configuration: "
                           + detail::context_text(err));
  }
  auto max_term = batch.has_state ? batch.state.current_term
                                  : state_.current_term;
  auto prev_term = next - 1 > base_.last_index ? term_at(next - 1)
                                               : base_.last_term;
  for (size_t i = 0; i < batch.entries.size(); ++i) {
    auto& e = batch.entries[i];
    if (e.index != next + i)
      return invalid_batch("non-contiguous append at index " + str(e.index)
                           + ", expected " + str(next + i));
    // Figure 2's log only ever holds terms in ascending order, none newer
    // than the member's current term.
    if (e.term < prev_term)
      return invalid_batch("entry " + str(e.index) + " has term "
                           + str(e.term) + ", lower than its predecessor's "
                           + str(prev_term));
    if (e.term > max_term)
      return invalid_batch("entry " + str(e.index) + " has term "
                           + str(e.term) + ", newer than the current term "
                           + str(max_term));
    prev_term = e.term;
  }
  // Hard state first: on a crash in between, no stored entry is ever newer
  // than the stored current term. The bootstrap configuration goes in the
  // same metadata write.
  if (batch.has_state || batch.bootstrap) {
    const auto& st = batch.has_state ? batch.state : state_;
    const auto& conf = batch.bootstrap ? *batch.bootstrap : bootstrap_;
    if (auto err = write_metadata(st, base_, generation_, conf))
      return fail(std::move(err));
    state_ = st;
    bootstrap_ = conf;
  }
  if (cut != 0) {
    if (auto err = truncate_suffix(cut))
      return fail(std::move(err));
  }
  if (!batch.entries.empty()) {
    if (auto err = append(batch.entries))
      return fail(std::move(err));
  }
  return caf::none;
}

caf::expected<entry_vector> file_storage::read(index_t from, index_t to) {
  std::lock_guard<std::mutex> guard{mtx_};
  try {
    return read_range(from, to);
  } catch (std::exception& ex) {
    return unexpected(ex);
  }
}

caf::expected<entry_vector> file_storage::read_range(index_t from,
                                                     index_t to) {
  if (auto err = ensure_open())
    return err;
  auto first = base_.last_index + 1;
  auto last = last_index_locked();
  if (from < first || to > last || from > to)
    return make_error(errc::storage_failure,
                      "read of [" + str(from) + ", " + str(to)
                        + "] outside the stored log [" + str(first) + ", "
                        + str(last) + "]");
  entry_vector out;
  if (auto err = read_locked(from, to, out))
    return err;
  return out;
}

caf::error file_storage::compact(snapshot_meta meta) {
  std::lock_guard<std::mutex> guard{mtx_};
  try {
    return compact_locked(meta);
  } catch (std::exception& ex) {
    return fail(unexpected(ex));
  }
}

caf::error file_storage::compact_locked(snapshot_meta meta) {
  if (auto err = ensure_open())
    return err;
  if (failed_)
    return refuse();
  if (meta.last_index <= base_.last_index)
    return caf::none;
  if (meta.last_term > state_.current_term)
    return make_error(errc::storage_failure,
                      "compact: snapshot term " + str(meta.last_term)
                        + " is newer than the current term "
                        + str(state_.current_term));
  if (meta.last_index <= last_index_locked()
      && term_at(meta.last_index) != meta.last_term)
    return make_error(errc::storage_failure,
                      "compact: entry " + str(meta.last_index) + " has term "
                        + str(term_at(meta.last_index))
                        + " but the snapshot says " + str(meta.last_term));
  // The new base is durable before any entry it covers disappears.
  if (auto err = write_metadata(state_, meta, generation_, bootstrap_))
    return fail(std::move(err));
  base_ = meta;
  bool removed = false;
  while (!segments_.empty()) {
    auto& s = segments_.front();
    bool covered = segments_.size() > 1
                     ? segments_[1].first <= meta.last_index + 1
                     : s.first + s.offsets.size() <= meta.last_index + 1;
    if (!covered)
      break;
    if (s.fd >= 0) {
      io_->close(s.fd);
      s.fd = -1;
    }
    if (io_->unlink(s.path) != 0)
      return fail(detail::io_failure("unlink", s.path, errno));
    segments_.pop_front();
    removed = true;
  }
  // A crash before this fsync may leave some covered segments behind (even
  // a later one without an earlier one): load() ignores and removes them.
  if (removed && opts_.sync) {
    if (auto err = detail::sync_dir(*io_, dir_))
      return fail(detail::io_failure("fsync directory", dir_, err));
  }
  trim_term_runs_front(meta.last_index + 1);
  return caf::none;
}

caf::error file_storage::reset(snapshot_meta meta) {
  std::lock_guard<std::mutex> guard{mtx_};
  try {
    return reset_locked(meta);
  } catch (std::exception& ex) {
    return fail(unexpected(ex));
  }
}

caf::error file_storage::reset_locked(snapshot_meta meta) {
  if (auto err = ensure_open())
    return err;
  if (failed_)
    return refuse();
  if (meta.last_term > state_.current_term)
    return make_error(errc::storage_failure,
                      "reset: snapshot term " + str(meta.last_term)
                        + " is newer than the current term "
                        + str(state_.current_term));
  // The metadata's new generation is the commit point: from here on, every
  // existing segment is garbage, even if a crash stops the unlinks below.
  if (auto err = write_metadata(state_, meta, generation_ + 1,
                                bootstrap_))
    return fail(std::move(err));
  ++generation_;
  base_ = meta;
  bool removed = false;
  while (!segments_.empty()) {
    auto& s = segments_.back();
    if (s.fd >= 0) {
      io_->close(s.fd);
      s.fd = -1;
    }
    if (io_->unlink(s.path) != 0)
      return fail(detail::io_failure("unlink", s.path, errno));
    segments_.pop_back();
    removed = true;
  }
  if (removed && opts_.sync) {
    if (auto err = detail::sync_dir(*io_, dir_))
      return fail(detail::io_failure("fsync directory", dir_, err));
  }
  term_runs_.clear();
  return caf::none;
}

// -- observers ---------------------------------------------------------------------

index_t file_storage::first_index() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return base_.last_index + 1;
}

index_t file_storage::last_index() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return last_index_locked();
}

size_t file_storage::segment_count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return segments_.size();
}

std::vector<std::string> file_storage::warnings() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return warnings_;
}

bool file_storage::failed() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return failed_;
}

// -- recovery --------------------------------------------------------------------------

/// What load() learns about a segment file before trusting it.
struct file_storage::segment_scan {
  index_t first = 0;
  std::string path;
  detail::segment_header header;
  uint64_t size = 0;
  /// From an older generation (before a reset): garbage.
  bool stale = false;
  /// Wholly covered by the base: garbage.
  bool covered = false;
  /// Wholly before the snapshot of load_after(): not read (garbage once the
  /// reconciliation is written).
  bool below_snapshot = false;
  /// Discarded by load_after()'s reconciliation (reported once, not per file).
  bool reset_by_snapshot = false;
  std::vector<uint32_t> offsets;
  /// A torn tail starts here (last segment only); 0: none.
  uint64_t cut = 0;
};

/// Everything load() finds, phase by phase, before it changes anything.
struct file_storage::load_plan {
  /// Temporary files of interrupted updates.
  std::vector<std::string> garbage;
  /// Every segment file, in index order.
  std::vector<segment_scan> scans;
  /// The segments of the current generation, in index order.
  std::vector<segment_scan*> live;
  bool have_metadata = false;
  /// No metadata and no segments: a new log (metadata written on repair).
  bool fresh = false;
  detail::metadata_record meta;
  /// load_after(): the newest durable snapshot, if it is beyond the base.
  const snapshot_meta* snap = nullptr;
  /// The term of the log's entry at the snapshot's last index (0: none).
  term_t term_at_snap = 0;
  /// The reconciliation changed `meta`: write it before removing anything.
  bool rewrite_metadata = false;
  /// Why the reconciliation reset the log, for the warnings (empty: it did not).
  std::string reset_note;
};

// Recovery runs in six phases, each a function below; only the fifth
// changes the disk, and only once the first four found nothing corrupt.
// With a snapshot (load_after), phase 4 skips what it covers and decides
// how the log continues it (4b); phase 5 writes that decision first.
caf::error file_storage::open_locked(entry_vector* entries,
                                     const snapshot_meta* snap) {
  close_all();
  segments_.clear();
  term_runs_.clear();
  warnings_.clear();
  open_ = false;
  load_plan plan;
  if (auto err = take_inventory(plan))
    return err;
  if (auto err = read_metadata(plan))
    return err;
  if (snap != nullptr && snap->last_index > plan.meta.base.last_index)
    plan.snap = snap;
  if (auto err = read_segment_headers(plan))
    return err;
  if (auto err = read_records(plan, entries))
    return err;
  reconcile_with_snapshot(plan, entries);
  if (auto err = repair(plan))
    return err;
  install_index(plan);
  open_ = true;
  return caf::none;
}

// 1. Which files are there: metadata, segments, leftovers.
caf::error file_storage::take_inventory(load_plan& plan) {
  if (auto err = detail::make_dirs(*io_, dir_, opts_.sync))
    return detail::io_failure("create directory", dir_, err);
  if (!lock_)
    lock_ = std::make_unique<detail::dir_lock>();
  if (auto err = lock_->acquire(dir_))
    return err;
  int list_err = 0;
  auto names = detail::list_dir(dir_, list_err);
  if (list_err != 0)
    return detail::io_failure("list directory", dir_, list_err);
  for (auto& name : names) {
    index_t first = 0;
    bool tmp = false;
    if (name == metadata_name)
      plan.have_metadata = true;
    else if (name == std::string{metadata_name} + ".tmp")
      plan.garbage.push_back(detail::join(dir_, name));
    else if (parse_segment_name(name, first, tmp)) {
      if (tmp) {
        plan.garbage.push_back(detail::join(dir_, name));
      } else {
        segment_scan scan;
        scan.first = first;
        scan.path = detail::join(dir_, name);
        plan.scans.push_back(std::move(scan));
      }
    }
  }
  std::sort(plan.scans.begin(), plan.scans.end(),
            [](const segment_scan& x, const segment_scan& y) {
              return x.first < y.first;
            });
  return caf::none;
}

// 2. The metadata: hard state, base, generation.
caf::error file_storage::read_metadata(load_plan& plan) {
  auto& meta = plan.meta;
  auto meta_path = detail::join(dir_, metadata_name);
  if (!plan.have_metadata) {
    if (!plan.scans.empty())
      return make_error(errc::corrupt_record,
                        meta_path + ": missing, but " + str(plan.scans.size())
                          + " log segments exist (first: "
                          + plan.scans[0].path + ")");
    plan.fresh = true;
    return caf::none;
  }
  std::vector<char> bytes;
  if (auto err = detail::read_file(*io_, meta_path, bytes))
    return detail::io_failure("read", meta_path, err);
  size_t off = 0;
  size_t len = 0;
  size_t conf_off = 0;
  size_t conf_len = 0;
  size_t err_off = 0;
  std::string why;
  if (!detail::decode_metadata_file(bytes.data(), bytes.size(), off, len,
                                    conf_off, conf_len, why, err_off))
    return corrupt(meta_path, err_off, why);
  if (!detail::decode_metadata(bytes.data() + off, len, meta, why))
    return corrupt(meta_path, off, why);
  meta.configuration = cluster_configuration{};
  if (conf_len > 0) {
    auto conf = decode_configuration(
      payload{std::string{bytes.data() + conf_off, conf_len}});
    if (!conf)
      return corrupt(meta_path, conf_off,
                     "bad bootstrap configuration ("
                       + detail::context_text(conf.error()) + ")");
    meta.configuration = std::move(*conf);
  }
  if (meta.base.last_term > meta.state.current_term)
    return corrupt(meta_path, off,
                   "base term " + str(meta.base.last_term)
                     + " is newer than the current term "
                     + str(meta.state.current_term));
  return caf::none;
}

// 3. Each segment's header; older generations are garbage.
caf::error file_storage::read_segment_headers(load_plan& plan) {
  auto& bytes = read_buf_;
  for (auto& scan : plan.scans) {
    int fd = io_->open(scan.path, O_RDONLY);
    if (fd < 0)
      return detail::io_failure("open", scan.path, errno);
    auto size = io_->file_size(fd);
    auto want = std::min<uint64_t>(size < 0 ? 0 : static_cast<uint64_t>(size),
                                   detail::segment_fixed_header
                                     + detail::max_prototype + 4);
    bytes.resize(want);
    auto got = detail::read_all(*io_, fd, bytes.data(), want, 0);
    auto read_err = errno;
    io_->close(fd);
    if (size < 0 || got < 0)
      return detail::io_failure("read", scan.path, read_err);
    scan.size = static_cast<uint64_t>(size);
    size_t err_off = 0;
    std::string why;
    if (!detail::decode_segment_header(bytes.data(), static_cast<size_t>(got),
                                       scan.header, why, err_off))
      return corrupt(scan.path, err_off, why);
    if (scan.header.first_index != scan.first)
      return corrupt(scan.path, 16,
                     "header names first index "
                       + str(scan.header.first_index)
                       + " but the file name says " + str(scan.first));
    if (scan.header.generation > plan.meta.generation)
      return corrupt(scan.path, 24,
                     "generation " + str(scan.header.generation)
                       + " is newer than the metadata's "
                       + str(plan.meta.generation));
    if (scan.size > max_segment_file)
      return corrupt(scan.path, max_segment_file, "segment larger than 4 GiB");
    scan.stale = scan.header.generation < plan.meta.generation;
  }
  for (auto& scan : plan.scans)
    if (!scan.stale)
      plan.live.push_back(&scan);
  // A segment is wholly covered by the base if the next one starts at or
  // before base + 1; the last one only if its last entry is <= base.
  auto& live = plan.live;
  for (size_t i = 0; i + 1 < live.size(); ++i)
    live[i]->covered = live[i + 1]->first <= plan.meta.base.last_index + 1;
  // Every entry of a segment is before the snapshot's last one if the next
  // segment starts at or before it.
  if (plan.snap != nullptr)
    for (size_t i = 0; i + 1 < live.size(); ++i)
      live[i]->below_snapshot = live[i + 1]->first <= plan.snap->last_index;
  return caf::none;
}

// 4. The records of the live segments, in index order: the log must be
// contiguous from the base on, and every record must check out.
caf::error file_storage::read_records(load_plan& plan, entry_vector* entries) {
  auto& live = plan.live;
  auto base = plan.meta.base;
  detail::entry_decoder decoder;
  index_t expect = 0;   // index the next segment must start at (0: any)
  term_t prev_term = 0; // terms never decrease along the log
  // Record bytes in the segments not read yet. Once one segment is read, the
  // entries vector is reserved for the rest at that segment's mean record
  // size: growing it by doubling instead would touch up to twice its final
  // size in fresh pages and move every entry again (for 1M entries: ~20
  // reallocations, up to 80 MB). A low estimate just falls back to growing.
  uint64_t bytes_ahead = 0;
  for (auto scan : live)
    if (!scan->covered && !scan->below_snapshot
        && scan->size > scan->header.size)
      bytes_ahead += scan->size - scan->header.size;
  bool reserved = entries == nullptr;
  for (size_t i = 0; i < live.size(); ++i) {
    auto& scan = *live[i];
    if (scan.covered || scan.below_snapshot)
      continue;
    bool is_last = i + 1 == live.size();
    if (expect == 0) {
      // Skipped segments below the snapshot may leave a gap before this one:
      // the snapshot covers it.
      auto from = plan.snap != nullptr ? std::max(base.last_index,
                                                  plan.snap->last_index)
                                       : base.last_index;
      if (scan.first > from + 1)
        return corrupt(scan.path, 16,
                       "log starts at index " + str(scan.first) + " but "
                         + (from == base.last_index ? "the metadata's base"
                                                    : "the snapshot")
                         + " ends at " + str(from) + " (entries "
                         + str(from + 1) + " to " + str(scan.first - 1)
                         + " are missing)");
    } else if (scan.first != expect) {
      return corrupt(scan.path, 16,
                     (scan.first > expect ? "gap: entries " + str(expect)
                                              + " to " + str(scan.first - 1)
                                              + " are missing"
                                          : "overlap: segment starts at "
                                              + str(scan.first)
                                              + " but the previous one ends "
                                                "at "
                                              + str(expect - 1)));
    }
    if (auto err = read_segment_records(plan, scan, is_last, decoder,
                                        prev_term, entries))
      return err;
    auto record_bytes = (scan.cut != 0 ? scan.cut : scan.size)
                        - scan.header.size;
    bytes_ahead -= std::min(bytes_ahead, scan.size > scan.header.size
                                           ? scan.size - scan.header.size
                                           : uint64_t{0});
    if (!reserved && !scan.offsets.empty() && bytes_ahead > 0) {
      reserved = true;
      auto mean = std::max<uint64_t>(1, record_bytes / scan.offsets.size());
      auto more = bytes_ahead / mean;
      entries->reserve(entries->size() + more + more / 16 + 16);
    }
    expect = scan.first + scan.offsets.size();
    if (is_last && expect - 1 <= base.last_index)
      scan.covered = true; // every entry of the log is in the snapshot
  }
  // A high estimate (small records first, large ones later) reserved more
  // than needed: give back what is far beyond the entries (rare).
  if (entries != nullptr && entries->capacity() > 2 * entries->size() + 1024)
    entries->shrink_to_fit();
  return caf::none;
}

// 4a. One segment's records. A damaged frame at the end of the last segment
// is a torn tail (cut in phase 5); anywhere else it is corruption.
caf::error file_storage::read_segment_records(load_plan& plan,
                                              segment_scan& scan, bool is_last,
                                              detail::entry_decoder& decoder,
                                              term_t& prev_term,
                                              entry_vector* entries) {
  auto& bytes = read_buf_;
  auto base = plan.meta.base;
  auto current_term = plan.meta.state.current_term;
  int fd = io_->open(scan.path, O_RDONLY);
  if (fd < 0)
    return detail::io_failure("open", scan.path, errno);
  bytes.resize(scan.size);
  auto got = detail::read_all(*io_, fd, bytes.data(), bytes.size(), 0);
  auto read_err = errno;
  io_->close(fd);
  if (got < 0)
    return detail::io_failure("read", scan.path, read_err);
  auto n = static_cast<size_t>(got);
  auto data = bytes.data();
  std::string why;
  if (!decoder.prime(scan.header.prototype.data(),
                     scan.header.prototype.size(), why))
    return corrupt(scan.path, detail::segment_fixed_header, why);
  log_entry entry;
  size_t off = scan.header.size;
  while (off < n) {
    uint32_t len = 0;
    if (!detail::check_frame(data, n, off, len, why)) {
      if (is_last) {
        std::string damage;
        if (detail::is_torn_tail(data, n, off, damage)) {
          scan.cut = off;
          break;
        }
        return corrupt(scan.path, off, damage);
      }
      return corrupt(scan.path, off, why + " (not in the last segment)");
    }
    if (!decoder.decode(data + off + detail::frame_header, len, entry, why))
      return corrupt(scan.path, off, why);
    auto want = scan.first + scan.offsets.size();
    if (entry.index != want)
      return corrupt(scan.path, off,
                     "record holds index " + str(entry.index) + ", expected "
                       + str(want));
    if (entry.term < prev_term)
      return corrupt(scan.path, off,
                     "entry " + str(entry.index) + " has term "
                       + str(entry.term) + ", lower than its predecessor's "
                       + str(prev_term));
    prev_term = entry.term;
    if (entry.index == base.last_index && entry.term != base.last_term)
      return corrupt(scan.path, off,
                     "entry " + str(entry.index) + " has term "
                       + str(entry.term) + " but the metadata's base says "
                       + str(base.last_term));
    if (entry.index > base.last_index) {
      if (entry.term < base.last_term)
        return corrupt(scan.path, off,
                       "entry " + str(entry.index) + " has term "
                         + str(entry.term) + ", lower than the base's "
                         + str(base.last_term));
      if (entry.term > current_term)
        return corrupt(scan.path, off,
                       "entry " + str(entry.index) + " has term "
                         + str(entry.term)
                         + ", newer than the metadata's current term "
                         + str(current_term));
      if (plan.snap != nullptr && entry.index <= plan.snap->last_index) {
        // Covered by the snapshot: only its term matters (phase 4b).
        if (entry.index == plan.snap->last_index)
          plan.term_at_snap = entry.term;
      } else {
        note_term(entry.index, entry.term);
        if (entries != nullptr)
          entries->push_back(std::move(entry));
      }
    }
    scan.offsets.push_back(static_cast<uint32_t>(off));
    off += detail::frame_header + len;
  }
  return caf::none;
}

// 4b. load_after(): how the log continues the snapshot, decided as
// reconcile() (recovery.hpp) would, and written in phase 5 before any file
// goes. §5.1: a snapshot term above the stored current term is adopted (a
// crash lost the hard state that held it). §7, Figure 13 receiver 6: if the
// log holds the snapshot's last entry with its term, the entries after it
// stay (compaction); receiver 7: otherwise the whole log goes (reset).
void file_storage::reconcile_with_snapshot(load_plan& plan,
                                           entry_vector* entries) {
  if (plan.snap == nullptr)
    return;
  auto& snap = *plan.snap;
  auto& meta = plan.meta;
  if (snap.last_term > meta.state.current_term)
    meta.state = hard_state{snap.last_term, {}};
  meta.base = snap;
  plan.rewrite_metadata = true;
  auto& live = plan.live;
  if (plan.term_at_snap == snap.last_term) {
    for (size_t i = 0; i < live.size(); ++i) {
      auto& scan = *live[i];
      scan.covered = i + 1 < live.size()
                       ? live[i + 1]->first <= snap.last_index + 1
                       : scan.first + scan.offsets.size() <= snap.last_index + 1;
    }
    return;
  }
  ++meta.generation;
  for (auto scan : live) {
    scan->stale = true;
    scan->reset_by_snapshot = true;
  }
  live.clear();
  plan.reset_note = "log reset to continue the snapshot at "
                    + str(snap.last_index) + " (term " + str(snap.last_term)
                    + "): the log "
                    + (plan.term_at_snap == 0
                         ? std::string{"does not reach that index"}
                         : "holds term " + str(plan.term_at_snap) + " there");
  term_runs_.clear();
  if (entries != nullptr)
    entries->clear();
}

// 5. Repairs, only now that everything checked out: leftovers and garbage
// segments removed, a torn tail cut, a fresh log's metadata written.
caf::error file_storage::repair(load_plan& plan) {
  bool removed = false;
  auto warn = [&](std::string line) {
    std::fprintf(stderr, "raft: warning: %s\n", line.c_str());
    warnings_.push_back(std::move(line));
  };
  for (auto& path : plan.garbage) {
    if (io_->unlink(path) != 0)
      return fail(detail::io_failure("unlink", path, errno));
    warn(path + ": removed (left over from an interrupted update)");
    removed = true;
  }
  // The reconciliation with a snapshot is the commit point of what follows
  // (after the leftovers went: writing the metadata reuses metadata.tmp): a
  // crash after it leaves garbage that the next load removes.
  if (plan.rewrite_metadata) {
    auto& meta = plan.meta;
    if (auto err = write_metadata(meta.state, meta.base, meta.generation,
                                  meta.configuration))
      return fail(std::move(err));
    if (!plan.reset_note.empty())
      warn(dir_ + ": " + plan.reset_note);
  }
  for (auto& scan : plan.scans) {
    if (!scan.stale && !scan.covered)
      continue;
    if (io_->unlink(scan.path) != 0)
      return fail(detail::io_failure("unlink", scan.path, errno));
    if (scan.stale && !scan.reset_by_snapshot)
      warn(scan.path + ": removed (from before a reset)");
    removed = true;
  }
  if (removed && opts_.sync) {
    if (auto err = detail::sync_dir(*io_, dir_))
      return fail(detail::io_failure("fsync directory", dir_, err));
  }
  for (auto scan : plan.live) {
    if (scan->covered || scan->cut == 0)
      continue;
    int fd = io_->open(scan->path, O_RDWR);
    if (fd < 0)
      return fail(detail::io_failure("open", scan->path, errno));
    int err = 0;
    const char* what = "ftruncate";
    if (io_->ftruncate(fd, scan->cut) != 0)
      err = errno;
    else if (opts_.sync && io_->fdatasync(fd) != 0) {
      err = errno;
      what = "fdatasync";
    }
    io_->close(fd);
    if (err != 0)
      return fail(detail::io_failure(what, scan->path, err));
    warn(scan->path + ": torn tail cut at byte offset " + str(scan->cut)
         + " (" + str(scan->size - scan->cut)
         + " bytes of an incomplete write)");
    scan->size = scan->cut;
  }
  if (plan.fresh && !plan.rewrite_metadata) {
    auto& meta = plan.meta;
    if (auto err = write_metadata(meta.state, meta.base, meta.generation,
                                  meta.configuration))
      return fail(std::move(err));
  }
  return caf::none;
}

// 6. The in-memory index of what was loaded.
void file_storage::install_index(load_plan& plan) {
  state_ = plan.meta.state;
  base_ = plan.meta.base;
  generation_ = plan.meta.generation;
  bootstrap_ = plan.meta.configuration;
  for (auto scan : plan.live) {
    if (scan->covered)
      continue;
    segment seg;
    seg.first = scan->first;
    seg.path = std::move(scan->path);
    seg.size = scan->size;
    seg.offsets = std::move(scan->offsets);
    seg.prototype = std::move(scan->header.prototype);
    segments_.push_back(std::move(seg));
  }
  if (read_buf_.capacity() > (1u << 20)) {
    // Don't keep a whole segment's buffer around after recovery.
    std::vector<char>{}.swap(read_buf_);
  }
}

caf::error file_storage::ensure_open() {
  if (config_error_)
    return config_error_;
  if (open_)
    return caf::none;
  if (failed_)
    return refuse();
  return open_locked(nullptr);
}

// -- failures ----------------------------------------------------------------------------

caf::error file_storage::fail(caf::error err) {
  if (!failed_) {
    failed_ = true;
    failure_ = err;
  }
  return err;
}

caf::error file_storage::refuse() const {
  return make_error(errc::storage_failure,
                    "refused: the storage in " + dir_
                      + " failed earlier and accepts no more writes ("
                      + detail::context_text(failure_) + "); restart the member");
}

// -- updates -----------------------------------------------------------------------------

caf::error file_storage::write_metadata(const hard_state& st,
                                        const snapshot_meta& base,
                                        uint64_t generation,
                                        const cluster_configuration& conf) {
  detail::metadata_record rec;
  rec.state = st;
  rec.base = base;
  rec.generation = generation;
  std::string conf_bytes;
  if (!conf.empty())
    conf_bytes = encode_configuration(conf).bytes();
  auto bytes = detail::encode_metadata_file(detail::encode_metadata(rec),
                                            conf_bytes);
  return detail::replace_file(*io_, dir_, metadata_name, bytes.data(),
                              bytes.size(), opts_.sync);
}

caf::error file_storage::truncate_suffix(index_t from) {
  // Every crash state must be a prefix of the old log: unlink the later
  // segments from the back, each durably, then cut the one holding `from`.
  while (!segments_.empty() && segments_.back().first >= from) {
    if (auto err = remove_segment_file(segments_.back()))
      return err;
    segments_.pop_back();
  }
  if (!segments_.empty()) {
    auto& s = segments_.back();
    if (from <= s.last() && !s.offsets.empty()) {
      auto keep = static_cast<size_t>(from - s.first);
      uint64_t new_size = s.offsets[keep];
      if (auto err = open_for_append(s))
        return err;
      if (io_->ftruncate(s.fd, new_size) != 0)
        return detail::io_failure("ftruncate", s.path, errno);
      // Durable before new entries go to the same place: otherwise a crash
      // could leave new records followed by old ones.
      if (opts_.sync && io_->fdatasync(s.fd) != 0)
        return detail::io_failure("fdatasync", s.path, errno);
      s.offsets.resize(keep);
      s.size = new_size;
    }
  }
  trim_term_runs_back(from);
  return caf::none;
}

caf::error file_storage::append(const entry_vector& entries) {
  // Encode the whole batch into one buffer (reused: no allocation per entry).
  buf_.clear();
  frame_pos_.clear();
  for (auto& e : entries) {
    auto pos = detail::begin_frame(buf_);
    encoder_->encode(e, buf_);
    if (buf_.size() - pos - detail::frame_header > UINT32_MAX)
      return make_error(errc::storage_failure,
                        "entry " + str(e.index) + " is too large ("
                          + str(e.data.size()) + " bytes)");
    detail::seal_frame(buf_, pos);
    frame_pos_.push_back(pos);
  }
  auto first = entries.front().index;
  segment* s = segments_.empty() ? nullptr : &segments_.back();
  bool rotate = s == nullptr || s->prototype != encoder_->prototype()
                || s->first + s->offsets.size() != first
                || (!s->offsets.empty()
                    && s->size + buf_.size() > opts_.segment_bytes)
                || s->size + buf_.size() > max_segment_file;
  if (rotate) {
    if (auto err = start_segment(first))
      return err;
    s = &segments_.back();
  }
  if (s->size + buf_.size() > max_segment_file)
    return make_error(errc::storage_failure,
                      "batch of " + str(buf_.size())
                        + " bytes does not fit in a segment file");
  if (auto err = open_for_append(*s))
    return err;
  // ONE write and ONE fdatasync for the whole batch.
  if (auto err = detail::write_all(*io_, s->fd, buf_.data(), buf_.size(),
                                   s->size))
    return detail::io_failure("write", s->path, err);
  if (opts_.sync && io_->fdatasync(s->fd) != 0)
    return detail::io_failure("fdatasync", s->path, errno);
  for (auto pos : frame_pos_)
    s->offsets.push_back(static_cast<uint32_t>(s->size + pos));
  s->size += buf_.size();
  for (auto& e : entries)
    note_term(e.index, e.term);
  return caf::none;
}

caf::error file_storage::start_segment(index_t first) {
  auto path = detail::join(dir_, segment_name(first));
  auto tmp = path + ".tmp";
  auto header = detail::encode_segment_header(first, generation_,
                                              encoder_->prototype());
  // The header is complete and durable before the name appears: a segment
  // file under its final name always has a whole header.
  int fd = io_->open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    return detail::io_failure("open", tmp, errno);
  if (auto err = detail::write_all(*io_, fd, header.data(), header.size(), 0)) {
    io_->close(fd);
    return detail::io_failure("write", tmp, err);
  }
  if (opts_.sync && io_->fdatasync(fd) != 0) {
    auto err = errno;
    io_->close(fd);
    return detail::io_failure("fdatasync", tmp, err);
  }
  if (io_->rename(tmp, path) != 0) {
    auto err = errno;
    io_->close(fd);
    return detail::io_failure("rename to " + path + " from", tmp, err);
  }
  if (opts_.sync) {
    if (auto err = detail::sync_dir(*io_, dir_)) {
      io_->close(fd);
      return detail::io_failure("fsync directory", dir_, err);
    }
  }
  if (!segments_.empty()) {
    auto& back = segments_.back();
    if (back.fd >= 0) {
      io_->close(back.fd);
      back.fd = -1;
    }
    // An empty segment with the same first index was just replaced by the
    // rename (e.g. one written with an older archive prototype).
    if (back.first == first && back.offsets.empty())
      segments_.pop_back();
  }
  segment seg;
  seg.first = first;
  seg.path = std::move(path);
  seg.size = header.size();
  seg.prototype = encoder_->prototype();
  seg.fd = fd;
  segments_.push_back(std::move(seg));
  return caf::none;
}

caf::error file_storage::open_for_append(segment& seg) {
  if (seg.fd >= 0)
    return caf::none;
  seg.fd = io_->open(seg.path, O_RDWR);
  if (seg.fd < 0)
    return detail::io_failure("open", seg.path, errno);
  return caf::none;
}

caf::error file_storage::remove_segment_file(segment& seg) {
  if (seg.fd >= 0) {
    io_->close(seg.fd);
    seg.fd = -1;
  }
  if (io_->unlink(seg.path) != 0)
    return detail::io_failure("unlink", seg.path, errno);
  if (opts_.sync) {
    if (auto err = detail::sync_dir(*io_, dir_))
      return detail::io_failure("fsync directory", dir_, err);
  }
  return caf::none;
}

// -- reading ---------------------------------------------------------------------

caf::error file_storage::read_locked(index_t from, index_t to,
                                     entry_vector& out) {
  out.reserve(static_cast<size_t>(to - from + 1));
  // The segment holding `from`: the last one starting at or before it.
  auto it = std::upper_bound(segments_.begin(), segments_.end(), from,
                             [](index_t i, const segment& s) {
                               return i < s.first;
                             });
  if (it == segments_.begin())
    return make_error(errc::storage_failure,
                      "no segment holds entry " + str(from));
  --it;
  detail::entry_decoder decoder;
  log_entry entry;
  for (auto i = from; i <= to; ++it) {
    if (it == segments_.end() || it->offsets.empty() || i > it->last()
        || i < it->first)
      return make_error(errc::storage_failure,
                        "no segment holds entry " + str(i));
    auto& s = *it;
    auto a = static_cast<size_t>(i - s.first);
    auto b = static_cast<size_t>(std::min(to, s.last()) - s.first);
    uint64_t begin = s.offsets[a];
    uint64_t end = s.end_of(b);
    int fd = s.fd;
    bool own_fd = fd < 0;
    if (own_fd) {
      fd = io_->open(s.path, O_RDONLY);
      if (fd < 0)
        return detail::io_failure("open", s.path, errno);
    }
    read_buf_.resize(static_cast<size_t>(end - begin));
    auto got = detail::read_all(*io_, fd, read_buf_.data(), read_buf_.size(),
                                begin);
    auto read_err = errno;
    if (own_fd)
      io_->close(fd);
    if (got < 0)
      return detail::io_failure("read", s.path, read_err);
    if (static_cast<uint64_t>(got) != end - begin)
      return corrupt(s.path, begin + static_cast<uint64_t>(got),
                     "file shorter than its index says");
    std::string why;
    if (!decoder.prime(s.prototype.data(), s.prototype.size(), why))
      return corrupt(s.path, detail::segment_fixed_header, why);
    auto data = read_buf_.data();
    auto n = read_buf_.size();
    for (auto k = a; k <= b; ++k, ++i) {
      auto off = static_cast<size_t>(s.offsets[k] - begin);
      uint32_t len = 0;
      if (!detail::check_frame(data, n, off, len, why))
        return corrupt(s.path, s.offsets[k], why);
      if (!decoder.decode(data + off + detail::frame_header, len, entry, why))
        return corrupt(s.path, s.offsets[k], why);
      if (entry.index != i)
        return corrupt(s.path, s.offsets[k],
                       "record holds index " + str(entry.index)
                         + ", expected " + str(i));
      out.push_back(std::move(entry));
    }
  }
  return caf::none;
}

// -- helpers -------------------------------------------------------------------------

void file_storage::close_all() {
  for (auto& s : segments_) {
    if (s.fd >= 0) {
      io_->close(s.fd);
      s.fd = -1;
    }
  }
}

index_t file_storage::last_index_locked() const {
  if (segments_.empty())
    return base_.last_index;
  auto& s = segments_.back();
  return std::max(base_.last_index, s.first + s.offsets.size() - 1);
}

term_t file_storage::term_at(index_t index) const {
  // Precondition: base_.last_index < index <= last_index_locked().
  auto it = std::upper_bound(term_runs_.begin(), term_runs_.end(), index,
                             [](index_t i, const term_run& r) {
                               return i < r.first;
                             });
  if (it == term_runs_.begin())
    return base_.last_term;
  return std::prev(it)->term;
}

void file_storage::note_term(index_t index, term_t term) {
  if (term_runs_.empty() || term_runs_.back().term != term)
    term_runs_.push_back(term_run{index, term});
}

void file_storage::trim_term_runs_front(index_t first_kept) {
  // Keep the run holding `first_kept` (starting there) and those after it.
  auto it = std::upper_bound(term_runs_.begin(), term_runs_.end(), first_kept,
                             [](index_t i, const term_run& r) {
                               return i < r.first;
                             });
  if (it == term_runs_.begin())
    return;
  --it;
  it->first = first_kept;
  term_runs_.erase(term_runs_.begin(), it);
  if (first_kept > last_index_locked())
    term_runs_.clear();
}

void file_storage::trim_term_runs_back(index_t first_removed) {
  while (!term_runs_.empty() && term_runs_.back().first >= first_removed)
    term_runs_.pop_back();
}

} // namespace raft
