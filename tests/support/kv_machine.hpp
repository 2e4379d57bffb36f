// A small key-value state machine for tests. Commands are text:
//   put K V | get K | cas K EXPECTED NEW | del K
// Results: put -> "ok"; get -> the value, or error "not_found"; cas -> "ok",
// or error "mismatch:<current>" / "not_found"; del -> "ok" / "not_found".
// It records every apply so tests can compare members.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "raft/state_machine.hpp"

namespace raft::test {

class kv_machine : public state_machine {
public:
  apply_result apply(index_t index, const payload& command) override;

  /// Read-only: "get K" (anything else is an error).
  apply_result query(const payload& query) override;

  caf::error save_snapshot(std::ostream& out) override;

  caf::error restore_snapshot(index_t index, std::istream& in) override;

  /// Every command applied in this lifetime, in order.
  std::vector<std::pair<index_t, std::string>> applied;
  std::map<std::string, std::string> data;
  /// The index covered by the last restored snapshot.
  index_t restored_index = 0;
};

/// Builds command payloads.
payload put_cmd(const std::string& key, const std::string& value);
payload get_cmd(const std::string& key);
payload cas_cmd(const std::string& key, const std::string& expected,
                const std::string& value);
payload del_cmd(const std::string& key);

} // namespace raft::test
