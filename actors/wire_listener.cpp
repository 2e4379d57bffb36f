// A member's listener (docs/wire.md, "Sessions" and "Limits"): accepts,
// runs each session's TLS handshake and hello, binds the session's
// identity, checks every Raft RPC's sender against it, hands client
// operations to the bridge, and enforces the limits; every refusal is
// logged, rate-limited.
//
//   accept ──► [TLS handshake] ──► awaiting hello ──► member / client session
//      │ over limits: closed         │ deadline, bad frame, refused: closed

#include "wire_io.hpp"

#include <sys/resource.h>

#include <map>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "caf/send.hpp"

#include "raft/errc.hpp"
#include "raft/remote.hpp"

#include "remote_auth.hpp"
#include "remote_protocol.hpp"

namespace raft::wire::detail {

namespace {

class listener;

/// Longest member id a membership request may name: a DNS name (253
/// bytes), a colon and a port.
constexpr size_t max_member_id = 253 + 1 + 5;

/// The first member id of `req` (its member, or one of its target's) that
/// is not HOST:PORT, shortened for the log; empty if there is none.
std::string bogus_member_id(const membership_request& req) {
  auto bad = [](const member_id& id) {
    return id.size() > max_member_id || !split_host_port(id);
  };
  auto shown = [](const member_id& id) {
    return id.size() <= 64 ? id : id.substr(0, 64) + "...";
  };
  if (!req.member.empty() && bad(req.member))
    return shown(req.member);
  for (auto* xs : {&req.target.voters, &req.target.learners,
                   &req.target.old_voters})
    for (auto& id : *xs)
      if (bad(id))
        return shown(id);
  return {};
}

// -- listener sessions ------------------------------------------------------------------------

/// A listener session; also the account through which its decoder draws
/// on the listener's budget for incomplete frames.
class session final : public connection, public buffer_budget {
public:
  session(std::shared_ptr<listener> lst, uint64_t id, tcp::socket sock,
          const limits& lim, std::string address)
    : connection(std::move(sock), lim),
      lst_(std::move(lst)),
      id_(id),
      address_(std::move(address)) {
    dec_.set_budget(this);
  }

  ~session() override {
    // The decoder outlives this part of the object: settle the account now.
    dec_.reset();
    dec_.set_budget(nullptr);
  }

  bool take(size_t n) override;
  void give_back(size_t n) override;

  /// Bytes its incomplete frame holds.
  size_t held() const {
    return dec_.held();
  }

  /// An authenticated member session: the last to give up memory.
  bool member_session() const {
    return authenticated_ && kind_ == peer_kind::member;
  }

  const std::string& identity() const {
    return identity_;
  }

  void start(ssl::context* tls);

  /// Called by the sweep timer.
  void sweep(steady_clock::time_point now);

  uint64_t id() const {
    return id_;
  }

  bool authenticated() const {
    return authenticated_;
  }

  steady_clock::time_point opened() const {
    return opened_;
  }

  /// Refuses: logs, sends a refuse frame when the session can carry one,
  /// closes.
  void refuse(refuse_code code, const std::string& why, bool send_frame);

protected:
  bool on_frame(frame_type type, std::string_view payload) override;
  void failed(const std::string& why, bool refused) override;
  std::string budget_note() override;

private:
  bool on_hello(std::string_view payload);
  template <class Rpc>
  bool deliver_rpc(std::string_view payload, member_id Rpc::*sender);

  std::shared_ptr<listener> lst_;
  uint64_t id_;
  std::string address_;
  std::string identity_;
  peer_kind kind_ = peer_kind::client;
  bool authenticated_ = false;
  x509_ptr cert_;
};

class listener final : public listener_base,
                       public std::enable_shared_from_this<listener> {
public:
  listener(std::shared_ptr<engine> eng, listener_policy policy,
           const limits& lim, ssl::context* tls)
    : eng_(std::move(eng)),
      policy_(std::move(policy)),
      lim_(lim),
      tls_(tls),
      acceptor_(runtime().io),
      retry_timer_(runtime().io),
      log_(policy_.self_id, lim.log_lines_per_second) {
    rlimit rl{};
    // A member session must always fit one frame of the session limit.
    budget_ = std::max<size_t>(lim.max_incomplete_frame_bytes,
                               size_t{lim.max_payload} + header_size);
    max_connections_ = lim.max_connections;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
      // Leave descriptors for the log, snapshots and outgoing links.
      auto cap = rl.rlim_cur > 96 ? rl.rlim_cur - 64 : rl.rlim_cur / 2;
      max_connections_ = std::min<size_t>(max_connections_, cap);
    }
  }

  caf::expected<uint16_t> open(const std::string& host,
                               uint16_t port) override {
    error_code ec;
    auto addr = asio::ip::make_address(host == "localhost" ? "127.0.0.1"
                                                           : host,
                                       ec);
    if (ec) {
      tcp::resolver res{runtime().io};
      auto results = res.resolve(host, std::to_string(port), ec);
      if (ec || results.empty())
        return make_error(errc::invalid_config,
                          "cannot resolve '" + host + "'");
      addr = results.begin()->endpoint().address();
    }
    tcp::endpoint ep{addr, port};
    acceptor_.open(ep.protocol(), ec);
    if (!ec)
      acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
      acceptor_.bind(ep, ec);
    if (!ec)
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return make_error(errc::invalid_config, "cannot listen on " + host + ":"
                                                + std::to_string(port) + ": "
                                                + ec.message());
    accept();
    return acceptor_.local_endpoint().port();
  }

  void close() override {
    closed_ = true;
    error_code ec;
    acceptor_.close(ec);
    retry_timer_.cancel();
    auto all = std::move(sessions_);
    sessions_.clear();
    for (auto& kvp : all)
      kvp.second->shut();
  }

  void reply(uint64_t id, std::string frame) override {
    auto i = sessions_.find(id);
    if (i != sessions_.end())
      i->second->write(std::move(frame));
  }

  void sweep(steady_clock::time_point now) override {
    if (closed_)
      return;
    std::vector<std::shared_ptr<session>> all;
    all.reserve(sessions_.size());
    for (auto& kvp : sessions_)
      all.push_back(kvp.second);
    for (auto& s : all)
      s->sweep(now);
  }

  void remove(uint64_t id) {
    sessions_.erase(id);
  }

  // -- the budget for incomplete frames (docs/wire.md, "Limits") ------------

  /// Session `s` wants its incomplete frame to grow by `n` bytes. Within the
  /// budget: granted. Beyond it, a member session makes room by closing the
  /// other sessions (clients, strangers) that hold the most, largest
  /// first; anyone else is refused (its caller closes it).
  bool take(session& s, size_t n) {
    if (held_ + n > budget_ && s.member_session())
      make_room_for(s, n);
    if (held_ + n > budget_)
      return false;
    held_ += n;
    return true;
  }

  void give_back(size_t n) {
    held_ -= std::min(n, held_);
  }

  size_t held() const {
    return held_;
  }

  size_t budget() const {
    return budget_;
  }

  const listener_policy& policy() const {
    return policy_;
  }

  void allow_member(const member_id& id) override {
    policy_.members.insert(id);
  }

  const limits& lim() const {
    return lim_;
  }

  refusal_log& log() {
    return log_;
  }

  bool tls() const {
    return tls_ != nullptr;
  }

private:
  void accept() {
    auto self = shared_from_this();
    acceptor_.async_accept([self](const error_code& ec, tcp::socket sock) {
      if (self->closed_)
        return;
      if (ec) {
        if (ec == asio::error::operation_aborted)
          return;
        self->log_.line("wire: accept failed: " + ec.message());
        if (ec == asio::error::no_descriptors
            || ec.value() == ENFILE || ec.value() == ENOBUFS
            || ec.value() == ENOMEM) {
          // Out of descriptors: free one held by a stranger, retry soon.
          self->close_oldest_unauthenticated("out of descriptors");
          self->retry_timer_.expires_after(std::chrono::milliseconds(50));
          self->retry_timer_.async_wait([self](const error_code& ec) {
            if (!ec && !self->closed_)
              self->accept();
          });
          return;
        }
        self->accept();
        return;
      }
      self->on_accept(std::move(sock));
      self->accept();
    });
  }

  void on_accept(tcp::socket sock) {
    error_code ec;
    auto ep = sock.remote_endpoint(ec);
    auto address = ec ? std::string{"?"}
                      : ep.address().to_string() + ":"
                          + std::to_string(ep.port());
    sock.set_option(tcp::no_delay(true), ec);
    if (sessions_.size() >= max_connections_) {
      log_.refused(address, {}, "too many connections ("
                                  + std::to_string(max_connections_) + ")");
      sock.close(ec);
      return;
    }
    size_t unauthenticated = 0;
    for (auto& kvp : sessions_)
      if (!kvp.second->authenticated())
        ++unauthenticated;
    if (unauthenticated >= lim_.max_unauthenticated)
      close_oldest_unauthenticated(
        "more than " + std::to_string(lim_.max_unauthenticated)
        + " unauthenticated connections");
    auto id = next_id_++;
    auto s = std::make_shared<session>(shared_from_this(), id, std::move(sock),
                                       lim_, std::move(address));
    sessions_.emplace(id, s);
    s->start(tls_);
  }

  void close_oldest_unauthenticated(const std::string& why) {
    // A flood is made of connections that send nothing; a real client
    // sends its hello (or TLS ClientHello) at once and may be in the middle
    // of its handshake. So the oldest silent connection goes first, and
    // only without one the oldest of the rest. Session ids grow with time.
    std::shared_ptr<session> oldest;
    for (auto& kvp : sessions_) {
      auto s = kvp.second; // a copy: refuse() erases the map's
      if (s->authenticated())
        continue;
      if (s->silent()) {
        s->refuse(refuse_code::overloaded,
                  why + ": closed the oldest that sent nothing", false);
        return;
      }
      if (!oldest)
        oldest = s;
    }
    if (oldest)
      oldest->refuse(refuse_code::overloaded, why + ": closed the oldest",
                     false);
  }

  void make_room_for(session& s, size_t n) {
    while (held_ + n > budget_) {
      std::shared_ptr<session> victim;
      for (auto& kvp : sessions_) {
        auto& v = kvp.second;
        if (v.get() != &s && !v->member_session() && v->held() > 0
            && (!victim || v->held() > victim->held()))
          victim = v;
      }
      if (!victim)
        return;
      victim->refuse(refuse_code::overloaded,
                     "incomplete frame of " + std::to_string(victim->held())
                       + " bytes closed to make room for member '"
                       + s.identity() + "' (budget "
                       + std::to_string(budget_) + " bytes)",
                     false);
    }
  }

  std::shared_ptr<engine> eng_;
  listener_policy policy_;
  const limits& lim_;
  ssl::context* tls_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  refusal_log log_;
  size_t max_connections_;
  /// The budget for incomplete frames and what the sessions hold of it.
  size_t budget_ = 0;
  size_t held_ = 0;
  std::map<uint64_t, std::shared_ptr<session>> sessions_;
  uint64_t next_id_ = 1;
  bool closed_ = false;
};

bool session::take(size_t n) {
  return lst_->take(*this, n);
}

void session::give_back(size_t n) {
  lst_->give_back(n);
}

std::string session::budget_note() {
  return ": this session holds " + std::to_string(held())
         + " bytes, all sessions " + std::to_string(lst_->held())
         + " of the member's budget of " + std::to_string(lst_->budget())
         + " bytes";
}

void session::start(ssl::context* tls) {
  if (!tls) {
    read();
    return;
  }
  s_.start_tls(*tls);
  auto self = std::static_pointer_cast<session>(shared_from_this());
  s_.tls()->async_handshake(ssl::stream_base::server,
                            [self](const error_code& ec) {
                              if (self->closed_)
                                return;
                              if (ec) {
                                self->refuse(refuse_code::malformed,
                                             "TLS handshake failed: "
                                               + tls_reason(ec),
                                             false);
                                return;
                              }
                              self->cert_ = peer_certificate(self->s_);
                              self->read();
                            });
}

void session::refuse(refuse_code code, const std::string& why,
                     bool send_frame) {
  if (closed_)
    return;
  lst_->log().refused(address_, identity_, why);
  if (send_frame && !writing_) {
    // Best effort: the frame goes out, then the socket closes.
    std::string frame;
    encode(frame, wire::refuse{code, why});
    auto self = std::static_pointer_cast<session>(shared_from_this());
    auto buf = std::make_shared<std::string>(std::move(frame));
    closed_ = true;
    if (!feeding_)
      dec_.reset();
    lst_->remove(id_);
    s_.async_write(asio::buffer(*buf),
                   [self, buf](const error_code&, size_t) {
                     self->s_.close();
                   });
    return;
  }
  shut();
  lst_->remove(id_);
}

void session::failed(const std::string& why, bool refused) {
  if (closed_)
    return;
  if (refused || !authenticated_) {
    refuse(refuse_code::malformed,
           authenticated_ ? why : why + " (before the handshake)", false);
    return;
  }
  // Rate-limited too: a client that reconnects in a loop must not flood
  // the log.
  lst_->log().line("wire: session of '" + identity_ + "' (" + address_
                   + ") ended: " + why);
  shut();
  lst_->remove(id_);
}

void session::sweep(steady_clock::time_point now) {
  if (closed_)
    return;
  auto& lim = lst_->lim();
  if (!authenticated_) {
    if (now - opened_ > lim.handshake_timeout)
      refuse(refuse_code::malformed,
             "no handshake within " + ms(lim.handshake_timeout), false);
    return;
  }
  auto idle = kind_ == peer_kind::client ? lim.client_idle_timeout
                                         : lim.member_idle_timeout;
  if (now - last_rx_ > idle) {
    lst_->log().line("wire: closed the idle session of '" + identity_
                     + "' (" + address_ + "): nothing received for "
                     + ms(idle));
    shut();
    lst_->remove(id_);
  }
}

bool session::on_hello(std::string_view payload) {
  auto& pol = lst_->policy();
  hello h;
  if (!decode(payload, h)) {
    refuse(refuse_code::malformed, "malformed hello", true);
    return false;
  }
  // With TLS the identity comes from the certificate; the hello must name
  // one of its names. Without TLS it is only claimed.
  if (lst_->tls() && !remote::certificate_names(cert_.get(), h.identity)) {
    refuse(refuse_code::identity_mismatch,
           "hello claims '" + h.identity
             + "', which its certificate does not name",
           true);
    return false;
  }
  identity_ = h.identity;
  if (h.target != pol.self_id) {
    refuse(refuse_code::wrong_target,
           "asked for '" + h.target + "', this is '" + pol.self_id + "'",
           true);
    return false;
  }
  bool is_member = pol.members.count(h.identity) > 0
                   && h.identity != pol.self_id;
  if (h.kind == peer_kind::member && !is_member) {
    refuse(refuse_code::not_a_member,
           "member session from '" + h.identity + "', not a member", true);
    return false;
  }
  if (!is_member && !pol.clients.empty()
      && pol.clients.count(h.identity) == 0) {
    refuse(refuse_code::access_denied,
           "identity '" + h.identity + "' is not in the access list", true);
    return false;
  }
  kind_ = h.kind;
  authenticated_ = true;
  dec_.set_max_payload(lim_.max_payload);
  std::string frame;
  encode(frame, welcome{pol.self_id, lim_.max_payload});
  write(std::move(frame));
  return true;
}

template <class Rpc>
bool session::deliver_rpc(std::string_view payload, member_id Rpc::*sender) {
  if (kind_ != peer_kind::member) {
    refuse(refuse_code::not_a_member, "Raft RPCs are for members only", true);
    return false;
  }
  Rpc msg;
  if (!decode(payload, msg)) {
    refuse(refuse_code::malformed, "malformed Raft RPC", true);
    return false;
  }
  // The sender is the session's identity, never what the message says.
  if (msg.*sender != identity_) {
    refuse(refuse_code::identity_mismatch,
           "message claims to come from '" + msg.*sender + "'", true);
    return false;
  }
  caf::anon_send(lst_->policy().member, std::move(msg));
  return true;
}

bool session::on_frame(frame_type type, std::string_view payload) {
  if (!authenticated_) {
    // Nothing but the hello is decoded before authentication.
    if (type != frame_type::hello) {
      refuse(refuse_code::malformed,
             std::string{to_string(type)} + " frame before the hello", true);
      return false;
    }
    return on_hello(payload);
  }
  switch (type) {
    case frame_type::ping: {
      // The decoder refuses a ping announcing a payload; checked here too,
      // whatever the decoder does (docs/wire.md: bytes left over make a
      // payload malformed).
      if (!payload.empty()) {
        refuse(refuse_code::malformed, "malformed ping: it carries a payload",
               true);
        return false;
      }
      std::string frame;
      encode_pong(frame);
      write(std::move(frame));
      return true;
    }
    case frame_type::pong:
      if (!payload.empty()) {
        refuse(refuse_code::malformed, "malformed pong: it carries a payload",
               true);
        return false;
      }
      return true;
    case frame_type::request_vote_request:
      return deliver_rpc(payload, &request_vote_request::candidate_id);
    case frame_type::request_vote_response:
      return deliver_rpc(payload, &request_vote_response::from);
    case frame_type::append_entries_request:
      return deliver_rpc(payload, &append_entries_request::leader_id);
    case frame_type::append_entries_response:
      return deliver_rpc(payload, &append_entries_response::from);
    case frame_type::install_snapshot_request:
      return deliver_rpc(payload, &install_snapshot_request::leader_id);
    case frame_type::install_snapshot_response:
      return deliver_rpc(payload, &install_snapshot_response::from);
    case frame_type::timeout_now_request:
      return deliver_rpc(payload, &timeout_now_request::leader_id);
    case frame_type::client_request: {
      client_request req;
      if (!decode(payload, req)) {
        refuse(refuse_code::malformed, "malformed client request", true);
        return false;
      }
      caf::anon_send(lst_->policy().bridge, wire_req_atom::value, id_, req.id,
                     static_cast<uint8_t>(req.op),
                     remote::payload_vector(std::move(req.commands)));
      return true;
    }
    case frame_type::membership_request: {
      membership_request req;
      if (!decode(payload, req)) {
        refuse(refuse_code::malformed, "malformed membership request", true);
        return false;
      }
      // Changing the cluster is administrative: with an admin list, only
      // its identities (docs/wire.md, "Sessions"). Answered, not closed:
      // the same session may still read.
      auto& pol = lst_->policy();
      if (changes_cluster(req.op) && !pol.admins.empty()
          && pol.admins.count(identity_) == 0) {
        lst_->log().refused(address_, identity_,
                            "identity '" + identity_
                              + "' may not change the cluster (not in the "
                                "admin list)");
        std::string frame;
        encode(frame, membership_reply{
                        req.id, {},
                        make_error(errc::access_denied,
                                   "'" + identity_
                                     + "' is not in the admin list")});
        write(std::move(frame));
        return true;
      }
      // A member id from the network names a process to dial: it must be
      // HOST:PORT (raft/remote.hpp) before the member stores it in a
      // configuration entry. Answered, not closed, like the admin check.
      if (auto bad = bogus_member_id(req); !bad.empty()) {
        lst_->log().refused(address_, identity_,
                            "membership request names '" + bad
                              + "', which is not HOST:PORT");
        std::string frame;
        encode(frame, membership_reply{
                        req.id, {},
                        make_error(errc::invalid_config,
                                   "'" + bad + "' is not HOST:PORT")});
        write(std::move(frame));
        return true;
      }
      caf::anon_send(pol.bridge, wire_member_atom::value, id_, req.id,
                     static_cast<uint8_t>(req.op), std::move(req.member),
                     req.promote, std::move(req.target));
      return true;
    }
    default:
      refuse(refuse_code::malformed,
             std::string{"unexpected "} + to_string(type) + " frame", true);
      return false;
  }
}

} // namespace

std::shared_ptr<listener_base>
make_listener(std::shared_ptr<engine> eng, listener_policy policy,
              const limits& lim, ssl::context* tls) {
  return std::make_shared<listener>(std::move(eng), std::move(policy), lim,
                                    tls);
}

} // namespace raft::wire::detail
