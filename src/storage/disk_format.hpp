// Byte layouts of the durable files (see docs/storage.md): segment headers,
// record frames, the metadata file. Pure functions on buffers, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "raft/core/types.hpp"

namespace raft::detail {

// -- segment files ---------------------------------------------------------------

/// First bytes of every segment file.
constexpr char segment_magic[8] = {'C', 'A', 'F', 'R', 'L', 'O', 'G', '\n'};

/// Version of the segment layout (header and framing) this build writes and
/// reads.
constexpr uint32_t segment_format_version = 1;

/// Header bytes before the prototype: magic 8, version 4, archive version 2,
/// flags 2, first index 8, generation 8, prototype length 4.
constexpr size_t segment_fixed_header = 36;

/// Upper bound for a prototype (a sanity check; actual size is ~30 bytes).
constexpr size_t max_prototype = 4096;

/// Bytes before a record's payload: crc32c 4, length 4.
constexpr size_t frame_header = 8;

struct segment_header {
  uint32_t version = 0;
  uint16_t archive_version = 0;
  index_t first_index = 0;
  uint64_t generation = 0;
  std::vector<char> prototype;
  /// Total header bytes (where the first record starts).
  size_t size = 0;
};

std::vector<char> encode_segment_header(index_t first_index,
                                        uint64_t generation,
                                        const std::vector<char>& prototype);

/// Parses the header at the start of `data`; on failure returns false with a
/// reason in `err` and the offset of the offending field in `err_offset`.
bool decode_segment_header(const char* data, size_t n, segment_header& out,
                           std::string& err, size_t& err_offset);

/// Appends a frame header for a payload the caller appends next; returns its
/// position for seal_frame.
size_t begin_frame(std::vector<char>& buf);

/// Fills in length and checksum of the frame at `pos` (payload up to the end
/// of `buf`).
void seal_frame(std::vector<char>& buf, size_t pos);

/// Checks the frame at `off` of a segment's bytes [data, data + n): true and
/// the payload length if complete with a matching checksum, otherwise false
/// and the reason.
bool check_frame(const char* data, size_t n, size_t off, uint32_t& length,
                 std::string& err);

/// Decides whether the bad frame at `off` of the LAST segment is a torn
/// write (true: cut the file at `off`) or damage (false, reason in `err`).
/// Torn: the rest of the file is zero bytes, or the frame is incomplete (runs
/// past the end of the file), no single flipped bit in its length field
/// explains that, and no valid frame starts anywhere after `off`.
bool is_torn_tail(const char* data, size_t n, size_t off, std::string& err);

// -- metadata file ------------------------------------------------------------------

/// First bytes of the metadata file.
constexpr char metadata_magic[8] = {'C', 'A', 'F', 'R', 'M', 'E', 'T', 'A'};

/// The version written: 2 (since issue 12) adds the bootstrap configuration
/// after the archive. Version 1 (no configuration) is still read.
constexpr uint32_t metadata_format_version = 2;

/// Bytes before the archive: magic 8, version 4, archive version 2, flags 2,
/// archive length 4. Version 1: a crc32c of everything before it follows the
/// archive. Version 2: u32 configuration length c, c bytes of configuration
/// (a configuration entry's payload; 0 bytes: none), then the crc32c.
constexpr size_t metadata_fixed_header = 20;

/// Upper bound of the configuration bytes in a metadata file (a sanity check
/// against a damaged length field).
constexpr uint32_t max_metadata_configuration = 1024 * 1024;

/// The metadata file's bytes (version 2) around an archive and the bootstrap
/// configuration's encoded bytes (empty: none).
std::vector<char> encode_metadata_file(const std::vector<char>& archive,
                                       const std::string& configuration = {});

/// Finds the archive and the configuration bytes inside a metadata file's
/// bytes (checks magic, versions, lengths and checksum; a version-1 file has
/// no configuration: length 0); on failure returns false with reason and
/// offset.
bool decode_metadata_file(const char* data, size_t n, size_t& archive_offset,
                          size_t& archive_length,
                          size_t& configuration_offset,
                          size_t& configuration_length, std::string& err,
                          size_t& err_offset);

/// As above, ignoring the configuration.
bool decode_metadata_file(const char* data, size_t n, size_t& archive_offset,
                          size_t& archive_length, std::string& err,
                          size_t& err_offset);

} // namespace raft::detail
