#define BOOST_TEST_MODULE crc32c
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

#include "raft/storage/crc32c.hpp"

using namespace raft;

namespace {

uint32_t crc(const std::string& s) {
  return crc32c(s.data(), s.size());
}

} // namespace

// Known values: the "check" value of the CRC catalogue and RFC 3720
// (iSCSI), appendix B.4.
BOOST_AUTO_TEST_CASE(known_vectors) {
  BOOST_TEST(crc("123456789") == 0xE3069283u);
  BOOST_TEST(crc32c_portable("123456789", 9) == 0xE3069283u);
  BOOST_TEST(crc("") == 0u);
  BOOST_TEST(crc("a") == 0xC1D04330u);
  std::string zeros(32, '\0');
  BOOST_TEST(crc(zeros) == 0x8A9136AAu);
  std::string ones(32, '\xFF');
  BOOST_TEST(crc(ones) == 0x62A8AB43u);
  std::string up(32, '\0');
  std::string down(32, '\0');
  for (int i = 0; i < 32; ++i) {
    up[i] = static_cast<char>(i);
    down[i] = static_cast<char>(31 - i);
  }
  BOOST_TEST(crc(up) == 0x46DD794Eu);
  BOOST_TEST(crc(down) == 0x113FDB5Cu);
  BOOST_TEST_MESSAGE("SSE4.2 crc32c: " << (crc32c_hardware() ? "yes" : "no"));
}

// Hardware and table paths agree for every length and alignment, and the
// checksum can be computed piecewise.
BOOST_AUTO_TEST_CASE(paths_agree_and_extend) {
  std::mt19937 gen{42};
  std::vector<char> buf(4096 + 16);
  for (auto& c : buf)
    c = static_cast<char>(gen());
  for (size_t align = 0; align < 8; ++align) {
    for (size_t len = 0; len < 300; ++len) {
      auto p = buf.data() + align;
      auto a = crc32c(p, len);
      BOOST_REQUIRE_EQUAL(a, crc32c_portable(p, len));
      auto split = len / 3;
      BOOST_REQUIRE_EQUAL(a, crc32c(p + split, len - split, crc32c(p, split)));
      BOOST_REQUIRE_EQUAL(a, crc32c_portable(p + split, len - split,
                                             crc32c_portable(p, split)));
    }
  }
  BOOST_TEST(crc32c(buf.data(), 4096) == crc32c_portable(buf.data(), 4096));
}
