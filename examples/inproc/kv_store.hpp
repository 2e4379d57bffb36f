// A tiny replicated key-value store: the demo's state machine.
//
// Commands (the payload bytes):
//   put KEY VALUE   sets KEY (VALUE may contain spaces); returns VALUE
//   get KEY         returns the value; "no such key" is an apply error
//   del KEY         removes KEY; returns the old value
// Anything else is an apply error. Errors are the application's (Vanadium's
// applyError): the command is still committed and applied on every member.
#pragma once

#include <istream>
#include <map>
#include <mutex>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "caf/error.hpp"

#include "raft/errc.hpp"
#include "raft/state_machine.hpp"

namespace demo {

class kv_store : public raft::state_machine {
public:
  /// One applied command, as this member saw it.
  struct record {
    raft::index_t index;
    std::string command;
    raft::apply_result outcome;
  };

  // -- raft::state_machine ------------------------------------------------------

  raft::apply_result apply(raft::index_t index,
                           const raft::payload& cmd) override {
    raft::apply_result r;
    std::istringstream in{cmd.bytes()};
    std::string op;
    std::string key;
    std::string value;
    in >> op >> key;
    std::getline(in >> std::ws, value);
    std::lock_guard<std::mutex> guard{mtx_};
    if (op == "put" && !key.empty() && !value.empty()) {
      data_[key] = value;
      r.result = value;
    } else if (op == "get" && !key.empty() && value.empty()) {
      auto i = data_.find(key);
      if (i != data_.end())
        r.result = i->second;
      else
        r.error = "no such key: " + key;
    } else if (op == "del" && !key.empty() && value.empty()) {
      auto i = data_.find(key);
      if (i != data_.end()) {
        r.result = i->second;
        data_.erase(i);
      } else {
        r.error = "no such key: " + key;
      }
    } else {
      r.error = "bad command: '" + cmd.bytes() + "'";
    }
    applied_.push_back(record{index, cmd.bytes(), r});
    return r;
  }

  caf::error save_snapshot(std::ostream& out) override {
    // Length-prefixed, so keys and values may hold any bytes.
    std::lock_guard<std::mutex> guard{mtx_};
    out << data_.size() << '\n';
    for (auto& kvp : data_)
      out << kvp.first.size() << ' ' << kvp.first << kvp.second.size() << ' '
          << kvp.second << '\n';
    if (!out)
      return raft::make_error(raft::errc::snapshot_failure, "write failed");
    return caf::none;
  }

  caf::error restore_snapshot(raft::index_t index, std::istream& in) override {
    std::map<std::string, std::string> data;
    size_t n = 0;
    in >> n;
    for (size_t i = 0; i < n && in; ++i) {
      auto key = read_string(in);
      auto value = read_string(in);
      data.emplace(std::move(key), std::move(value));
    }
    if (!in)
      return raft::make_error(raft::errc::snapshot_failure,
                              "truncated kv snapshot");
    std::lock_guard<std::mutex> guard{mtx_};
    data_ = std::move(data);
    applied_.clear();
    restored_index_ = index;
    return caf::none;
  }

  // -- observers (any thread) --------------------------------------------------------

  std::vector<record> applied() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return applied_;
  }

  std::map<std::string, std::string> contents() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return data_;
  }

private:
  static std::string read_string(std::istream& in) {
    size_t size = 0;
    in >> size;
    in.get(); // the separating space
    std::string result(size, '\0');
    in.read(&result[0], static_cast<std::streamsize>(size));
    return result;
  }

  // The adapter actor calls apply; the demo's main thread reads.
  mutable std::mutex mtx_;
  std::map<std::string, std::string> data_;
  std::vector<record> applied_;
  raft::index_t restored_index_ = 0;
};

} // namespace demo
