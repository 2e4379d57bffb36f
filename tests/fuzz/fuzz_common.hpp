// Shared by the fuzz targets: the libFuzzer entry point, failing loudly, a
// byte reader and temporary directories. Each target is built twice: with
// clang's libFuzzer (tests/fuzz/libfuzzer, when clang++ is available) and,
// in the main build, with regress_main.cpp as a plain program that replays
// the seed corpus plus deterministic mutations of it (docs/testing.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include <stdlib.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace raft::fuzz {

/// A violated expectation: report and abort, so that libFuzzer saves the
/// input as a crash and the regression run fails.
[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "FUZZ CHECK FAILED: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline void check(bool ok, const std::string& what) {
  if (!ok)
    fail(what);
}

/// Consumes an input front to back; reads past the end yield zeros / empty.
class reader {
public:
  reader(const uint8_t* data, size_t size) : data_(data), size_(size) {
    // nop
  }

  size_t left() const {
    return size_ - pos_;
  }

  bool empty() const {
    return left() == 0;
  }

  uint8_t u8() {
    return pos_ < size_ ? data_[pos_++] : 0;
  }

  uint16_t u16() {
    uint16_t lo = u8();
    return static_cast<uint16_t>(lo | (u8() << 8));
  }

  uint32_t u32() {
    uint32_t lo = u16();
    return lo | (static_cast<uint32_t>(u16()) << 16);
  }

  uint64_t u64() {
    uint64_t lo = u32();
    return lo | (static_cast<uint64_t>(u32()) << 32);
  }

  /// Up to `n` bytes (fewer at the end).
  std::string bytes(size_t n) {
    n = std::min(n, left());
    std::string result{reinterpret_cast<const char*>(data_ + pos_), n};
    pos_ += n;
    return result;
  }

  /// Everything left.
  std::string rest() {
    return bytes(left());
  }

private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

/// A fresh directory (on tmpfs when there is one), removed with its
/// contents on destruction.
class temp_dir {
public:
  temp_dir() {
    for (auto base : {"/dev/shm", "/tmp"}) {
      std::string tmpl = std::string{base} + "/caf-raft-fuzz-XXXXXX";
      if (mkdtemp(tmpl.data()) != nullptr) {
        path_ = tmpl;
        return;
      }
    }
    fail("cannot create a temporary directory");
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

  /// Writes `bytes` to `name` inside the directory.
  void write(const std::string& name, const std::string& bytes) const {
    auto file = path_ + "/" + name;
    auto f = std::fopen(file.c_str(), "wb");
    if (f == nullptr)
      fail("cannot create " + file);
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size())
      fail("cannot write " + file);
    std::fclose(f);
  }

private:
  std::string path_;
};

} // namespace raft::fuzz
