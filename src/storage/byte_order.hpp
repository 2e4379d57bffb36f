// Little-endian fixed-width fields of the on-disk headers and record frames
// (written byte by byte, so the framing is the same on every host; only the
// Boost archives inside the records depend on the platform).
#pragma once

#include <cstdint>

namespace raft::detail {

inline void put_le16(void* dst, uint16_t x) {
  auto p = static_cast<unsigned char*>(dst);
  p[0] = static_cast<unsigned char>(x);
  p[1] = static_cast<unsigned char>(x >> 8);
}

inline void put_le32(void* dst, uint32_t x) {
  auto p = static_cast<unsigned char*>(dst);
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<unsigned char>(x >> (8 * i));
}

inline void put_le64(void* dst, uint64_t x) {
  auto p = static_cast<unsigned char*>(dst);
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<unsigned char>(x >> (8 * i));
}

inline uint16_t get_le16(const void* src) {
  auto p = static_cast<const unsigned char*>(src);
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

inline uint32_t get_le32(const void* src) {
  auto p = static_cast<const unsigned char*>(src);
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8)
         | (static_cast<uint32_t>(p[2]) << 16)
         | (static_cast<uint32_t>(p[3]) << 24);
}

inline uint64_t get_le64(const void* src) {
  auto p = static_cast<const unsigned char*>(src);
  uint64_t x = 0;
  for (int i = 7; i >= 0; --i)
    x = (x << 8) | p[i];
  return x;
}

} // namespace raft::detail
