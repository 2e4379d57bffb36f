#include "kv_client.hpp"

#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "raft/errc.hpp"

#include "kv_command.hpp"

namespace kv {

namespace {

/// The client answers within its timeout; this is only a backstop.
constexpr auto grace = std::chrono::seconds(5);

} // namespace

caf::expected<std::unique_ptr<client>>
client::make(caf::actor_system& sys, raft::client_options opts) {
  auto t = opts.timeout;
  auto hdl = raft::spawn_client(sys, std::move(opts));
  if (!hdl)
    return hdl.error();
  return std::unique_ptr<client>{new client(sys, *hdl, t)};
}

client::client(caf::actor_system& sys, raft::client_actor hdl,
               caf::timespan t)
  : sys_(sys), hdl_(std::move(hdl)), timeout_(t) {
  // nop
}

client::~client() {
  caf::anon_send_exit(hdl_, caf::exit_reason::user_shutdown);
}

result client::call(bool query, raft::payload cmd) {
  result r;
  caf::scoped_actor self{sys_};
  auto on_reply = [&](raft::append_reply& reply) {
    if (reply.apply_error.empty()) {
      r.outcome = outcome::ok;
      r.value = std::move(reply.result);
    } else if (reply.apply_error == not_found
               || reply.apply_error == mismatch) {
      r.outcome = outcome::negative;
      r.value = std::move(reply.result);
      r.message = reply.apply_error;
    } else {
      r.outcome = outcome::failed;
      r.message = reply.apply_error;
    }
  };
  auto on_error = [&](caf::error& err) {
    // A query changes nothing, so it never has an unknown outcome.
    r.outcome = !query && raft::client_outcome_unknown(err) ? outcome::unknown
                                                            : outcome::failed;
    r.message = sys_.render(err);
  };
  if (query)
    self->request(hdl_, timeout_ + grace, raft::query_atom::value,
                  std::move(cmd))
      .receive(on_reply, on_error);
  else
    self->request(hdl_, timeout_ + grace, raft::append_atom::value,
                  std::move(cmd))
      .receive(on_reply, on_error);
  return r;
}

result client::put(const std::string& key, const std::string& value) {
  return call(false, put_cmd(key, value));
}

result client::get(const std::string& key) {
  return call(true, get_cmd(key));
}

result client::cas(const std::string& key, const std::string& expected,
                   const std::string& value) {
  return call(false, cas_cmd(key, expected, value));
}

result client::del(const std::string& key) {
  return call(false, del_cmd(key));
}

std::vector<caf::expected<raft::member_status>>
client::statuses(const std::vector<raft::member_id>& ids) {
  caf::scoped_actor self{sys_};
  std::vector<decltype(self->request(hdl_, timeout_, raft::status_atom::value,
                                     raft::member_id{}))>
    pending;
  for (auto& id : ids)
    pending.push_back(
      self->request(hdl_, timeout_ + grace, raft::status_atom::value, id));
  std::vector<caf::expected<raft::member_status>> result;
  for (auto& p : pending) {
    caf::expected<raft::member_status> r{raft::member_status{}};
    p.receive([&](raft::member_status& s) { r = std::move(s); },
              [&](caf::error& err) { r = std::move(err); });
    result.push_back(std::move(r));
  }
  return result;
}

template <class... Ts>
client::change_result client::change(Ts&&... xs) {
  change_result r;
  caf::scoped_actor self{sys_};
  auto on_error = [&](caf::error& err) {
    r.outcome = raft::client_outcome_unknown(err) ? outcome::unknown
                                                  : outcome::failed;
    r.message = sys_.render(err);
  };
  self->request(hdl_, timeout_ + grace, std::forward<Ts>(xs)...)
    .receive(
      [&](raft::cluster_configuration& cfg) {
        r.outcome = outcome::ok;
        r.configuration = std::move(cfg);
      },
      on_error);
  return r;
}

client::change_result client::members() {
  return change(raft::members_atom::value);
}

client::change_result client::add_learner(const raft::member_id& id,
                                          bool promote) {
  return change(raft::learner_atom::value, id, promote);
}

client::change_result client::promote(const raft::member_id& id) {
  return change(raft::promote_atom::value, id);
}

client::change_result client::remove(const raft::member_id& id) {
  return change(raft::remove_atom::value, id);
}

client::change_result client::transfer(const raft::member_id& id) {
  change_result r;
  caf::scoped_actor self{sys_};
  self->request(hdl_, timeout_ + grace, raft::transfer_atom::value, id)
    .receive([&](caf::ok_atom) { r.outcome = outcome::ok; },
             [&](caf::error& err) {
               r.outcome = raft::client_outcome_unknown(err) ? outcome::unknown
                                                             : outcome::failed;
               r.message = sys_.render(err);
             });
  return r;
}

caf::expected<raft::member_status>
client::status(const raft::member_id& id) {
  caf::scoped_actor self{sys_};
  caf::expected<raft::member_status> result{raft::member_status{}};
  self->request(hdl_, timeout_ + grace, raft::status_atom::value, id)
    .receive([&](raft::member_status& s) { result = std::move(s); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

} // namespace kv
