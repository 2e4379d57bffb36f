#include "kv_state_machine.hpp"

#include <algorithm>
#include <istream>
#include <iterator>
#include <ostream>
#include <vector>

#include "raft/errc.hpp"

#include "kv_command.hpp"

namespace kv {

namespace {

constexpr const char* magic = "RAFTKV1\n";

} // namespace

raft::apply_result machine::apply(raft::index_t, const raft::payload& bytes) {
  raft::apply_result r;
  auto cmd = decode(bytes.bytes());
  if (!cmd) {
    r.error = bad_command;
    return r;
  }
  auto& a = cmd->args;
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = data_.find(a[0]);
  switch (cmd->op) {
    case op::put:
      data_[a[0]] = a[1];
      break;
    case op::get:
      if (i == data_.end())
        r.error = not_found;
      else
        r.result = i->second;
      break;
    case op::cas:
      if (i == data_.end()) {
        r.error = not_found;
      } else if (i->second != a[1]) {
        r.error = mismatch;
        r.result = i->second;
      } else {
        i->second = a[2];
      }
      break;
    case op::del:
      if (i == data_.end())
        r.error = not_found;
      else
        data_.erase(i);
      break;
  }
  return r;
}

raft::apply_result machine::query(const raft::payload& bytes) {
  raft::apply_result r;
  auto cmd = decode(bytes.bytes());
  if (!cmd || cmd->op != op::get) {
    r.error = bad_command;
    return r;
  }
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = data_.find(cmd->args[0]);
  if (i == data_.end())
    r.error = not_found;
  else
    r.result = i->second;
  return r;
}

caf::error machine::save_snapshot(std::ostream& out) {
  // Written in pieces of about 64 KiB rather than built whole in memory: a
  // buffer of the whole snapshot (26 MiB for 100,000 values of 256 bytes,
  // up to twice that while it grew) was the member's peak RSS
  // (docs/benchmarks.md, "Memory").
  constexpr size_t piece = 64 * 1024;
  std::string buf = magic;
  auto flush = [&] {
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
    buf.clear();
  };
  {
    std::lock_guard<std::mutex> guard{mtx_};
    // In key order: equal states give equal snapshot files.
    std::vector<const std::pair<const std::string, std::string>*> sorted;
    sorted.reserve(data_.size());
    for (auto& kvp : data_)
      sorted.push_back(&kvp);
    std::sort(sorted.begin(), sorted.end(),
              [](auto* x, auto* y) { return x->first < y->first; });
    put_field(buf, std::to_string(data_.size()));
    for (auto* kvp : sorted) {
      put_field(buf, kvp->first);
      put_field(buf, kvp->second);
      if (buf.size() >= piece)
        flush();
    }
  }
  flush();
  if (!out)
    return raft::make_error(raft::errc::snapshot_failure,
                            "cannot write the kv snapshot");
  return caf::none;
}

caf::error machine::restore_snapshot(raft::index_t, std::istream& in) {
  std::string buf{std::istreambuf_iterator<char>{in},
                  std::istreambuf_iterator<char>{}};
  auto bad = [](const char* why) {
    return raft::make_error(raft::errc::snapshot_failure,
                            std::string{"kv snapshot: "} + why);
  };
  std::string m{magic};
  if (buf.compare(0, m.size(), m) != 0)
    return bad("wrong magic");
  size_t pos = m.size();
  std::string count_str;
  if (!get_field(buf, pos, count_str)
      || count_str.find_first_not_of("0123456789") != std::string::npos
      || count_str.empty() || count_str.size() > 19)
    return bad("bad pair count");
  auto count = std::stoull(count_str);
  std::unordered_map<std::string, std::string> data;
  for (uint64_t i = 0; i < count; ++i) {
    std::string k;
    std::string v;
    if (!get_field(buf, pos, k) || !get_field(buf, pos, v))
      return bad("truncated");
    data.emplace(std::move(k), std::move(v));
  }
  if (pos != buf.size())
    return bad("trailing bytes");
  std::lock_guard<std::mutex> guard{mtx_};
  data_ = std::move(data);
  return caf::none;
}

std::map<std::string, std::string> machine::contents() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return {data_.begin(), data_.end()};
}

machine::data_stats machine::stats() const {
  std::lock_guard<std::mutex> guard{mtx_};
  data_stats st;
  st.keys = data_.size();
  for (auto& kvp : data_)
    st.bytes += kvp.first.size() + kvp.second.size();
  return st;
}

} // namespace kv
