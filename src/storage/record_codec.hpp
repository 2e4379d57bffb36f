// The payloads of records on disk: Boost.Serialization binary archives of the
// project's types, each type with its own BOOST_CLASS_VERSION (see
// record_codec.cpp and docs/storage.md). Boost's binary archives store
// integers in the host's byte order and sizes: files are not portable between
// platforms (different endianness or size_t), only between builds on one.
//
// Log entries use one archive per segment file: the segment header holds the
// archive's "prototype" (a default entry, preceded by Boost's class
// information: tracking flag and class version) and each record holds the
// archive's continuation for one entry (its fields only). So a record costs no
// class information and the writer needs no allocation per entry, while every
// record can still be decoded on its own after priming a decoder with the
// segment's prototype.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "raft/core/configuration.hpp"
#include "raft/core/types.hpp"

namespace raft::detail {

/// The metadata file's record: everything but the log itself.
struct metadata_record {
  /// Figure 2's currentTerm and votedFor.
  hard_state state;
  /// The log's base: the last entry the newest snapshot covers.
  snapshot_meta base;
  /// Incremented by every reset(); segments of older generations are garbage.
  uint64_t generation = 0;
  /// The bootstrap configuration (empty: none). Not part of the archive:
  /// stored after it in the metadata file (format version 2), as a
  /// configuration entry's payload.
  cluster_configuration configuration;
};

/// The version of Boost's archive library of this build (stored in headers:
/// archives written by another version are refused).
uint16_t archive_library_version();

/// Encodes log entries as record payloads (one archive for its lifetime).
class entry_encoder {
public:
  entry_encoder();

  ~entry_encoder();

  entry_encoder(const entry_encoder&) = delete;
  entry_encoder& operator=(const entry_encoder&) = delete;

  /// The archive bytes of a default entry with the class information: what a
  /// segment header stores to make its records decodable.
  const std::vector<char>& prototype() const {
    return prototype_;
  }

  /// Appends the archive bytes of `x` (its fields only) to `out`.
  void encode(const log_entry& x, std::vector<char>& out);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::vector<char> prototype_;
};

/// Decodes the records of one segment.
class entry_decoder {
public:
  entry_decoder();

  ~entry_decoder();

  entry_decoder(const entry_decoder&) = delete;
  entry_decoder& operator=(const entry_decoder&) = delete;

  /// Primes the decoder with a segment's prototype. False (and a reason in
  /// `err`) if it cannot be decoded, e.g. an unknown class version.
  bool prime(const char* data, size_t n, std::string& err);

  /// Decodes one record payload, which must be consumed exactly.
  bool decode(const char* data, size_t n, log_entry& out, std::string& err);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// A self-contained archive (with class information) of `x`.
std::vector<char> encode_metadata(const metadata_record& x);

/// Decodes encode_metadata's output, which must be consumed exactly.
bool decode_metadata(const char* data, size_t n, metadata_record& out,
                     std::string& err);

} // namespace raft::detail
