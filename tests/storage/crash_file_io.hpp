// A file_io that can stop the machine at any system call and then lose what
// the disk had not made durable, as a power failure does: data written but
// not fsynced, and names (created, renamed, removed) whose directory was not
// fsynced. Used by the crash-point matrix (snapshot_crash_test.cpp).
//
// The model is POSIX's weakest promise: fdatasync/fsync of a file makes its
// data durable, fsync of a directory makes its entries durable, nothing else
// does. Files and directory entries that existed when the object was created
// count as durable.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "raft/storage/file_io.hpp"

namespace raft::test {

class crash_file_io : public file_io {
public:
  /// Tracks the files directly inside `dirs` (created if missing).
  explicit crash_file_io(std::vector<std::string> dirs) {
    for (auto& d : dirs) {
      std::filesystem::create_directories(d);
      dirs_.push_back(norm(d));
    }
    for (auto& d : dirs_)
      for (auto& ent : std::filesystem::directory_iterator(d))
        if (ent.is_regular_file()) {
          auto id = next_id_++;
          auto path = norm(ent.path().string());
          current_[path] = id;
          durable_[path] = id;
          data_[id] = slurp(path);
        }
  }

  /// The call after `n` more changing calls (write, sync, truncate, rename,
  /// unlink, creating open) is the first that does not happen: it and every
  /// later call fail with EIO, as if the machine had stopped before it.
  void crash_after(size_t n) {
    std::lock_guard<std::mutex> guard{mtx_};
    budget_ = n;
    armed_ = true;
  }

  /// Changing calls made so far (the crash points a run went through).
  size_t changes() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return changes_;
  }

  /// Counts a changing call of another device of the same machine (e.g. a
  /// log kept in memory_storage); false once the machine has stopped.
  bool survive_change() {
    std::lock_guard<std::mutex> guard{mtx_};
    return change();
  }

  bool crashed() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return crashed_;
  }

  /// The power failure: every tracked directory gets back exactly its
  /// durable entries, each with its durable contents.
  void lose_unsynced() {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& d : dirs_)
      for (auto& ent : std::filesystem::directory_iterator(d))
        if (ent.is_regular_file())
          std::filesystem::remove(ent.path());
    for (auto& [path, id] : durable_) {
      std::ofstream out{path, std::ios::binary | std::ios::trunc};
      auto& bytes = data_[id];
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
  }

  // -- file_io -------------------------------------------------------------------

  int open(const std::string& path, int flags, mode_t mode) override {
    std::lock_guard<std::mutex> guard{mtx_};
    auto p = norm(path);
    bool creates = (flags & O_CREAT) != 0 && current_.count(p) == 0
                   && tracked(p);
    if ((creates || (flags & O_TRUNC) != 0) && !change())
      return fail();
    if (crashed_)
      return fail();
    int fd = file_io::open(path, flags, mode);
    if (fd < 0)
      return fd;
    if (is_dir(p)) {
      dir_fds_[fd] = p;
    } else if (tracked(p)) {
      if (creates)
        current_[p] = next_id_++; // new data and a new name: neither durable
      fds_[fd] = current_[p];
    }
    return fd;
  }

  int close(int fd) override {
    std::lock_guard<std::mutex> guard{mtx_};
    fds_.erase(fd);
    dir_fds_.erase(fd);
    return file_io::close(fd);
  }

  ssize_t pwrite(int fd, const void* buf, size_t n, uint64_t off) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!change())
      return fail();
    return file_io::pwrite(fd, buf, n, off);
  }

  ssize_t pread(int fd, void* buf, size_t n, uint64_t off) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (crashed_)
      return fail();
    return file_io::pread(fd, buf, n, off);
  }

  int fdatasync(int fd) override {
    return sync(fd);
  }

  int fsync(int fd) override {
    return sync(fd);
  }

  int ftruncate(int fd, uint64_t size) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!change())
      return fail();
    return file_io::ftruncate(fd, size);
  }

  int rename(const std::string& from, const std::string& to) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!change())
      return fail();
    int rc = file_io::rename(from, to);
    auto f = norm(from);
    if (rc == 0 && current_.count(f) != 0) {
      current_[norm(to)] = current_[f];
      current_.erase(f);
    }
    return rc;
  }

  int unlink(const std::string& path) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!change())
      return fail();
    int rc = file_io::unlink(path);
    if (rc == 0)
      current_.erase(norm(path));
    return rc;
  }

private:
  static std::string norm(const std::string& path) {
    return std::filesystem::path{path}.lexically_normal().string();
  }

  static std::vector<char> slurp(const std::string& path) {
    std::ifstream in{path, std::ios::binary};
    return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  }

  bool tracked(const std::string& p) const {
    auto parent = std::filesystem::path{p}.parent_path().string();
    for (auto& d : dirs_)
      if (d == parent)
        return true;
    return false;
  }

  bool is_dir(const std::string& p) const {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  /// Counts a changing call; false once the machine has stopped.
  bool change() {
    if (crashed_)
      return false;
    if (armed_ && budget_ == 0) {
      crashed_ = true;
      return false;
    }
    if (armed_)
      --budget_;
    ++changes_;
    return true;
  }

  int fail() {
    errno = EIO;
    return -1;
  }

  int sync(int fd) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!change())
      return fail();
    if (auto d = dir_fds_.find(fd); d != dir_fds_.end()) {
      // The directory's entries become durable as they are now.
      for (auto i = durable_.begin(); i != durable_.end();)
        i = parent_of(i->first) == d->second ? durable_.erase(i) : std::next(i);
      for (auto& [path, id] : current_)
        if (parent_of(path) == d->second)
          durable_[path] = id;
      return file_io::fsync(fd);
    }
    if (auto f = fds_.find(fd); f != fds_.end()) {
      // Its data becomes durable as it is now (read through /proc: the
      // descriptor may be write-only).
      auto path = "/proc/self/fd/" + std::to_string(fd);
      data_[f->second] = slurp(path);
    }
    return file_io::fdatasync(fd);
  }

  static std::string parent_of(const std::string& p) {
    return std::filesystem::path{p}.parent_path().string();
  }

  mutable std::mutex mtx_;
  std::vector<std::string> dirs_;
  /// Name -> file, as the running system sees it and as the disk keeps it.
  std::map<std::string, uint64_t> current_;
  std::map<std::string, uint64_t> durable_;
  /// Durable contents per file.
  std::map<uint64_t, std::vector<char>> data_;
  std::map<int, uint64_t> fds_;
  std::map<int, std::string> dir_fds_;
  uint64_t next_id_ = 1;
  size_t changes_ = 0;
  size_t budget_ = 0;
  bool armed_ = false;
  bool crashed_ = false;
};

} // namespace raft::test
