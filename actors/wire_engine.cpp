// The wire's sockets (wire_engine.hpp, docs/wire.md): one Asio io thread per
// process; listeners with their sessions, and dialed connections.
//
// Listener session states:
//
//   accept ──► [TLS handshake] ──► awaiting hello ──► member / client session
//      │ over limits: closed         │ deadline, bad frame, refused: closed
//
// Everything below runs on the io thread except where a function says
// "thread-safe" (it posts to the io thread).

#include "wire_engine.hpp"

#include <sys/resource.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "caf/send.hpp"

#include "raft/errc.hpp"

#include "remote_auth.hpp"
#include "remote_protocol.hpp"

namespace raft::wire {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using std::chrono::steady_clock;

namespace {

// -- the process's io thread ----------------------------------------------------------

/// One io_context and its thread for the whole process, never destroyed
/// (handlers may run until the process exits).
struct io_runtime {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::thread::id thread_id;

  io_runtime() : io(1), guard(asio::make_work_guard(io)) {
    std::promise<std::thread::id> started;
    auto fut = started.get_future();
    std::thread t{[this, &started] {
      started.set_value(std::this_thread::get_id());
      for (;;) {
        try {
          io.run();
          return;
        } catch (const std::exception& e) {
          remote::log_line("wire", std::string{"io thread: "} + e.what());
        }
      }
    }};
    thread_id = fut.get();
    t.detach();
  }

  bool on_io_thread() const {
    return std::this_thread::get_id() == thread_id;
  }
};

io_runtime& runtime() {
  static auto* rt = new io_runtime;
  return *rt;
}

template <class F>
void post(F&& f) {
  asio::post(runtime().io, std::forward<F>(f));
}

/// Runs `f` on the io thread and waits for it.
template <class F>
void run_on_io(F f) {
  if (runtime().on_io_thread()) {
    f();
    return;
  }
  std::promise<void> done;
  auto fut = done.get_future();
  post([&] {
    f();
    done.set_value();
  });
  fut.wait();
}

std::string ms(caf::timespan x) {
  return std::to_string(
           std::chrono::duration_cast<std::chrono::milliseconds>(x).count())
         + " ms";
}

// -- rate-limited refusal log ------------------------------------------------------------

/// At most `per_second` lines per second; suppressed lines are counted and
/// reported with the next line that gets through.
class refusal_log {
public:
  refusal_log(std::string who, size_t per_second)
    : who_(std::move(who)), per_second_(per_second) {
    // nop
  }

  void refused(const std::string& address, const std::string& identity,
               const std::string& why) {
    auto who = identity.empty() ? address
                                : "'" + identity + "' (" + address + ")";
    line("wire: refused " + who + ": " + why);
  }

  void line(const std::string& what) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto now = steady_clock::now();
    if (now - window_start_ >= std::chrono::seconds(1)) {
      window_start_ = now;
      in_window_ = 0;
    }
    if (in_window_ >= per_second_) {
      ++suppressed_;
      return;
    }
    ++in_window_;
    if (suppressed_ > 0) {
      remote::log_line(who_, "wire: suppressed " + std::to_string(suppressed_)
                               + " refusal lines");
      suppressed_ = 0;
    }
    remote::log_line(who_, what);
  }

private:
  std::mutex mtx_;
  std::string who_;
  size_t per_second_;
  steady_clock::time_point window_start_;
  size_t in_window_ = 0;
  uint64_t suppressed_ = 0;
};

// -- streams ----------------------------------------------------------------------------

/// A TCP socket, or a TLS stream over one.
class stream {
public:
  explicit stream(tcp::socket s) : plain_(std::move(s)) {
    // nop
  }

  void start_tls(ssl::context& ctx) {
    tls_ = std::make_unique<ssl::stream<tcp::socket>>(std::move(plain_), ctx);
  }

  tcp::socket& socket() {
    return tls_ ? tls_->next_layer() : plain_;
  }

  ssl::stream<tcp::socket>* tls() {
    return tls_.get();
  }

  template <class Buffer, class Handler>
  void async_read_some(const Buffer& buf, Handler&& h) {
    if (tls_)
      tls_->async_read_some(buf, std::forward<Handler>(h));
    else
      plain_.async_read_some(buf, std::forward<Handler>(h));
  }

  template <class Buffer, class Handler>
  void async_write(const Buffer& buf, Handler&& h) {
    if (tls_)
      asio::async_write(*tls_, buf, std::forward<Handler>(h));
    else
      asio::async_write(plain_, buf, std::forward<Handler>(h));
  }

  void close() {
    error_code ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
  }

private:
  tcp::socket plain_;
  std::unique_ptr<ssl::stream<tcp::socket>> tls_;
};

struct x509_free {
  void operator()(X509* x) const {
    X509_free(x);
  }
};

using x509_ptr = std::unique_ptr<X509, x509_free>;

x509_ptr peer_certificate(stream& s) {
  if (!s.tls())
    return nullptr;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  return x509_ptr{SSL_get1_peer_certificate(s.tls()->native_handle())};
#else
  return x509_ptr{SSL_get_peer_certificate(s.tls()->native_handle())};
#endif
}

/// The reason of a TLS failure, readable.
std::string tls_reason(const error_code& ec) {
  auto msg = ec.message();
  if (ec.category() == asio::error::get_ssl_category()) {
    // "tlsv1 alert unknown ca (SSL routines)" and the like.
    return msg;
  }
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
    return "connection closed during the TLS handshake";
  return msg;
}

constexpr size_t read_buffer_size = 16 * 1024;

// -- a connection: framing, reading, queued writes -------------------------------------------

class connection : public std::enable_shared_from_this<connection> {
public:
  connection(tcp::socket sock, const limits& lim)
    : s_(std::move(sock)),
      lim_(lim),
      rbuf_(new char[read_buffer_size]),
      opened_(steady_clock::now()),
      last_rx_(opened_) {
    // nop
  }

  virtual ~connection() = default;

  /// Queues an encoded frame; closes a peer that stopped reading.
  void write(std::string frame) {
    if (closed_)
      return;
    if (pending_.size() + frame.size() > lim_.max_queued_bytes) {
      failed("more than " + std::to_string(lim_.max_queued_bytes)
               + " bytes queued: the peer does not read",
             false);
      return;
    }
    if (pending_.empty())
      pending_ = std::move(frame);
    else
      pending_ += frame;
    if (!writing_)
      flush();
  }

  bool closed() const {
    return closed_;
  }

  /// Closes the socket (no more callbacks act on this connection).
  void shut() {
    if (closed_)
      return;
    closed_ = true;
    s_.close();
  }

protected:
  /// A whole frame arrived; false stops reading (the connection closed).
  virtual bool on_frame(frame_type type, std::string_view payload) = 0;

  /// Reading or writing failed, or the decoder refused the input.
  virtual void failed(const std::string& why, bool refused) = 0;

  void read() {
    auto self = shared_from_this();
    s_.async_read_some(
      asio::buffer(rbuf_.get(), read_buffer_size),
      [self](const error_code& ec, size_t n) {
        if (self->closed_)
          return;
        if (ec) {
          self->failed(ec == asio::error::eof
                           || ec == asio::ssl::error::stream_truncated
                         ? std::string{"connection closed by the peer"}
                         : ec.message(),
                       false);
          return;
        }
        self->last_rx_ = steady_clock::now();
        auto err = self->dec_.feed(self->rbuf_.get(), n,
                                   [&](frame_type t, std::string_view p) {
                                     return !self->closed_
                                            && self->on_frame(t, p);
                                   });
        if (err != decode_error::none) {
          auto why = std::string{to_string(err)};
          if (err == decode_error::too_large)
            why += ": " + std::to_string(self->dec_.announced())
                   + " bytes announced, limit "
                   + std::to_string(self->dec_.max_payload());
          if (err == decode_error::bad_magic && !self->s_.tls()
              && static_cast<uint8_t>(self->rbuf_[0]) == 0x16)
            why += " (a TLS client on a plain-TCP port?)";
          self->failed(why, true);
          return;
        }
        if (!self->closed_)
          self->read();
      });
  }

  void flush() {
    writing_ = true;
    writing_buf_.swap(pending_);
    pending_.clear();
    auto self = shared_from_this();
    s_.async_write(asio::buffer(writing_buf_),
                   [self](const error_code& ec, size_t) {
                     self->writing_ = false;
                     self->writing_buf_.clear();
                     if (self->closed_)
                       return;
                     if (ec) {
                       self->failed(ec.message(), false);
                       return;
                     }
                     if (!self->pending_.empty())
                       self->flush();
                   });
  }

  stream s_;
  const limits& lim_;
  frame_decoder dec_{handshake_max_payload};
  std::unique_ptr<char[]> rbuf_;
  std::string pending_;
  std::string writing_buf_;
  bool writing_ = false;
  bool closed_ = false;
  steady_clock::time_point opened_;
  steady_clock::time_point last_rx_;
};

class engine_impl;
class listener;

// -- listener sessions ------------------------------------------------------------------------

class session final : public connection {
public:
  session(std::shared_ptr<listener> lst, uint64_t id, tcp::socket sock,
          const limits& lim, std::string address)
    : connection(std::move(sock), lim),
      lst_(std::move(lst)),
      id_(id),
      address_(std::move(address)) {
    // nop
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

class listener : public std::enable_shared_from_this<listener> {
public:
  listener(std::shared_ptr<engine_impl> eng, listener_policy policy,
           const limits& lim, ssl::context* tls)
    : eng_(std::move(eng)),
      policy_(std::move(policy)),
      lim_(lim),
      tls_(tls),
      acceptor_(runtime().io),
      retry_timer_(runtime().io),
      log_(policy_.self_id, lim.log_lines_per_second) {
    rlimit rl{};
    max_connections_ = lim.max_connections;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
      // Leave descriptors for the log, snapshots and outgoing links.
      auto cap = rl.rlim_cur > 96 ? rl.rlim_cur - 64 : rl.rlim_cur / 2;
      max_connections_ = std::min<size_t>(max_connections_, cap);
    }
  }

  caf::expected<uint16_t> open(const std::string& host, uint16_t port) {
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

  void close() {
    closed_ = true;
    error_code ec;
    acceptor_.close(ec);
    retry_timer_.cancel();
    auto all = std::move(sessions_);
    sessions_.clear();
    for (auto& kvp : all)
      kvp.second->shut();
  }

  void reply(uint64_t id, std::string frame) {
    auto i = sessions_.find(id);
    if (i != sessions_.end())
      i->second->write(std::move(frame));
  }

  void sweep(steady_clock::time_point now) {
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

  const listener_policy& policy() const {
    return policy_;
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
    // Session ids grow with time: the first unauthenticated one is oldest.
    for (auto& kvp : sessions_) {
      if (!kvp.second->authenticated()) {
        auto s = kvp.second;
        s->refuse(refuse_code::overloaded, why + ": closed the oldest",
                  false);
        return;
      }
    }
  }

  std::shared_ptr<engine_impl> eng_;
  listener_policy policy_;
  const limits& lim_;
  ssl::context* tls_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  refusal_log log_;
  size_t max_connections_;
  std::map<uint64_t, std::shared_ptr<session>> sessions_;
  uint64_t next_id_ = 1;
  bool closed_ = false;
};

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
      std::string frame;
      encode_pong(frame);
      write(std::move(frame));
      return true;
    }
    case frame_type::pong:
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
    default:
      refuse(refuse_code::malformed,
             std::string{"unexpected "} + to_string(type) + " frame", true);
      return false;
  }
}

// -- dialed connections ----------------------------------------------------------------------

class dial_conn final : public connection, public dial_handle {
public:
  dial_conn(std::shared_ptr<engine_impl> eng, const limits& lim,
            std::string self_identity, member_id target, peer_kind kind,
            caf::actor owner)
    : connection(tcp::socket{runtime().io}, lim),
      eng_(std::move(eng)),
      self_identity_(std::move(self_identity)),
      target_(std::move(target)),
      kind_(kind),
      owner_(std::move(owner)),
      resolver_(runtime().io) {
    // nop
  }

  void start(ssl::context* tls);

  void send(std::string frame) override {
    auto self = std::static_pointer_cast<dial_conn>(shared_from_this());
    post([self, f = std::move(frame)]() mutable {
      if (self->established_)
        self->write(std::move(f));
    });
  }

  void close() override {
    auto self = std::static_pointer_cast<dial_conn>(shared_from_this());
    post([self] {
      self->owner_ = nullptr;
      self->shut();
    });
  }

  void sweep(steady_clock::time_point now) {
    if (closed_)
      return;
    if (!established_) {
      if (now - opened_ > lim_.connect_timeout)
        failed("no session within " + ms(lim_.connect_timeout), false);
      return;
    }
    if (now - last_rx_ > lim_.silence_timeout) {
      failed("nothing received for " + ms(lim_.silence_timeout), false);
      return;
    }
    // Ping on a schedule, whatever else is sent: the other side answers
    // only pings on this connection (its own messages travel on the
    // connection it dialed), so pongs are what proves it alive.
    if (now - last_ping_ >= lim_.ping_interval) {
      last_ping_ = now;
      std::string frame;
      encode_ping(frame);
      write(std::move(frame));
    }
  }

protected:
  bool on_frame(frame_type type, std::string_view payload) override;

  void failed(const std::string& why_in, bool refused) override {
    if (closed_)
      return;
    auto why = why_in;
    if (!established_ && !s_.tls()
        && (refused || why == "connection closed by the peer")) {
      why += " (a TLS member? then give the TLS options)";
      refused = true;
    }
    shut();
    if (owner_) {
      caf::anon_send(owner_, wire_down_atom::value, why, refused);
      owner_ = nullptr;
    }
  }

private:
  void connected(ssl::context* tls);
  void send_hello();

  std::shared_ptr<engine_impl> eng_;
  std::string self_identity_;
  member_id target_;
  peer_kind kind_;
  caf::actor owner_;
  tcp::resolver resolver_;
  bool established_ = false;
  steady_clock::time_point last_ping_;
};

bool dial_conn::on_frame(frame_type type, std::string_view payload) {
  if (!established_) {
    if (type == frame_type::refuse) {
      wire::refuse r;
      if (!decode(payload, r))
        failed(target_ + " refused the session (malformed refusal)", true);
      else if (r.code == refuse_code::access_denied)
        failed("access_denied: " + r.text, true);
      else
        failed(target_ + " refused the session: " + r.text, true);
      return false;
    }
    welcome w;
    if (type != frame_type::welcome || !decode(payload, w)) {
      failed(target_ + " sent no valid welcome", true);
      return false;
    }
    if (w.identity != target_) {
      failed(target_ + " answered as '" + w.identity + "'", true);
      return false;
    }
    established_ = true;
    dec_.set_max_payload(lim_.max_payload);
    if (owner_)
      caf::anon_send(owner_, wire_up_atom::value);
    return true;
  }
  switch (type) {
    case frame_type::pong:
      return true;
    case frame_type::ping: {
      std::string frame;
      encode_pong(frame);
      write(std::move(frame));
      return true;
    }
    case frame_type::client_reply: {
      client_reply r;
      if (!decode(payload, r)) {
        failed("malformed client reply from " + target_, true);
        return false;
      }
      remote::outcome_vector out;
      out.reserve(r.outcomes.size());
      for (auto& o : r.outcomes)
        out.push_back(remote::append_outcome{std::move(o.reply),
                                             std::move(o.error)});
      if (owner_)
        caf::anon_send(owner_, wire_reply_atom::value, r.id, std::move(out));
      return true;
    }
    case frame_type::status_reply: {
      status_reply r;
      if (!decode(payload, r)) {
        failed("malformed status reply from " + target_, true);
        return false;
      }
      if (!owner_)
        return true;
      if (r.error)
        caf::anon_send(owner_, wire_reply_atom::value, r.id,
                       std::move(r.error));
      else
        caf::anon_send(owner_, wire_reply_atom::value, r.id,
                       std::move(r.status));
      return true;
    }
    case frame_type::refuse: {
      wire::refuse r;
      auto text = decode(payload, r) ? r.text : std::string{"?"};
      failed(target_ + " closed the session: " + text,
             r.code == refuse_code::access_denied);
      return false;
    }
    default:
      failed(std::string{"unexpected "} + to_string(type) + " frame from "
               + target_,
             false);
      return false;
  }
}

class engine_impl final : public engine,
                          public std::enable_shared_from_this<engine_impl> {
public:
  engine_impl(std::string identity, limits lim,
              std::unique_ptr<ssl::context> tls)
    : identity_(std::move(identity)), lim_(lim), tls_(std::move(tls)) {
    // nop
  }

  ~engine_impl() override = default;

  void start_sweeping() {
    auto timer = std::make_shared<asio::steady_timer>(runtime().io);
    std::weak_ptr<engine_impl> weak = shared_from_this();
    post([timer, weak] { tick(timer, weak); });
  }

  static void tick(std::shared_ptr<asio::steady_timer> timer,
                   std::weak_ptr<engine_impl> weak) {
    auto self = weak.lock();
    if (!self || self->stopped_)
      return;
    auto now = steady_clock::now();
    if (self->listener_)
      self->listener_->sweep(now);
    auto& dials = self->dials_;
    for (size_t i = 0; i < dials.size();) {
      auto d = dials[i].lock();
      if (!d || d->closed()) {
        dials[i] = dials.back();
        dials.pop_back();
        continue;
      }
      d->sweep(now);
      ++i;
    }
    self.reset();
    timer->expires_after(std::chrono::milliseconds(50));
    timer->async_wait([timer, weak](const error_code& ec) {
      if (!ec)
        tick(timer, weak);
    });
  }

  caf::expected<uint16_t> listen(const std::string& host, uint16_t port,
                                 listener_policy policy) override {
    caf::expected<uint16_t> result{uint16_t{0}};
    run_on_io([&] {
      auto l = std::make_shared<listener>(shared_from_this(),
                                          std::move(policy), lim_,
                                          tls_.get());
      result = l->open(host, port);
      if (result)
        listener_ = std::move(l);
    });
    return result;
  }

  void reply(uint64_t session, std::string frame) override {
    auto self = shared_from_this();
    post([self, session, f = std::move(frame)]() mutable {
      if (self->listener_)
        self->listener_->reply(session, std::move(f));
    });
  }

  dial_handle_ptr dial(const member_id& target, peer_kind kind,
                       caf::actor owner) override {
    auto d = std::make_shared<dial_conn>(shared_from_this(), lim_, identity_,
                                         target, kind, std::move(owner));
    auto self = shared_from_this();
    post([self, d] {
      self->dials_.push_back(d);
      d->start(self->tls_.get());
    });
    return d;
  }

  void shutdown() override {
    auto self = shared_from_this();
    run_on_io([self] {
      self->stopped_ = true;
      if (self->listener_) {
        self->listener_->close();
        self->listener_ = nullptr;
      }
      for (auto& w : self->dials_)
        if (auto d = w.lock())
          d->shut();
      self->dials_.clear();
    });
  }

  const limits& get_limits() const override {
    return lim_;
  }

private:
  std::string identity_;
  limits lim_;
  std::unique_ptr<ssl::context> tls_;
  std::shared_ptr<listener> listener_;
  std::vector<std::weak_ptr<dial_conn>> dials_;
  bool stopped_ = false;
};

void dial_conn::start(ssl::context* tls) {
  auto hp = split_host_port(target_);
  if (!hp) {
    failed("'" + target_ + "' is not HOST:PORT", true);
    return;
  }
  auto self = std::static_pointer_cast<dial_conn>(shared_from_this());
  resolver_.async_resolve(
    hp->first, std::to_string(hp->second),
    [self, tls](const error_code& ec, tcp::resolver::results_type results) {
      if (self->closed_)
        return;
      if (ec) {
        self->failed("cannot resolve " + self->target_ + ": " + ec.message(),
                     false);
        return;
      }
      asio::async_connect(self->s_.socket(), results,
                          [self, tls](const error_code& ec,
                                      const tcp::endpoint&) {
                            if (self->closed_)
                              return;
                            if (ec) {
                              self->failed(self->target_ + ": "
                                             + ec.message(),
                                           false);
                              return;
                            }
                            self->connected(tls);
                          });
    });
}

void dial_conn::connected(ssl::context* tls) {
  error_code ec;
  s_.socket().set_option(tcp::no_delay(true), ec);
  if (!tls) {
    send_hello();
    read();
    return;
  }
  s_.start_tls(*tls);
  auto self = std::static_pointer_cast<dial_conn>(shared_from_this());
  s_.tls()->async_handshake(
    ssl::stream_base::client, [self](const error_code& ec) {
      if (self->closed_)
        return;
      if (ec) {
        auto verify = SSL_get_verify_result(self->s_.tls()->native_handle());
        if (verify != X509_V_OK)
          self->failed("the CA did not issue " + self->target_
                         + "'s certificate ("
                         + X509_verify_cert_error_string(verify) + ")",
                       true);
        else
          self->failed("TLS handshake with " + self->target_
                         + " failed: " + tls_reason(ec),
                       true);
        return;
      }
      // The member we dialed must be the one its certificate names.
      auto cert = peer_certificate(self->s_);
      if (!remote::certificate_names(cert.get(), self->target_)) {
        self->failed("the certificate of " + self->target_
                       + " does not name it",
                     true);
        return;
      }
      self->send_hello();
      self->read();
    });
}

void dial_conn::send_hello() {
  std::string frame;
  encode(frame, hello{self_identity_, kind_, target_, lim_.max_payload});
  // Before established_: written directly.
  write(std::move(frame));
}

} // namespace

dial_handle::~dial_handle() = default;

engine::~engine() = default;

caf::expected<engine_ptr> engine::make(std::string identity,
                                       const tls_options& tls, limits lim) {
  std::unique_ptr<ssl::context> ctx;
  if (tls.enabled()) {
    if (auto err = validate(tls))
      return err;
    ctx = std::make_unique<ssl::context>(ssl::context::tls);
    error_code ec;
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                       | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                       | ssl::context::no_tlsv1_1,
                     ec);
    if (!ec)
      ctx->use_certificate_chain_file(tls.certificate, ec);
    if (!ec)
      ctx->use_private_key_file(tls.key, ssl::context::pem, ec);
    if (!ec)
      ctx->load_verify_file(tls.ca_file, ec);
    if (!ec)
      ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert,
                           ec);
    if (ec)
      return make_error(errc::invalid_config,
                        "cannot load the TLS files: " + ec.message());
  }
  auto eng = std::make_shared<engine_impl>(std::move(identity), lim,
                                           std::move(ctx));
  eng->start_sweeping();
  return engine_ptr{eng};
}

} // namespace raft::wire
