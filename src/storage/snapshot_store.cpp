#include "raft/storage/snapshot_store.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

#include "raft/errc.hpp"
#include "raft/storage/crc32c.hpp"

#include "byte_order.hpp"
#include "fs_util.hpp"

namespace raft {

namespace {

constexpr char prefix[] = "snapshot-";
constexpr size_t prefix_len = 9;
constexpr size_t digits = 20;
/// "snapshot-" index "-" term
constexpr size_t stem_len = prefix_len + digits + 1 + digits;

constexpr char sidecar_magic[8] = {'C', 'A', 'F', 'R', 'S', 'N', 'A', 'P'};
/// The version written; version 1 (no configuration) is still read.
constexpr uint32_t sidecar_version = 2;
/// Size of a version-1 sidecar, and of a version-2 one without the
/// configuration's bytes.
constexpr size_t sidecar_size = 48;
/// Version 2: the fixed fields (bytes 0-43), then u32 configuration length.
constexpr size_t sidecar_v2_fixed = 48;

/// Read size for checksumming data files.
constexpr size_t chunk_size = 1 << 20;

enum class file_kind { data, meta, data_tmp, recv_tmp, meta_tmp };

bool parse_name(const std::string& name, snapshot_meta& meta,
                file_kind& kind) {
  if (name.compare(0, prefix_len, prefix) != 0 || name.size() < stem_len
      || name[prefix_len + digits] != '-')
    return false;
  if (!detail::parse_fixed_decimal(name, prefix_len, digits, meta.last_index)
      || !detail::parse_fixed_decimal(name, prefix_len + digits + 1, digits,
                                      meta.last_term))
    return false;
  auto suffix = name.substr(stem_len);
  if (suffix == ".data")
    kind = file_kind::data;
  else if (suffix == ".meta")
    kind = file_kind::meta;
  else if (suffix == ".data.tmp")
    kind = file_kind::data_tmp;
  else if (suffix == ".recv.tmp")
    kind = file_kind::recv_tmp;
  else if (suffix == ".meta.tmp")
    kind = file_kind::meta_tmp;
  else
    return false;
  return true;
}

bool newer(const snapshot_meta& x, const snapshot_meta& y) {
  return std::make_pair(x.last_index, x.last_term)
         > std::make_pair(y.last_index, y.last_term);
}

std::vector<char> encode_sidecar(snapshot_meta meta, uint64_t size,
                                 uint32_t crc,
                                 const cluster_configuration& configuration) {
  std::string conf;
  if (!configuration.empty())
    conf = encode_configuration(configuration).bytes();
  std::vector<char> buf(sidecar_v2_fixed + conf.size() + 4);
  auto p = buf.data();
  std::memcpy(p, sidecar_magic, 8);
  detail::put_le32(p + 8, sidecar_version);
  detail::put_le32(p + 12, 0);
  detail::put_le64(p + 16, meta.last_index);
  detail::put_le64(p + 24, meta.last_term);
  detail::put_le64(p + 32, size);
  detail::put_le32(p + 40, crc);
  detail::put_le32(p + 44, static_cast<uint32_t>(conf.size()));
  if (!conf.empty())
    std::memcpy(p + sidecar_v2_fixed, conf.data(), conf.size());
  auto body = sidecar_v2_fixed + conf.size();
  detail::put_le32(p + body, crc32c(p, body));
  return buf;
}

caf::error corrupt(const std::string& path, uint64_t offset,
                   const std::string& what) {
  return make_error(errc::corrupt_record, path + ": " + what
                                            + " at byte offset "
                                            + std::to_string(offset));
}

caf::error transfer_error(const std::string& what) {
  return make_error(errc::snapshot_failure, what);
}

std::string str(uint64_t x) {
  return std::to_string(x);
}

} // namespace

// -- construction -----------------------------------------------------------------

snapshot_store::snapshot_store(std::string dir, snapshot_store_options opts)
  : dir_(std::move(dir)), opts_(std::move(opts)) {
  if (!opts_.io)
    opts_.io = default_file_io();
  io_ = opts_.io.get();
  if (opts_.keep == 0)
    opts_.keep = 1;
}

snapshot_store::~snapshot_store() {
  std::lock_guard<std::mutex> guard{mtx_};
  abort_receive_locked();
}

std::string snapshot_store::name(snapshot_meta meta) const {
  return prefix + detail::fixed_decimal(meta.last_index) + "-"
         + detail::fixed_decimal(meta.last_term);
}

std::string snapshot_store::data_path(snapshot_meta meta) const {
  return detail::join(dir_, name(meta) + ".data");
}

// -- local snapshots ----------------------------------------------------------------

caf::expected<std::string> snapshot_store::begin(snapshot_meta meta) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto err = detail::make_dirs(*io_, dir_, opts_.sync))
    return detail::io_failure("create directory", dir_, err);
  auto tmp = detail::join(dir_, name(meta) + ".data.tmp");
  int fd = io_->open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    return detail::io_failure("open", tmp, errno);
  io_->close(fd);
  return tmp;
}

caf::expected<snapshot_info> snapshot_store::commit(snapshot_meta meta) {
  return commit(meta, cluster_configuration{});
}

caf::expected<snapshot_info>
snapshot_store::commit(snapshot_meta meta,
                       const cluster_configuration& configuration) {
  if (auto err = check(configuration))
    return err;
  std::lock_guard<std::mutex> guard{mtx_};
  auto tmp = detail::join(dir_, name(meta) + ".data.tmp");
  int fd = io_->open(tmp, O_RDONLY);
  if (fd < 0) {
    if (errno == ENOENT)
      return transfer_error("commit: no snapshot " + tmp
                            + " was begun (or it was aborted)");
    return detail::io_failure("open", tmp, errno);
  }
  // Checksum what the application wrote, in bounded chunks.
  buf_.resize(chunk_size);
  uint64_t size = 0;
  uint32_t crc = 0;
  for (;;) {
    auto got = detail::read_all(*io_, fd, buf_.data(), buf_.size(), size);
    if (got < 0) {
      auto err = errno;
      io_->close(fd);
      return detail::io_failure("read", tmp, err);
    }
    crc = crc32c(buf_.data(), static_cast<size_t>(got), crc);
    size += static_cast<uint64_t>(got);
    if (static_cast<size_t>(got) < buf_.size())
      break;
  }
  return publish(meta, tmp, fd, size, crc, configuration);
}

void snapshot_store::abort(snapshot_meta meta) {
  std::lock_guard<std::mutex> guard{mtx_};
  io_->unlink(detail::join(dir_, name(meta) + ".data.tmp"));
}

caf::expected<snapshot_info>
snapshot_store::publish(snapshot_meta meta, const std::string& tmp, int fd,
                        uint64_t size, uint32_t crc,
                        const cluster_configuration& configuration) {
  // Data durable, then under its final name, then the sidecar (the commit
  // point), each step durable before the next.
  auto give_up = [&](caf::error err) {
    io_->unlink(tmp);
    return err;
  };
  if (opts_.sync && io_->fdatasync(fd) != 0) {
    auto err = errno;
    io_->close(fd);
    return give_up(detail::io_failure("fdatasync", tmp, err));
  }
  io_->close(fd);
  auto data = data_path(meta);
  if (io_->rename(tmp, data) != 0)
    return give_up(detail::io_failure("rename to " + data + " from", tmp,
                                      errno));
  if (opts_.sync) {
    if (auto err = detail::sync_dir(*io_, dir_))
      return detail::io_failure("fsync directory", dir_, err);
  }
  auto sidecar = encode_sidecar(meta, size, crc, configuration);
  if (auto err = detail::replace_file(*io_, dir_, name(meta) + ".meta",
                                      sidecar.data(), sidecar.size(),
                                      opts_.sync))
    return err;
  if (auto err = prune(meta))
    return err;
  snapshot_info info;
  info.meta = meta;
  info.path = std::move(data);
  info.size = size;
  info.crc = crc;
  info.configuration = configuration;
  return info;
}

caf::error snapshot_store::prune(snapshot_meta newest) {
  int list_err = 0;
  auto names = detail::list_dir(dir_, list_err);
  if (list_err != 0)
    return detail::io_failure("list directory", dir_, list_err);
  struct files {
    bool data = false;
    bool meta = false;
  };
  std::map<std::pair<index_t, term_t>, files> snaps;
  std::vector<std::string> doomed;
  for (auto& n : names) {
    snapshot_meta m;
    file_kind kind;
    if (!parse_name(n, m, kind))
      continue;
    auto path = detail::join(dir_, n);
    switch (kind) {
      case file_kind::data:
        snaps[{m.last_index, m.last_term}].data = true;
        break;
      case file_kind::meta:
        snaps[{m.last_index, m.last_term}].meta = true;
        break;
      case file_kind::meta_tmp:
        doomed.push_back(path);
        break;
      case file_kind::data_tmp:
      case file_kind::recv_tmp:
        // Attempts older than what was just published are obsolete.
        if (m.last_index < newest.last_index && path != recv_path_)
          doomed.push_back(path);
        break;
    }
  }
  size_t kept = 0;
  for (auto i = snaps.rbegin(); i != snaps.rend(); ++i) {
    auto stem = detail::join(dir_, name({i->first.first, i->first.second}));
    if (!i->second.meta) {
      // Data of an interrupted commit.
      doomed.push_back(stem + ".data");
    } else if (kept < opts_.keep) {
      ++kept;
    } else {
      // Sidecar first: a crash in between leaves an ignored orphan.
      doomed.push_back(stem + ".meta");
      if (i->second.data)
        doomed.push_back(stem + ".data");
    }
  }
  for (auto& path : doomed)
    if (io_->unlink(path) != 0 && errno != ENOENT)
      return detail::io_failure("unlink", path, errno);
  if (!doomed.empty() && opts_.sync) {
    if (auto err = detail::sync_dir(*io_, dir_))
      return detail::io_failure("fsync directory", dir_, err);
  }
  return caf::none;
}

// -- reading --------------------------------------------------------------------------

std::vector<snapshot_meta> snapshot_store::list() const {
  std::vector<snapshot_meta> result;
  int list_err = 0;
  for (auto& n : detail::list_dir(dir_, list_err)) {
    snapshot_meta m;
    file_kind kind;
    if (parse_name(n, m, kind) && kind == file_kind::meta)
      result.push_back(m);
  }
  std::sort(result.begin(), result.end(), newer);
  return result;
}

caf::expected<snapshot_info> snapshot_store::verify(snapshot_meta meta) {
  auto stem = detail::join(dir_, name(meta));
  auto meta_path = stem + ".meta";
  auto data = stem + ".data";
  std::vector<char> side;
  if (auto err = detail::read_file(*io_, meta_path, side))
    return detail::io_failure("read", meta_path, err);
  auto p = side.data();
  if (side.size() < 8 || std::memcmp(p, sidecar_magic, 8) != 0)
    return corrupt(meta_path, 0, "bad magic (not a snapshot sidecar)");
  if (side.size() < 12)
    return corrupt(meta_path, side.size(),
                   "sidecar has " + str(side.size()) + " bytes, too short");
  auto version = detail::get_le32(p + 8);
  if (version != 1 && version != 2)
    return corrupt(meta_path, 8,
                   "unsupported snapshot format version " + str(version)
                     + " (this build reads versions 1 and "
                     + str(sidecar_version) + ")");
  // Where the trailing checksum is: after byte 43 (version 1) or after the
  // configuration's bytes (version 2).
  size_t body = 44;
  uint32_t conf_len = 0;
  if (version == 1) {
    if (side.size() != sidecar_size)
      return corrupt(meta_path, std::min(side.size(), sidecar_size),
                     "sidecar has " + str(side.size()) + " bytes, expected "
                       + str(sidecar_size));
  } else {
    if (side.size() < sidecar_v2_fixed + 4)
      return corrupt(meta_path, side.size(),
                     "sidecar has " + str(side.size())
                       + " bytes, too short for version 2 (at least "
                       + str(sidecar_v2_fixed + 4) + ")");
    conf_len = detail::get_le32(p + 44);
    if (conf_len > max_sidecar_configuration
        || sidecar_v2_fixed + size_t{conf_len} + 4 != side.size())
      return corrupt(meta_path, 44,
                     "configuration length " + str(conf_len)
                       + " does not match the " + str(side.size())
                       + "-byte sidecar");
    body = sidecar_v2_fixed + conf_len;
  }
  if (crc32c(p, body) != detail::get_le32(p + body))
    return corrupt(meta_path, body, "sidecar checksum mismatch");
  if (detail::get_le32(p + 12) != 0)
    return corrupt(meta_path, 12, "unknown sidecar flags");
  if (detail::get_le64(p + 16) != meta.last_index
      || detail::get_le64(p + 24) != meta.last_term)
    return corrupt(meta_path, 16,
                   "sidecar describes index " + str(detail::get_le64(p + 16))
                     + ", term " + str(detail::get_le64(p + 24))
                     + ", unlike its file name");
  cluster_configuration configuration;
  if (conf_len > 0) {
    auto decoded = decode_configuration(
      payload{std::string{p + sidecar_v2_fixed, conf_len}});
    if (!decoded)
      return corrupt(meta_path, sidecar_v2_fixed,
                     "bad configuration ("
                       + detail::context_text(decoded.error()) + ")");
    configuration = std::move(*decoded);
  }
  snapshot_info info;
  info.meta = meta;
  info.path = data;
  info.size = detail::get_le64(p + 32);
  info.crc = detail::get_le32(p + 40);
  info.configuration = std::move(configuration);
  int fd = io_->open(data, O_RDONLY);
  if (fd < 0) {
    if (errno == ENOENT)
      return make_error(errc::corrupt_record,
                        data + ": missing, but its sidecar " + meta_path
                          + " exists");
    return detail::io_failure("open", data, errno);
  }
  auto actual = io_->file_size(fd);
  if (actual < 0 || static_cast<uint64_t>(actual) != info.size) {
    io_->close(fd);
    auto a = actual < 0 ? 0 : static_cast<uint64_t>(actual);
    return corrupt(data, std::min(a, info.size),
                   "data file has " + str(a) + " bytes, the sidecar says "
                     + str(info.size));
  }
  buf_.resize(chunk_size);
  uint32_t crc = 0;
  uint64_t off = 0;
  while (off < info.size) {
    auto got = detail::read_all(*io_, fd, buf_.data(), buf_.size(), off);
    if (got <= 0) {
      auto err = got < 0 ? errno : EIO;
      io_->close(fd);
      return detail::io_failure("read", data, err);
    }
    crc = crc32c(buf_.data(), static_cast<size_t>(got), crc);
    off += static_cast<uint64_t>(got);
  }
  io_->close(fd);
  if (crc != info.crc)
    return make_error(errc::corrupt_record,
                      data + ": data checksum mismatch somewhere in bytes 0 to "
                        + str(info.size) + " (crc32c " + str(crc)
                        + ", the sidecar says " + str(info.crc) + ")");
  return info;
}

caf::expected<snapshot_info> snapshot_store::newest() {
  std::lock_guard<std::mutex> guard{mtx_};
  auto all = list();
  if (all.empty())
    return snapshot_info{};
  auto res = verify(all.front());
  if (res || res.error().category() != errc_category
      || res.error().code() != static_cast<uint8_t>(errc::corrupt_record))
    return res;
  // Damaged. Say whether an older one could serve, but never fall back
  // silently: the log may have been compacted up to the damaged one.
  auto msg = detail::context_text(res.error());
  for (size_t i = 1; i < all.size(); ++i) {
    if (auto older = verify(all[i])) {
      msg += "; an older intact snapshot exists (" + older->path
             + "), but the log may have been compacted beyond it: remove the "
               "damaged snapshot's files only if that is acceptable";
      break;
    }
  }
  return make_error(errc::corrupt_record, std::move(msg));
}

caf::expected<std::string>
snapshot_store::read_chunk(snapshot_meta meta, uint64_t offset,
                           size_t max_bytes) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto stem = detail::join(dir_, name(meta));
  if (!detail::file_exists(stem + ".meta"))
    return transfer_error("no snapshot " + stem
                          + " (never completed or removed since)");
  auto data = stem + ".data";
  int fd = io_->open(data, O_RDONLY);
  if (fd < 0) {
    if (errno == ENOENT)
      return transfer_error("no snapshot data " + data);
    return detail::io_failure("open", data, errno);
  }
  auto size = io_->file_size(fd);
  if (size < 0) {
    auto err = errno;
    io_->close(fd);
    return detail::io_failure("stat", data, err);
  }
  if (offset > static_cast<uint64_t>(size)) {
    io_->close(fd);
    return transfer_error("chunk offset " + str(offset) + " beyond the end of "
                          + data + " (" + str(static_cast<uint64_t>(size))
                          + " bytes)");
  }
  auto n = static_cast<size_t>(
    std::min<uint64_t>(max_bytes, static_cast<uint64_t>(size) - offset));
  std::string out;
  try {
    out.resize(n);
  } catch (std::exception&) {
    io_->close(fd);
    return make_error(errc::storage_failure,
                      "no memory for a chunk of " + str(n) + " bytes");
  }
  auto got = detail::read_all(*io_, fd, out.data(), n, offset);
  auto err = errno;
  io_->close(fd);
  if (got < 0)
    return detail::io_failure("read", data, err);
  if (static_cast<size_t>(got) != n)
    return detail::io_failure("read", data, EIO);
  return out;
}

// -- receiving ------------------------------------------------------------------------

caf::error snapshot_store::begin_receive(snapshot_meta meta) {
  std::lock_guard<std::mutex> guard{mtx_};
  abort_receive_locked();
  if (auto err = detail::make_dirs(*io_, dir_, opts_.sync))
    return detail::io_failure("create directory", dir_, err);
  auto path = detail::join(dir_, name(meta) + ".recv.tmp");
  int fd = io_->open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    return detail::io_failure("open", path, errno);
  receiving_ = true;
  recv_meta_ = meta;
  recv_path_ = std::move(path);
  recv_fd_ = fd;
  recv_size_ = 0;
  recv_crc_ = 0;
  return caf::none;
}

caf::error snapshot_store::write_chunk(uint64_t offset, const char* data,
                                       size_t n) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!receiving_)
    return transfer_error("chunk refused: no snapshot transfer in progress");
  if (offset != recv_size_)
    return transfer_error("chunk at offset " + str(offset)
                          + " refused: expected offset " + str(recv_size_));
  if (auto err = detail::write_all(*io_, recv_fd_, data, n, offset)) {
    auto result = detail::io_failure("write", recv_path_, err);
    abort_receive_locked();
    return result;
  }
  recv_crc_ = crc32c(data, n, recv_crc_);
  recv_size_ += n;
  return caf::none;
}

uint64_t snapshot_store::received() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return recv_size_;
}

bool snapshot_store::receiving() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return receiving_;
}

caf::expected<snapshot_info> snapshot_store::finish_receive(uint64_t size,
                                                            uint32_t crc) {
  std::lock_guard<std::mutex> guard{mtx_};
  return finish_locked(true, size, crc, cluster_configuration{});
}

caf::expected<snapshot_info>
snapshot_store::finish_receive(uint64_t size, uint32_t crc,
                               const cluster_configuration& configuration) {
  // The configuration came from a peer: never store an invalid one.
  if (auto err = raft::check(configuration))
    return err;
  std::lock_guard<std::mutex> guard{mtx_};
  return finish_locked(true, size, crc, configuration);
}

caf::expected<snapshot_info> snapshot_store::finish_receive() {
  std::lock_guard<std::mutex> guard{mtx_};
  return finish_locked(false, 0, 0, cluster_configuration{});
}

caf::expected<snapshot_info>
snapshot_store::finish_locked(bool check, uint64_t size, uint32_t crc,
                              const cluster_configuration& configuration) {
  if (!receiving_)
    return transfer_error("finish refused: no snapshot transfer in progress");
  if (check && recv_size_ != size) {
    auto err = corrupt(recv_path_, recv_size_,
                       "received " + str(recv_size_)
                         + " bytes, the sender's snapshot has " + str(size));
    abort_receive_locked();
    return err;
  }
  if (check && recv_crc_ != crc) {
    auto err = make_error(errc::corrupt_record,
                          recv_path_ + ": received data has crc32c "
                            + str(recv_crc_) + ", the sender's has "
                            + str(crc) + " (bytes 0 to " + str(recv_size_)
                            + ")");
    abort_receive_locked();
    return err;
  }
  // publish() owns the descriptor and the temporary file from here on.
  receiving_ = false;
  auto fd = recv_fd_;
  recv_fd_ = -1;
  auto path = std::move(recv_path_);
  recv_path_.clear();
  auto result = publish(recv_meta_, path, fd, recv_size_, recv_crc_,
                        configuration);
  recv_size_ = 0;
  recv_crc_ = 0;
  return result;
}

void snapshot_store::abort_receive() {
  std::lock_guard<std::mutex> guard{mtx_};
  abort_receive_locked();
}

void snapshot_store::abort_receive_locked() {
  if (!receiving_)
    return;
  if (recv_fd_ >= 0)
    io_->close(recv_fd_);
  io_->unlink(recv_path_);
  receiving_ = false;
  recv_fd_ = -1;
  recv_path_.clear();
  recv_size_ = 0;
  recv_crc_ = 0;
}

} // namespace raft
