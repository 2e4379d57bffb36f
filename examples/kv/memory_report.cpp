#include "memory_report.hpp"

#include <chrono>
#include <fstream>
#include <sstream>

#include <malloc.h>

#include "raft/metrics.hpp"

namespace kv {

namespace {

/// A "VmRSS:  1234 kB" line of /proc/self/status, in KiB (0 if missing).
long proc_status_kib(const std::string& key) {
  std::ifstream f{"/proc/self/status"};
  std::string line;
  while (std::getline(f, line))
    if (line.compare(0, key.size() + 1, key + ":") == 0)
      return std::stol(line.substr(key.size() + 1));
  return 0;
}

} // namespace

std::string memory_report(caf::scoped_actor& self,
                          const raft::member_actor& member,
                          const machine& sm) {
  std::ostringstream out;
  out << "mem rss_kib=" << proc_status_kib("VmRSS")
      << " hwm_kib=" << proc_status_kib("VmHWM");
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  // All arenas: in use, free inside the heaps, mmapped chunks.
  auto mi = mallinfo2();
  out << " heap_kib=" << mi.arena / 1024 << " in_use_kib="
      << mi.uordblks / 1024 << " free_kib=" << mi.fordblks / 1024
      << " mmapped_kib=" << mi.hblkhd / 1024;
#endif
  self->request(member, std::chrono::seconds(5), raft::metrics_atom::value)
    .receive(
      [&](raft::member_metrics& m) {
        out << " role=" << raft::to_string(m.role)
            << " log_entries=" << (m.last_log_index - m.snapshot_index)
            << " last_log_index=" << m.last_log_index
            << " snapshot_index=" << m.snapshot_index;
      },
      [&](caf::error&) { out << " metrics=unavailable"; });
  auto st = sm.stats();
  out << " kv_keys=" << st.keys << " kv_bytes=" << st.bytes;
  return out.str();
}

} // namespace kv
