#include "raft/storage/memory_storage.hpp"

#include "raft/errc.hpp"

namespace raft {

memory_storage::memory_storage(recovered_state initial)
  : data_(std::move(initial)) {
  // nop
}

caf::expected<recovered_state> memory_storage::load() {
  std::lock_guard<std::mutex> guard{mtx_};
  return data_;
}

caf::error memory_storage::write(const write_batch& batch) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (failing_)
    return make_error(errc::storage_failure, "injected write failure");
  if (batch.has_state)
    data_.state = batch.state;
  if (batch.bootstrap)
    data_.configuration = *batch.bootstrap;
  auto& entries = data_.entries;
  if (batch.truncate_from != 0) {
    while (!entries.empty() && entries.back().index >= batch.truncate_from)
      entries.pop_back();
  }
  for (auto& e : batch.entries) {
    auto expected = entries.empty() ? data_.snapshot.last_index + 1
                                    : entries.back().index + 1;
    if (e.index != expected)
      return make_error(errc::storage_failure,
                        "non-contiguous append at index "
                          + std::to_string(e.index));
    entries.push_back(e);
  }
  ++writes_;
  return caf::none;
}

caf::expected<entry_vector> memory_storage::read(index_t from, index_t to) {
  std::lock_guard<std::mutex> guard{mtx_};
  entry_vector result;
  auto first = data_.snapshot.last_index + 1;
  auto last = data_.snapshot.last_index + data_.entries.size();
  if (from < first || to > last || from > to)
    return make_error(errc::storage_failure,
                      "read of [" + std::to_string(from) + ", "
                        + std::to_string(to) + "] outside the stored log");
  result.assign(data_.entries.begin() + (from - first),
                data_.entries.begin() + (to - first + 1));
  return result;
}

caf::error memory_storage::compact(snapshot_meta meta) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (failing_)
    return make_error(errc::storage_failure, "injected write failure");
  auto& entries = data_.entries;
  while (!entries.empty() && entries.front().index <= meta.last_index)
    entries.erase(entries.begin());
  if (meta.last_index > data_.snapshot.last_index)
    data_.snapshot = meta;
  return caf::none;
}

caf::error memory_storage::reset(snapshot_meta meta) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (failing_)
    return make_error(errc::storage_failure, "injected write failure");
  data_.entries.clear();
  data_.snapshot = meta;
  return caf::none;
}

void memory_storage::fail_writes(bool on) {
  std::lock_guard<std::mutex> guard{mtx_};
  failing_ = on;
}

size_t memory_storage::writes() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return writes_;
}

recovered_state memory_storage::contents() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return data_;
}

} // namespace raft
