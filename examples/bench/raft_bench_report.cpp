// raft-bench: the report of a closed-loop run, as text and as JSON.

#include "raft_bench_report.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace raft_bench {

std::string json_array(const std::vector<double>& v, int prec) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(prec);
  out << '[';
  for (size_t i = 0; i < v.size(); ++i)
    out << (i ? "," : "") << v[i];
  out << ']';
  return out.str();
}

namespace {

/// The soak samples' drift and the range of each member's RSS and disk use.
void print_samples(const options& o, const std::vector<sample>& samples,
                   const drift& dr) {
  std::printf("  samples     %zu every %.1f s: ops/s first third %.0f, last "
              "third %.0f (%+.1f%%), trend %+.2f%% of the mean per minute\n",
              samples.size(), o.sample_every, dr.first_third, dr.last_third,
              dr.first_third > 0
                ? 100 * (dr.last_third / dr.first_third - 1)
                : 0.0,
              dr.slope_pct_per_min);
  auto range = [&](bool rss_col, size_t k) {
    double lo = 1e18, hi = 0;
    for (auto& x : samples) {
      auto& col = rss_col ? x.rss : x.disk;
      if (k < col.size()) {
        lo = std::min(lo, col[k]);
        hi = std::max(hi, col[k]);
      }
    }
    auto& first = rss_col ? samples.front().rss : samples.front().disk;
    auto& lst = rss_col ? samples.back().rss : samples.back().disk;
    std::printf(" [%.0f first, %.0f..%.0f, %.0f last]", first[k], lo, hi,
                lst[k]);
  };
  std::printf("  rss MiB    ");
  for (size_t k = 0; k < samples.front().rss.size(); ++k)
    range(true, k);
  std::printf("\n  disk MiB   ");
  for (size_t k = 0; k < samples.front().disk.size(); ++k)
    range(false, k);
  std::printf("\n");
}

} // namespace

void print_report(const options& o, const std::string& tmp,
                  const std::vector<std::string>& ids,
                  const probe_figures& probes, load_figures& f) {
  auto& lat = f.lat;
  double ops = static_cast<double>(lat.size()) / o.seconds;
  auto p50 = percentile(lat, 0.5), p90 = percentile(lat, 0.9),
       p99 = percentile(lat, 0.99), p999 = percentile(lat, 0.999);
  std::string mode = o.inproc ? "inproc" : "processes";
  std::printf("raft-bench: %d members (%s), %d clients, %zu-byte values, %s, "
              "%.1f s measured after %.1f s warm-up\n",
              o.members, mode.c_str(), o.clients, o.size,
              o.fsync ? "durable file log (fdatasync)" : "memory log (no fsync)",
              o.seconds, o.warmup);
  std::printf("  throughput  %.0f ops/s (%zu ops, %llu errors)\n", ops,
              lat.size(), static_cast<unsigned long long>(f.failed));
  std::printf("  latency     p50 %u us, p90 %u us, p99 %u us, p99.9 %u us\n",
              p50, p90, p99, p999);
  std::printf("  probes      fsync p50 %.0f us (4 KiB append + fdatasync in "
              "%s; %.0f us into a preallocated file), actor rtt p50 %.0f us "
              "(two processes, loopback)\n",
              probes.fsync_p50, tmp.c_str(), probes.fsync_prealloc_p50,
              probes.rtt_p50);
  for (size_t i = 0; i < f.cpu_pct.size(); ++i)
    std::printf("  %-16s cpu %5.1f %%  rss %6.1f MiB\n",
                o.inproc ? "this process" : ids[i].c_str(), f.cpu_pct[i],
                f.rss[i]);
  std::printf("  %-16s cpu %5.1f %%\n", "load process", f.client_cpu);
  std::printf("  load average %.2f before, %.2f after (2 cores: above ~1 "
              "means other work competed)\n",
              probes.load_before, probes.load_after);
  std::printf("  batching    %.1f entries per log write%s, %.2f messages "
              "between members per entry committed\n",
              f.entries_per_fsync, o.fsync ? " (fdatasync)" : " (memory log)",
              f.messages_per_entry);
  std::printf("  cpu         %.1f us per committed put, all processes "
              "(members and load; user + system over %.2f s)\n",
              f.cpu_us_per_put, f.cpu_window_s);
  if (o.trace_every > 0)
    print_trace_text(f.trace);
  auto dr = ops_drift(f.samples);
  if (f.samples.size() >= 3)
    print_samples(o, f.samples, dr);
  if (o.json)
    std::printf("{\"mode\":\"%s\",\"members\":%d,\"clients\":%d,\"size\":%zu,"
                "\"fsync\":%s,\"seconds\":%.1f,\"ops\":%zu,\"errors\":%llu,"
                "\"ops_per_sec\":%.0f,\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,"
                "\"p999_us\":%u,\"cpu_percent\":%s,\"client_cpu_percent\":%.1f,"
                "\"rss_mib\":%s,\"fsync_p50_us\":%.0f,"
                "\"fsync_prealloc_p50_us\":%.0f,\"rtt_p50_us\":%.0f,"
                "\"entries_per_fsync\":%.2f,\"messages_per_entry\":%.3f,"
                "\"loadavg_before\":%.2f,\"loadavg_after\":%.2f",
                mode.c_str(), o.members, o.clients, o.size,
                o.fsync ? "true" : "false", o.seconds, lat.size(),
                static_cast<unsigned long long>(f.failed), ops, p50,
                p90, p99, p999, json_array(f.cpu_pct, 1).c_str(), f.client_cpu,
                json_array(f.rss, 1).c_str(), probes.fsync_p50,
                probes.fsync_prealloc_p50, probes.rtt_p50,
                f.entries_per_fsync, f.messages_per_entry, probes.load_before,
                probes.load_after);
  if (o.json)
    std::printf(",\"cpu_us_per_put\":%.1f", f.cpu_us_per_put);
  if (o.json && o.trace_every > 0)
    std::printf(",\"trace\":%s", trace_json(f.trace).c_str());
  if (o.json && o.sample_every > 0)
    std::printf(",\"sample_every\":%.1f,\"ops_first_third\":%.0f,"
                "\"ops_last_third\":%.0f,\"ops_trend_pct_per_min\":%.2f,"
                "\"samples\":%s",
                o.sample_every, dr.first_third, dr.last_third,
                dr.slope_pct_per_min, samples_json(f.samples).c_str());
  if (o.json)
    std::printf("}\n");
  std::fflush(stdout);
}

} // namespace raft_bench
