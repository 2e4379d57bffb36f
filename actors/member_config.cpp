// Membership changes (thesis chapter 4). Interim: the configuration is the
// fixed set of members added before start, and changes are refused. Issue 12
// replaces this with configurations in the log and joint consensus.

#include "raft/errc.hpp"

#include "member_state.hpp"

namespace raft {

cluster_configuration current_configuration(member_self* self) {
  auto& st = self->state;
  cluster_configuration result;
  if (st.role == role::idle)
    return result;
  result.voters.push_back(st.id());
  for (auto& [id, handle] : st.peers)
    result.voters.push_back(id);
  result.normalize();
  return result;
}

namespace {

caf::error not_built() {
  return make_error(errc::invalid_config,
                    "configuration changes are not available yet");
}

} // namespace

caf::result<cluster_configuration> add_learner(member_self*, const member_id&,
                                               bool) {
  return not_built();
}

caf::result<cluster_configuration> promote_learner(member_self*,
                                                   const member_id&) {
  return not_built();
}

caf::result<cluster_configuration> remove_member(member_self*,
                                                 const member_id&) {
  return not_built();
}

caf::result<cluster_configuration> change_configuration(member_self*,
                                                        cluster_configuration) {
  return not_built();
}

} // namespace raft
