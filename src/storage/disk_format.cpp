#include "disk_format.hpp"

#include <cstring>

#include "byte_order.hpp"
#include "raft/storage/crc32c.hpp"
#include "record_codec.hpp"

namespace raft::detail {

// -- segment files ---------------------------------------------------------------

std::vector<char> encode_segment_header(index_t first_index,
                                        uint64_t generation,
                                        const std::vector<char>& prototype) {
  std::vector<char> buf(segment_fixed_header + prototype.size() + 4);
  auto p = buf.data();
  std::memcpy(p, segment_magic, 8);
  put_le32(p + 8, segment_format_version);
  put_le16(p + 12, archive_library_version());
  put_le16(p + 14, 0);
  put_le64(p + 16, first_index);
  put_le64(p + 24, generation);
  put_le32(p + 32, static_cast<uint32_t>(prototype.size()));
  if (!prototype.empty())
    std::memcpy(p + segment_fixed_header, prototype.data(), prototype.size());
  auto body = segment_fixed_header + prototype.size();
  put_le32(p + body, crc32c(p, body));
  return buf;
}

bool decode_segment_header(const char* data, size_t n, segment_header& out,
                           std::string& err, size_t& err_offset) {
  err_offset = 0;
  if (n < 8 || std::memcmp(data, segment_magic, 8) != 0) {
    err = "bad magic (not a log segment)";
    return false;
  }
  if (n < segment_fixed_header + 4) {
    err = "file too short for a segment header (" + std::to_string(n)
          + " bytes)";
    err_offset = n;
    return false;
  }
  out.version = get_le32(data + 8);
  if (out.version != segment_format_version) {
    err = "unsupported segment format version " + std::to_string(out.version)
          + " (this build reads version "
          + std::to_string(segment_format_version) + ")";
    err_offset = 8;
    return false;
  }
  auto proto_len = get_le32(data + 32);
  if (proto_len > max_prototype
      || segment_fixed_header + proto_len + 4 > n) {
    err = "bad prototype length " + std::to_string(proto_len);
    err_offset = 32;
    return false;
  }
  auto body = segment_fixed_header + proto_len;
  if (crc32c(data, body) != get_le32(data + body)) {
    err = "segment header checksum mismatch (header bytes 0 to "
          + std::to_string(body + 4) + ")";
    err_offset = 0;
    return false;
  }
  out.archive_version = get_le16(data + 12);
  if (out.archive_version != archive_library_version()) {
    err = "written by Boost archive library version "
          + std::to_string(out.archive_version) + ", this build has version "
          + std::to_string(archive_library_version());
    err_offset = 12;
    return false;
  }
  if (get_le16(data + 14) != 0) {
    err = "unknown segment header flags";
    err_offset = 14;
    return false;
  }
  out.first_index = get_le64(data + 16);
  out.generation = get_le64(data + 24);
  out.prototype.assign(data + segment_fixed_header, data + body);
  out.size = body + 4;
  if (out.first_index == 0) {
    err = "segment header names first index 0";
    err_offset = 16;
    return false;
  }
  return true;
}

size_t begin_frame(std::vector<char>& buf) {
  auto pos = buf.size();
  buf.resize(pos + frame_header);
  return pos;
}

void seal_frame(std::vector<char>& buf, size_t pos) {
  auto p = buf.data() + pos;
  auto len = buf.size() - pos - frame_header;
  put_le32(p + 4, static_cast<uint32_t>(len));
  put_le32(p, crc32c(p + 4, len + 4));
}

bool check_frame(const char* data, size_t n, size_t off, uint32_t& length,
                 std::string& err) {
  auto rem = n - off;
  if (rem < frame_header) {
    err = "incomplete record frame (" + std::to_string(rem) + " bytes)";
    return false;
  }
  length = get_le32(data + off + 4);
  if (length > rem - frame_header) {
    err = "record length " + std::to_string(length)
          + " runs past the end of the file";
    return false;
  }
  if (crc32c(data + off + 4, length + 4) != get_le32(data + off)) {
    err = "record checksum mismatch";
    return false;
  }
  return true;
}

namespace {

// True if a frame with length field `length` at `off` fits and matches the
// stored checksum.
bool frame_matches(const char* data, size_t n, size_t off, uint32_t length) {
  if (n - off < frame_header || length > n - off - frame_header)
    return false;
  char len_bytes[4];
  put_le32(len_bytes, length);
  auto crc = crc32c(len_bytes, 4);
  crc = crc32c(data + off + frame_header, length, crc);
  return crc == get_le32(data + off);
}

} // namespace

bool is_torn_tail(const char* data, size_t n, size_t off, std::string& err) {
  auto rem = n - off;
  bool all_zero = true;
  for (size_t i = off; i < n && all_zero; ++i)
    all_zero = data[i] == 0;
  if (all_zero)
    return true; // e.g. a file extended without its data reaching the disk
  if (rem < frame_header)
    return true; // the frame header itself is cut
  auto length = get_le32(data + off + 4);
  if (length <= rem - frame_header) {
    // All the bytes the frame claims are there, yet the checksum fails: the
    // write completed and was damaged afterwards.
    err = "record checksum mismatch (complete record, not a torn write)";
    return false;
  }
  for (uint32_t bit = 0; bit < 32; ++bit) {
    if (frame_matches(data, n, off, length ^ (uint32_t{1} << bit))) {
      err = "record length field damaged (bit " + std::to_string(bit)
            + " flipped)";
      return false;
    }
  }
  for (size_t p = off + 1; p + frame_header <= n; ++p) {
    if (frame_matches(data, n, p, get_le32(data + p + 4))) {
      err = "damaged record followed by a valid record at byte offset "
            + std::to_string(p);
      return false;
    }
  }
  return true;
}

// -- metadata file ------------------------------------------------------------------

std::vector<char> encode_metadata_file(const std::vector<char>& archive,
                                       const std::string& configuration) {
  std::vector<char> buf(metadata_fixed_header + archive.size() + 4
                        + configuration.size() + 4);
  auto p = buf.data();
  std::memcpy(p, metadata_magic, 8);
  put_le32(p + 8, metadata_format_version);
  put_le16(p + 12, archive_library_version());
  put_le16(p + 14, 0);
  put_le32(p + 16, static_cast<uint32_t>(archive.size()));
  if (!archive.empty())
    std::memcpy(p + metadata_fixed_header, archive.data(), archive.size());
  auto at = metadata_fixed_header + archive.size();
  put_le32(p + at, static_cast<uint32_t>(configuration.size()));
  if (!configuration.empty())
    std::memcpy(p + at + 4, configuration.data(), configuration.size());
  auto body = at + 4 + configuration.size();
  put_le32(p + body, crc32c(p, body));
  return buf;
}

bool decode_metadata_file(const char* data, size_t n, size_t& archive_offset,
                          size_t& archive_length,
                          size_t& configuration_offset,
                          size_t& configuration_length, std::string& err,
                          size_t& err_offset) {
  err_offset = 0;
  if (n < 8 || std::memcmp(data, metadata_magic, 8) != 0) {
    err = "bad magic (not a metadata file)";
    return false;
  }
  if (n < metadata_fixed_header + 4) {
    err = "file too short (" + std::to_string(n) + " bytes)";
    err_offset = n;
    return false;
  }
  auto version = get_le32(data + 8);
  if (version != 1 && version != 2) {
    err = "unsupported metadata format version " + std::to_string(version)
          + " (this build reads versions 1 and "
          + std::to_string(metadata_format_version) + ")";
    err_offset = 8;
    return false;
  }
  auto len = get_le32(data + 16);
  // Every length is checked against the file's size before it is used.
  size_t body = 0;
  size_t conf_len = 0;
  if (version == 1) {
    if (metadata_fixed_header + size_t{len} + 4 != n) {
      err = "archive length " + std::to_string(len) + " does not match the "
            + std::to_string(n) + "-byte file";
      err_offset = 16;
      return false;
    }
    body = metadata_fixed_header + len;
  } else {
    if (metadata_fixed_header + size_t{len} + 8 > n) {
      err = "archive length " + std::to_string(len) + " does not fit the "
            + std::to_string(n) + "-byte file";
      err_offset = 16;
      return false;
    }
    auto at = metadata_fixed_header + size_t{len};
    conf_len = get_le32(data + at);
    if (conf_len > max_metadata_configuration || at + 8 + conf_len != n) {
      err = "configuration length " + std::to_string(conf_len)
            + " does not match the " + std::to_string(n) + "-byte file";
      err_offset = at;
      return false;
    }
    body = at + 4 + conf_len;
  }
  if (crc32c(data, body) != get_le32(data + body)) {
    err = "metadata checksum mismatch";
    err_offset = body;
    return false;
  }
  if (get_le16(data + 12) != archive_library_version()) {
    err = "written by Boost archive library version "
          + std::to_string(get_le16(data + 12)) + ", this build has version "
          + std::to_string(archive_library_version());
    err_offset = 12;
    return false;
  }
  if (get_le16(data + 14) != 0) {
    err = "unknown metadata flags";
    err_offset = 14;
    return false;
  }
  archive_offset = metadata_fixed_header;
  archive_length = len;
  configuration_offset = version == 1 ? 0 : body - conf_len;
  configuration_length = conf_len;
  return true;
}

bool decode_metadata_file(const char* data, size_t n, size_t& archive_offset,
                          size_t& archive_length, std::string& err,
                          size_t& err_offset) {
  size_t conf_offset = 0;
  size_t conf_length = 0;
  return decode_metadata_file(data, n, archive_offset, archive_length,
                              conf_offset, conf_length, err, err_offset);
}

} // namespace raft::detail
