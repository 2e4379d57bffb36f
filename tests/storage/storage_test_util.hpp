// Helpers shared by the storage tests: temporary directories, entries,
// error checks and raw file surgery.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/message.hpp"

#include "raft/core/types.hpp"
#include "raft/errc.hpp"
#include "raft/storage/storage.hpp"

namespace raft::test {

/// A fresh directory under /tmp, removed with everything in it at the end.
class temp_dir {
public:
  temp_dir() {
    char tmpl[] = "/tmp/raft-storage-test-XXXXXX";
    auto p = ::mkdtemp(tmpl);
    if (p == nullptr)
      std::abort();
    path_ = p;
  }

  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const {
    return path_;
  }

  std::string file(const std::string& name) const {
    return path_ + "/" + name;
  }

private:
  std::string path_;
};

inline log_entry make_entry(index_t index, term_t term, size_t size = 16) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i)
    data[i] = static_cast<char>('a' + (index * 7 + i * 13) % 26);
  return log_entry{term, index, entry_kind::command, payload{std::move(data)}};
}

inline entry_vector make_entries(index_t first, index_t last, term_t term,
                                 size_t size = 16) {
  entry_vector result;
  for (auto i = first; i <= last; ++i)
    result.push_back(make_entry(i, term, size));
  return result;
}

inline write_batch append_batch(entry_vector entries) {
  write_batch b;
  b.entries = std::move(entries);
  return b;
}

inline write_batch state_batch(term_t term, std::string vote = {}) {
  write_batch b;
  b.has_state = true;
  b.state.current_term = term;
  b.state.voted_for = std::move(vote);
  return b;
}

inline bool has_code(const caf::error& err, errc code) {
  return err && err.category() == errc_category
         && err.code() == static_cast<uint8_t>(code);
}

inline std::string context(const caf::error& err) {
  if (!err)
    return {};
  auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return {};
}

/// The error's context, or "" (Boost.Test evaluates messages eagerly).
template <class T>
std::string why(const caf::expected<T>& x) {
  return x ? std::string{} : context(x.error());
}

/// The number after "at byte offset " in an error's context, or -1.
inline int64_t reported_offset(const caf::error& err) {
  auto text = context(err);
  auto key = std::string{"at byte offset "};
  auto pos = text.rfind(key);
  if (pos == std::string::npos)
    return -1;
  return std::strtoll(text.c_str() + pos + key.size(), nullptr, 10);
}

inline std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return std::vector<char>{std::istreambuf_iterator<char>{in},
                           std::istreambuf_iterator<char>{}};
}

inline void write_bytes(const std::string& path, const std::vector<char>& b) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out.write(b.data(), static_cast<std::streamsize>(b.size()));
}

inline void truncate_file(const std::string& path, uint64_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0)
    std::abort();
}

/// Every regular file of a directory with its contents (for restoring it).
using dir_image = std::map<std::string, std::vector<char>>;

inline dir_image snapshot_dir(const std::string& dir) {
  dir_image result;
  for (auto& ent : std::filesystem::directory_iterator(dir))
    if (ent.is_regular_file())
      result[ent.path().filename().string()] = read_bytes(ent.path().string());
  return result;
}

inline void restore_dir(const std::string& dir, const dir_image& image) {
  for (auto& ent : std::filesystem::directory_iterator(dir))
    std::filesystem::remove(ent.path());
  for (auto& [name, bytes] : image)
    write_bytes(dir + "/" + name, bytes);
}

/// Names of the log segment files, in order.
inline std::vector<std::string> segment_files(const std::string& dir) {
  std::vector<std::string> result;
  for (auto& ent : std::filesystem::directory_iterator(dir)) {
    auto name = ent.path().filename().string();
    if (name.rfind("log-", 0) == 0 && name.find(".tmp") == std::string::npos)
      result.push_back(name);
  }
  std::sort(result.begin(), result.end());
  return result;
}

inline uint64_t dir_bytes(const std::string& dir) {
  uint64_t total = 0;
  for (auto& ent : std::filesystem::directory_iterator(dir))
    if (ent.is_regular_file())
      total += ent.file_size();
  return total;
}

} // namespace raft::test
