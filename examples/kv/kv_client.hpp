// The key-value store's client library: blocking calls, safe to make from
// many threads at once (concurrent calls share one raft::client, which
// coalesces them into one message per round trip).
#pragma once

#include <memory>
#include <string>

#include "caf/fwd.hpp"

#include "raft/client.hpp"

namespace kv {

/// How a call ended. The CLI's exit codes follow it.
enum class outcome {
  /// Done (exit 0).
  ok = 0,
  /// Failed; certainly not applied (exit 1).
  failed = 1,
  /// A definite negative answer: key not found, cas found another value;
  /// nothing changed (exit 3).
  negative = 3,
  /// Sent, then no answer: it may or may not have been applied (exit 4).
  unknown = 4,
};

struct result {
  kv::outcome outcome = outcome::failed;
  /// get: the value; cas mismatch: the current value.
  std::string value;
  /// What went wrong, for people.
  std::string message;
};

class client {
public:
  /// `sys` must have been configured with raft::configure_remote().
  static caf::expected<std::unique_ptr<client>>
  make(caf::actor_system& sys, raft::client_options opts);

  ~client();

  result put(const std::string& key, const std::string& value);
  /// Linearizable (ReadIndex at the leader).
  result get(const std::string& key);
  result cas(const std::string& key, const std::string& expected,
             const std::string& value);
  result del(const std::string& key);

  /// One member's status.
  caf::expected<raft::member_status> status(const raft::member_id& id);

  /// The status of each member, asked all at once.
  std::vector<caf::expected<raft::member_status>>
  statuses(const std::vector<raft::member_id>& ids);

  /// The outcome of a membership call: ok (the configuration after the
  /// change, or the one in force for members()), failed (certainly
  /// nothing changed), or unknown (sent, then no answer).
  struct change_result {
    kv::outcome outcome = outcome::failed;
    raft::cluster_configuration configuration;
    std::string message;
  };

  /// The configuration in force (asked at the leader).
  change_result members();
  /// Adds `id` as a learner; with `promote`, makes it a voter once it
  /// caught up (the reply comes then).
  change_result add_learner(const raft::member_id& id, bool promote);
  change_result promote(const raft::member_id& id);
  change_result remove(const raft::member_id& id);
  /// Leadership to `id` (its configuration is left empty).
  change_result transfer(const raft::member_id& id);

  raft::client_actor handle() const {
    return hdl_;
  }

private:
  client(caf::actor_system& sys, raft::client_actor hdl, caf::timespan t);
  result call(bool query, raft::payload cmd);
  template <class... Ts>
  change_result change(Ts&&... xs);

  caf::actor_system& sys_;
  raft::client_actor hdl_;
  caf::timespan timeout_;
};

} // namespace kv
