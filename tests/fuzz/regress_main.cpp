// A fuzz target as a plain program (the main build, any compiler): runs
// every file of the given corpus directories through the target, then
// deterministic mutations of each (bit flips, byte changes, insertions,
// deletions, truncations), so the targets run in every build even without
// clang's libFuzzer.
//
//   fuzz_<target>_regress [--mutations K] [--seed S] DIR_OR_FILE...
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "fuzz_common.hpp"

namespace {

using bytes = std::vector<uint8_t>;

bytes read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return bytes{std::istreambuf_iterator<char>{in},
               std::istreambuf_iterator<char>{}};
}

void mutate(bytes& x, std::mt19937_64& rng) {
  auto pick = [&](size_t n) {
    return n == 0 ? size_t{0}
                  : std::uniform_int_distribution<size_t>{0, n - 1}(rng);
  };
  static const uint8_t interesting[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};
  auto rounds = 1 + pick(4);
  for (size_t r = 0; r < rounds; ++r) {
    switch (pick(7)) {
      case 0: // flip a bit
        if (!x.empty())
          x[pick(x.size())] ^= static_cast<uint8_t>(1u << pick(8));
        break;
      case 1: // a random byte
        if (!x.empty())
          x[pick(x.size())] = static_cast<uint8_t>(rng());
        break;
      case 2: // an interesting byte
        if (!x.empty())
          x[pick(x.size())] = interesting[pick(std::size(interesting))];
        break;
      case 3: // insert a byte
        x.insert(x.begin() + static_cast<long>(pick(x.size() + 1)),
                 static_cast<uint8_t>(rng()));
        break;
      case 4: { // delete a range
        if (x.empty())
          break;
        auto from = pick(x.size());
        auto len = 1 + pick(std::min<size_t>(8, x.size() - from));
        x.erase(x.begin() + static_cast<long>(from),
                x.begin() + static_cast<long>(from + len));
        break;
      }
      case 5: // truncate
        x.resize(pick(x.size() + 1));
        break;
      default: { // an 8-byte field set to all ones (lengths, indexes)
        if (x.size() < 8)
          break;
        auto at = pick(x.size() - 7);
        std::fill(x.begin() + static_cast<long>(at),
                  x.begin() + static_cast<long>(at + 8), 0xff);
      }
    }
  }
}

} // namespace

int main(int argc, char** argv) {
  size_t mutations = 100;
  uint64_t seed = 1;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--mutations" && i + 1 < argc) {
      mutations = std::stoul(argv[++i]);
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = std::stoull(argv[++i]);
    } else if (std::filesystem::is_directory(arg)) {
      for (auto& entry : std::filesystem::directory_iterator{arg})
        if (entry.is_regular_file())
          files.push_back(entry.path().string());
    } else {
      files.push_back(arg);
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s [--mutations K] [--seed S] CORPUS...\n",
                 argv[0]);
    return 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  size_t execs = 0;
  std::mt19937_64 rng{seed};
  for (auto& f : files) {
    auto input = read_file(f);
    LLVMFuzzerTestOneInput(input.data(), input.size());
    ++execs;
    for (size_t k = 0; k < mutations; ++k) {
      auto x = input;
      mutate(x, rng);
      LLVMFuzzerTestOneInput(x.data(), x.size());
      ++execs;
    }
  }
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                            - t0)
                .count();
  std::printf("%zu corpus files, %zu executions (%zu mutations each, seed "
              "%llu) in %.2f s: no failure\n",
              files.size(), execs, mutations,
              static_cast<unsigned long long>(seed), secs);
  return 0;
}
