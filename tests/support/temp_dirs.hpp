// Temporary directories for a test, one per member, removed at the end.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace raft::test {

struct temp_dirs {
  /// `n` directory names below a new root /tmp/caf-raft-`tag`-XXXXXX (the
  /// member directories themselves are created by whoever uses them).
  explicit temp_dirs(size_t n, const std::string& tag = "test") {
    auto tmpl = "/tmp/caf-raft-" + tag + "-XXXXXX";
    root = mkdtemp(tmpl.data());
    for (size_t i = 0; i < n; ++i)
      dirs.push_back(root + "/m" + std::to_string(i));
  }
  ~temp_dirs() {
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }
  temp_dirs(const temp_dirs&) = delete;
  temp_dirs& operator=(const temp_dirs&) = delete;

  std::string root;
  std::vector<std::string> dirs;
};

} // namespace raft::test
