#include "raft/storage/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#  define RAFT_CRC32C_SSE42 1
#  include <nmmintrin.h>
#endif

#include "byte_order.hpp"

namespace raft {

namespace {

// -- portable: slicing-by-8 ---------------------------------------------------

constexpr uint32_t reflected_poly = 0x82F63B78u;

using table_set = std::array<std::array<uint32_t, 256>, 8>;

// t[0][b] is the CRC of byte b; t[k][b] the CRC of byte b followed by k zero
// bytes, so that eight table lookups advance the CRC by eight bytes.
constexpr table_set make_tables() {
  table_set t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1u) ? (c >> 1) ^ reflected_poly : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i)
    for (size_t k = 1; k < 8; ++k)
      t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFFu];
  return t;
}

constexpr table_set tables = make_tables();

// `c` is the running register (already inverted).
uint32_t update_portable(uint32_t c, const unsigned char* p, size_t n) {
  const auto& t = tables;
  for (; n >= 8; p += 8, n -= 8) {
    uint32_t lo = detail::get_le32(p) ^ c;
    uint32_t hi = detail::get_le32(p + 4);
    c = t[7][lo & 0xFFu] ^ t[6][(lo >> 8) & 0xFFu] ^ t[5][(lo >> 16) & 0xFFu]
        ^ t[4][lo >> 24] ^ t[3][hi & 0xFFu] ^ t[2][(hi >> 8) & 0xFFu]
        ^ t[1][(hi >> 16) & 0xFFu] ^ t[0][hi >> 24];
  }
  for (; n > 0; ++p, --n)
    c = t[0][(c ^ *p) & 0xFFu] ^ (c >> 8);
  return c;
}

// -- SSE4.2 -----------------------------------------------------------------------

#ifdef RAFT_CRC32C_SSE42

__attribute__((target("sse4.2"))) uint32_t
update_sse42(uint32_t c, const unsigned char* p, size_t n) {
  for (; n > 0 && (reinterpret_cast<uintptr_t>(p) & 7u) != 0; ++p, --n)
    c = _mm_crc32_u8(c, *p);
  uint64_t c64 = c;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c64 = _mm_crc32_u64(c64, v);
  }
  c = static_cast<uint32_t>(c64);
  for (; n > 0; ++p, --n)
    c = _mm_crc32_u8(c, *p);
  return c;
}

bool detect_sse42() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2") != 0;
}

const bool have_sse42 = detect_sse42();

#else

constexpr bool have_sse42 = false;

#endif

} // namespace

uint32_t crc32c_portable(const void* data, size_t n, uint32_t crc) {
  auto p = static_cast<const unsigned char*>(data);
  return ~update_portable(~crc, p, n);
}

uint32_t crc32c(const void* data, size_t n, uint32_t crc) {
  auto p = static_cast<const unsigned char*>(data);
#ifdef RAFT_CRC32C_SSE42
  if (have_sse42)
    return ~update_sse42(~crc, p, n);
#endif
  return ~update_portable(~crc, p, n);
}

bool crc32c_hardware() {
  return have_sse42;
}

} // namespace raft
