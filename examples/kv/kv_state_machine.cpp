#include "kv_state_machine.hpp"

#include <algorithm>
#include <functional>
#include <istream>
#include <iterator>
#include <ostream>

#include "raft/errc.hpp"

#include "kv_command.hpp"

namespace kv {

namespace {

constexpr const char* magic = "RAFTKV1\n";

size_t shard_of(const std::string& key) {
  return std::hash<std::string>{}(key) % machine::shard_count;
}

/// Writes the snapshot of `shards` (the format in the header), in key order
/// so that equal states give equal files; in pieces of about 1 MiB.
caf::error write_view(const machine::view& shards, std::ostream& out) {
  std::vector<const std::pair<const std::string, std::string>*> sorted;
  size_t n = 0;
  for (auto& s : shards)
    if (s)
      n += s->size();
  sorted.reserve(n);
  for (auto& s : shards)
    if (s)
      for (auto& kvp : *s)
        sorted.push_back(&kvp);
  std::sort(sorted.begin(), sorted.end(),
            [](auto* x, auto* y) { return x->first < y->first; });
  // Written in pieces of about 64 KiB rather than built whole in memory: a
  // buffer of the whole snapshot (26 MiB for 100,000 values of 256 bytes,
  // up to twice that while it grew) was the member's peak RSS
  // (docs/benchmarks.md, "Memory").
  constexpr size_t piece = 64 * 1024;
  std::string buf = magic;
  put_field(buf, std::to_string(n));
  for (auto* kvp : sorted) {
    put_field(buf, kvp->first);
    put_field(buf, kvp->second);
    if (buf.size() >= piece) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  if (!out)
    return raft::make_error(raft::errc::snapshot_failure,
                            "cannot write the kv snapshot");
  return caf::none;
}

} // namespace

machine::machine() : slots_(shard_count) {
  // nop
}

const machine::shard* machine::find_shard(const std::string& key) const {
  return slots_[shard_of(key)].data.get();
}

machine::shard& machine::writable(const std::string& key) {
  auto& s = slots_[shard_of(key)];
  if (!s.data) {
    s.data = std::make_shared<shard>();
    s.epoch = epoch_;
  } else if (s.epoch != epoch_) {
    // A view taken since may hold this shard: it must not change.
    s.data = std::make_shared<shard>(*s.data);
    s.epoch = epoch_;
    ++shard_copies_;
  }
  return *s.data;
}

machine::view machine::take_view() const {
  view result;
  result.reserve(slots_.size());
  for (auto& s : slots_)
    result.emplace_back(s.data);
  return result;
}

raft::apply_result machine::apply(raft::index_t, const raft::payload& bytes) {
  raft::apply_result r;
  auto cmd = decode(bytes.bytes());
  if (!cmd) {
    r.error = bad_command;
    return r;
  }
  auto& a = cmd->args;
  std::lock_guard<std::mutex> guard{mtx_};
  auto* s = find_shard(a[0]);
  const std::string* current = nullptr;
  if (s != nullptr) {
    auto i = s->find(a[0]);
    if (i != s->end())
      current = &i->second;
  }
  switch (cmd->op) {
    case op::put:
      writable(a[0])[a[0]] = a[1];
      break;
    case op::get:
      if (current == nullptr)
        r.error = not_found;
      else
        r.result = *current;
      break;
    case op::cas:
      if (current == nullptr) {
        r.error = not_found;
      } else if (*current != a[1]) {
        r.error = mismatch;
        r.result = *current;
      } else {
        writable(a[0])[a[0]] = a[2];
      }
      break;
    case op::del:
      if (current == nullptr)
        r.error = not_found;
      else
        writable(a[0]).erase(a[0]);
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
  auto* s = find_shard(cmd->args[0]);
  auto i = s != nullptr ? s->find(cmd->args[0]) : shard::const_iterator{};
  if (s == nullptr || i == s->end())
    r.error = not_found;
  else
    r.result = i->second;
  return r;
}

caf::error machine::save_snapshot(std::ostream& out) {
  std::lock_guard<std::mutex> guard{mtx_};
  return write_view(take_view(), out);
}

caf::expected<raft::snapshot_writer> machine::begin_snapshot() {
  std::lock_guard<std::mutex> guard{mtx_};
  auto v = std::make_shared<const view>(take_view());
  // From now on every shard is copied before its first change.
  ++epoch_;
  return raft::snapshot_writer{
    [v](std::ostream& out) { return write_view(*v, out); }};
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
  std::vector<slot> slots(shard_count);
  for (uint64_t i = 0; i < count; ++i) {
    std::string k;
    std::string v;
    if (!get_field(buf, pos, k) || !get_field(buf, pos, v))
      return bad("truncated");
    auto& s = slots[shard_of(k)];
    if (!s.data)
      s.data = std::make_shared<shard>();
    s.data->emplace(std::move(k), std::move(v));
  }
  if (pos != buf.size())
    return bad("trailing bytes");
  std::lock_guard<std::mutex> guard{mtx_};
  // Views taken before keep their own shards: these are new ones, changed
  // in place until the next view.
  for (auto& x : slots)
    x.epoch = epoch_;
  slots_ = std::move(slots);
  return caf::none;
}

std::map<std::string, std::string> machine::contents() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::map<std::string, std::string> result;
  for (auto& s : slots_)
    if (s.data)
      result.insert(s.data->begin(), s.data->end());
  return result;
}

uint64_t machine::shard_copies() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return shard_copies_;
}

machine::data_stats machine::stats() const {
  std::lock_guard<std::mutex> guard{mtx_};
  data_stats st;
  for (auto& slot : slots_)
    if (slot.data)
      for (auto& kvp : *slot.data) {
        ++st.keys;
        st.bytes += kvp.first.size() + kvp.second.size();
      }
  return st;
}

} // namespace kv
