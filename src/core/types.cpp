#include "raft/core/types.hpp"

namespace raft {

std::string to_string(role x) {
  switch (x) {
    case role::idle: return "idle";
    case role::follower: return "follower";
    case role::candidate: return "candidate";
    case role::leader: return "leader";
    case role::stopped: return "stopped";
  }
  return "unknown";
}

} // namespace raft
