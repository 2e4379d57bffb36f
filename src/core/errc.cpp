#include "raft/errc.hpp"

#include "caf/make_message.hpp"
#include "caf/sec.hpp"

namespace raft {

std::string to_string(errc x) {
  switch (x) {
    case errc::none: return "none";
    case errc::not_leader: return "not_leader";
    case errc::no_leader: return "no_leader";
    case errc::leadership_lost: return "leadership_lost";
    case errc::no_quorum: return "no_quorum";
    case errc::timeout: return "timeout";
    case errc::stopped: return "stopped";
    case errc::not_started: return "not_started";
    case errc::already_started: return "already_started";
    case errc::invalid_config: return "invalid_config";
    case errc::unknown_member: return "unknown_member";
    case errc::storage_failure: return "storage_failure";
    case errc::corrupt_record: return "corrupt_record";
    case errc::snapshot_failure: return "snapshot_failure";
    case errc::protocol_violation: return "protocol_violation";
    case errc::access_denied: return "access_denied";
    case errc::unreachable: return "unreachable";
    case errc::transfer_in_progress: return "transfer_in_progress";
    case errc::state_machine_failure: return "state_machine_failure";
    case errc::entry_too_large: return "entry_too_large";
    case errc::change_in_progress: return "change_in_progress";
    case errc::not_caught_up: return "not_caught_up";
    case errc::not_member: return "not_member";
    case errc::overloaded: return "overloaded";
  }
  return "unknown";
}

caf::error make_error(errc x) {
  return {static_cast<uint8_t>(x), errc_category};
}

caf::error make_error(errc x, std::string context) {
  return {static_cast<uint8_t>(x), errc_category,
          caf::make_message(std::move(context))};
}

bool outcome_unknown(const caf::error& err) {
  if (err.category() == errc_category) {
    auto x = static_cast<errc>(err.code());
    return x == errc::leadership_lost || x == errc::no_quorum
           || x == errc::timeout || x == errc::state_machine_failure;
  }
  // A CAF request timeout on the caller's side: the request went out.
  return err == caf::sec::request_timeout;
}

} // namespace raft
