#include "raft/storage/storage.hpp"

namespace raft {

storage::~storage() {
  // nop
}

} // namespace raft
