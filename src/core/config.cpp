#include "raft/config.hpp"

#include "raft/errc.hpp"

namespace raft {

caf::error validate(config& cfg) {
  auto fail = [](std::string why) {
    return make_error(errc::invalid_config, std::move(why));
  };
  if (cfg.host_port.empty())
    return fail("host_port (the member id) is empty");
  if (cfg.heartbeat.count() <= 0)
    return fail("heartbeat must be positive");
  if (cfg.election_timeout_min.count() == 0)
    cfg.election_timeout_min = 10 * cfg.heartbeat;
  if (cfg.election_timeout_max.count() == 0)
    cfg.election_timeout_max = 2 * cfg.election_timeout_min;
  if (cfg.election_timeout_min <= cfg.heartbeat)
    return fail("election_timeout_min must be above the heartbeat");
  if (cfg.election_timeout_max < cfg.election_timeout_min)
    return fail("election_timeout_max is below election_timeout_min");
  if (cfg.append_timeout.count() == 0)
    cfg.append_timeout = 4 * cfg.election_timeout_max;
  if (cfg.append_timeout.count() < 0)
    return fail("append_timeout is negative");
  if (cfg.snapshot_dir.empty())
    cfg.snapshot_dir = cfg.log_dir;
  if (cfg.snapshot_chunk_bytes == 0)
    return fail("snapshot_chunk_bytes must be positive");
  if (cfg.snapshot_threshold < 0)
    return fail("snapshot_threshold is negative");
  if (cfg.max_entries_per_message == 0 || cfg.max_bytes_per_message == 0)
    return fail("max_entries_per_message and max_bytes_per_message must be "
                "positive");
  if (cfg.max_in_flight == 0)
    return fail("max_in_flight must be positive");
  if (cfg.max_apply_batch == 0)
    return fail("max_apply_batch must be positive");
  if (cfg.max_entry_size == 0)
    return fail("max_entry_size must be positive");
  if (cfg.max_inflight_bytes == 0)
    cfg.max_inflight_bytes = cfg.max_in_flight * cfg.max_bytes_per_message;
  return caf::none;
}

} // namespace raft
