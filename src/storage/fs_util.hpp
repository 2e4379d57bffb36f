// Small file-system helpers shared by file_storage and snapshot_store: whole
// writes and reads, directory fsync, atomic replacement of a small file, and
// errors that carry the failing call, the file and errno's text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "caf/error.hpp"

#include "raft/storage/file_io.hpp"

namespace raft::detail {

/// "dir/name".
std::string join(const std::string& dir, const std::string& name);

/// strerror(err).
std::string errno_text(int err);

/// A storage_failure error: "<what> <path>: <errno text>".
caf::error io_failure(const std::string& what, const std::string& path,
                      int err);

/// The context string of an error made by make_error(errc, string).
std::string context_text(const caf::error& err);

/// Writes all `n` bytes at `offset` (looping on short writes). Returns 0 or
/// the errno of the failing call (ENOSPC if a write made no progress).
int write_all(file_io& io, int fd, const void* data, size_t n,
              uint64_t offset);

/// Reads up to `n` bytes at `offset` (looping on short reads). Returns the
/// number of bytes read (less than `n` only at the end of the file) or -1.
int64_t read_all(file_io& io, int fd, void* data, size_t n, uint64_t offset);

/// fsync(2) of a directory, so that created, renamed and removed names in it
/// are durable. Returns 0 or an errno.
int sync_dir(file_io& io, const std::string& dir);

/// Creates `dir` and missing parents (and makes the new names durable).
/// Returns 0 or an errno.
int make_dirs(file_io& io, const std::string& dir, bool sync);

/// The names in `dir` (no "." or ".."), or an errno in `err`.
std::vector<std::string> list_dir(const std::string& dir, int& err);

/// True if `path` names an existing file.
bool file_exists(const std::string& path);

/// Replaces dir/name atomically with `n` bytes: write name.tmp, fsync it,
/// rename it over name, fsync the directory (the syncs only with `sync`).
caf::error replace_file(file_io& io, const std::string& dir,
                        const std::string& name, const void* data, size_t n,
                        bool sync);

/// Reads a whole (small) file. Returns 0 or an errno.
int read_file(file_io& io, const std::string& path, std::vector<char>& out);

/// Parses exactly `digits` decimal digits at `s[pos]`; false otherwise.
bool parse_fixed_decimal(const std::string& s, size_t pos, size_t digits,
                         uint64_t& out);

/// `x` as 20 decimal digits with leading zeros (sorts like the number).
std::string fixed_decimal(uint64_t x);

} // namespace raft::detail
