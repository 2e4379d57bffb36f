#include "fs_util.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "caf/message.hpp"

#include "raft/errc.hpp"

namespace raft::detail {

std::string join(const std::string& dir, const std::string& name) {
  if (dir.empty())
    return name;
  if (dir.back() == '/')
    return dir + name;
  return dir + '/' + name;
}

std::string errno_text(int err) {
  char buf[256];
  // GNU strerror_r returns the message (maybe not in buf).
  return ::strerror_r(err, buf, sizeof(buf));
}

caf::error io_failure(const std::string& what, const std::string& path,
                      int err) {
  return make_error(errc::storage_failure,
                    what + " " + path + ": " + errno_text(err));
}

std::string context_text(const caf::error& err) {
  auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return "error code " + std::to_string(err.code());
}

int write_all(file_io& io, int fd, const void* data, size_t n,
              uint64_t offset) {
  auto p = static_cast<const char*>(data);
  while (n > 0) {
    auto res = io.pwrite(fd, p, n, offset);
    if (res < 0)
      return errno != 0 ? errno : EIO;
    if (res == 0)
      return ENOSPC;
    p += res;
    n -= static_cast<size_t>(res);
    offset += static_cast<uint64_t>(res);
  }
  return 0;
}

int64_t read_all(file_io& io, int fd, void* data, size_t n, uint64_t offset) {
  auto p = static_cast<char*>(data);
  size_t done = 0;
  while (done < n) {
    auto res = io.pread(fd, p + done, n - done, offset + done);
    if (res < 0)
      return -1;
    if (res == 0)
      break;
    done += static_cast<size_t>(res);
  }
  return static_cast<int64_t>(done);
}

int sync_dir(file_io& io, const std::string& dir) {
  int fd = io.open(dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    return errno;
  int err = 0;
  if (io.fsync(fd) != 0)
    err = errno;
  io.close(fd);
  return err;
}

int make_dirs(file_io& io, const std::string& dir, bool sync) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0)
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  auto slash = dir.find_last_not_of('/');
  slash = slash == std::string::npos ? slash : dir.rfind('/', slash);
  std::string parent;
  if (slash != std::string::npos) {
    parent = slash == 0 ? "/" : dir.substr(0, slash);
    if (auto err = make_dirs(io, parent, sync))
      return err;
  } else {
    parent = ".";
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return errno;
  return sync ? sync_dir(io, parent) : 0;
}

std::vector<std::string> list_dir(const std::string& dir, int& err) {
  std::vector<std::string> result;
  err = 0;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    err = errno;
    return result;
  }
  while (auto ent = ::readdir(d)) {
    std::string name = ent->d_name;
    if (name != "." && name != "..")
      result.push_back(std::move(name));
  }
  ::closedir(d);
  return result;
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

caf::error replace_file(file_io& io, const std::string& dir,
                        const std::string& name, const void* data, size_t n,
                        bool sync) {
  auto path = join(dir, name);
  auto tmp = path + ".tmp";
  int fd = io.open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    return io_failure("open", tmp, errno);
  if (auto err = write_all(io, fd, data, n, 0)) {
    io.close(fd);
    return io_failure("write", tmp, err);
  }
  if (sync && io.fsync(fd) != 0) {
    auto err = errno;
    io.close(fd);
    return io_failure("fsync", tmp, err);
  }
  io.close(fd);
  if (io.rename(tmp, path) != 0)
    return io_failure("rename to " + path + " from", tmp, errno);
  if (sync) {
    if (auto err = sync_dir(io, dir))
      return io_failure("fsync directory", dir, err);
  }
  return caf::none;
}

int read_file(file_io& io, const std::string& path, std::vector<char>& out) {
  out.clear();
  int fd = io.open(path, O_RDONLY);
  if (fd < 0)
    return errno;
  auto size = io.file_size(fd);
  if (size < 0) {
    auto err = errno;
    io.close(fd);
    return err;
  }
  out.resize(static_cast<size_t>(size));
  auto got = read_all(io, fd, out.data(), out.size(), 0);
  auto err = got < 0 ? errno : 0;
  io.close(fd);
  if (got >= 0)
    out.resize(static_cast<size_t>(got));
  return err;
}

bool parse_fixed_decimal(const std::string& s, size_t pos, size_t digits,
                         uint64_t& out) {
  if (pos + digits > s.size())
    return false;
  uint64_t x = 0;
  for (size_t i = pos; i < pos + digits; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    auto d = static_cast<uint64_t>(s[i] - '0');
    if (x > (UINT64_MAX - d) / 10)
      return false;
    x = x * 10 + d;
  }
  out = x;
  return true;
}

std::string fixed_decimal(uint64_t x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020llu", static_cast<unsigned long long>(x));
  return buf;
}

} // namespace raft::detail
