// Internals of the wire's sockets shared by wire_listener.cpp, wire_dial.cpp
// and wire_engine.cpp (docs/wire.md): the process's io thread, the
// rate-limited refusal log, plain/TLS streams, and the connection base class
// (incremental framing, reading, queued and coalesced writes). Everything
// here runs on the io thread except post() and run_on_io().
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "remote_protocol.hpp"
#include "wire_engine.hpp"

namespace raft::wire::detail {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using std::chrono::steady_clock;

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

inline io_runtime& runtime() {
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

inline std::string ms(caf::timespan x) {
  return std::to_string(
           std::chrono::duration_cast<std::chrono::milliseconds>(x).count())
         + " ms";
}

// -- rate-limited refusal log ------------------------------------------------------------

/// At most `per_second` refusal lines per second, and as many other lines
/// (sessions that end, accept failures) on a budget of their own, so that
/// clients coming and going can never crowd a refusal out. Suppressed lines
/// are counted and reported with the next line of their kind that gets
/// through.
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
    emit(refusals_, "wire: refused " + who + ": " + why, "refusal");
  }

  void line(const std::string& what) {
    emit(others_, what, "session");
  }

private:
  struct window {
    steady_clock::time_point start;
    size_t lines = 0;
    uint64_t suppressed = 0;
  };

  void emit(window& w, const std::string& what, const char* kind) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto now = steady_clock::now();
    if (now - w.start >= std::chrono::seconds(1)) {
      w.start = now;
      w.lines = 0;
    }
    if (w.lines >= per_second_) {
      ++w.suppressed;
      return;
    }
    ++w.lines;
    if (w.suppressed > 0) {
      remote::log_line(who_, "wire: suppressed " + std::to_string(w.suppressed)
                               + " " + kind + " lines");
      w.suppressed = 0;
    }
    remote::log_line(who_, what);
  }

  std::mutex mtx_;
  std::string who_;
  size_t per_second_;
  window refusals_;
  window others_;
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

inline x509_ptr peer_certificate(stream& s) {
  if (!s.tls())
    return nullptr;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  return x509_ptr{SSL_get1_peer_certificate(s.tls()->native_handle())};
#else
  return x509_ptr{SSL_get_peer_certificate(s.tls()->native_handle())};
#endif
}

/// The reason of a TLS failure, readable.
inline std::string tls_reason(const error_code& ec) {
  auto msg = ec.message();
  if (ec.category() == asio::error::get_ssl_category()) {
    // "tlsv1 alert unknown ca (SSL routines)" and the like.
    return msg;
  }
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
    return "connection closed during the TLS handshake";
  return msg;
}

inline constexpr size_t read_buffer_size = 16 * 1024;

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

  /// Queues an encoded frame; closes a peer that stopped reading (io
  /// thread). Frames queued while a write is in flight go out together in
  /// the next one.
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

  /// Closes the socket (no more callbacks act on this connection) and
  /// frees an incomplete frame's buffer (at once, so that a budget it was
  /// charged to has the room back; after feed when called from inside it).
  void shut() {
    if (closed_)
      return;
    closed_ = true;
    s_.close();
    if (!feeding_)
      dec_.reset();
  }

  /// True while the peer has sent nothing yet: no byte of a frame and, with
  /// TLS, no ClientHello. Connection floods are made of such connections;
  /// a real client sends its first bytes right after connecting.
  bool silent() {
    if (!bytes_seen_ && s_.tls() != nullptr)
      return SSL_get_state(s_.tls()->native_handle()) == TLS_ST_BEFORE;
    return !bytes_seen_;
  }

protected:
  /// A whole frame arrived; false stops reading (the connection closed).
  virtual bool on_frame(frame_type type, std::string_view payload) = 0;

  /// Reading or writing failed, or the decoder refused the input.
  virtual void failed(const std::string& why, bool refused) = 0;

  /// Details for a refusal over the memory budget (listener sessions).
  virtual std::string budget_note() {
    return {};
  }

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
        self->bytes_seen_ = true;
        self->feeding_ = true;
        auto err = self->dec_.feed(self->rbuf_.get(), n,
                                   [&](frame_type t, std::string_view p) {
                                     return !self->closed_
                                            && self->on_frame(t, p);
                                   });
        self->feeding_ = false;
        if (self->closed_)
          self->dec_.reset();
        if (err != decode_error::none) {
          auto why = std::string{to_string(err)};
          if (err == decode_error::too_large)
            why += ": " + std::to_string(self->dec_.announced())
                   + " bytes announced, limit "
                   + std::to_string(self->dec_.max_payload());
          if (err == decode_error::unexpected_payload)
            why += ": a ping or pong announcing "
                   + std::to_string(self->dec_.announced()) + " bytes";
          if (err == decode_error::over_budget)
            why += self->budget_note();
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
  /// Inside dec_.feed (the decoder's buffer is in use).
  bool feeding_ = false;
  /// Any byte received (see silent()).
  bool bytes_seen_ = false;
  steady_clock::time_point opened_;
  steady_clock::time_point last_rx_;
};

// -- the pieces the engine assembles ---------------------------------------------------

/// A member's listener and its sessions (wire_listener.cpp).
class listener_base {
public:
  virtual ~listener_base() = default;
  /// Binds and starts accepting.
  virtual caf::expected<uint16_t> open(const std::string& host,
                                       uint16_t port) = 0;
  /// Stops accepting and closes every session.
  virtual void close() = 0;
  /// Queues a frame for a session (dropped if it is gone).
  virtual void reply(uint64_t session, std::string frame) = 0;
  /// Deadlines and idle sessions.
  virtual void sweep(steady_clock::time_point now) = 0;
  /// Accepts member sessions from `id` from now on.
  virtual void allow_member(const member_id& id) = 0;
};

std::shared_ptr<listener_base>
make_listener(std::shared_ptr<engine> eng, listener_policy policy,
              const limits& lim, ssl::context* tls);

/// A dialed connection (wire_dial.cpp).
class dialed : public dial_handle {
public:
  /// Resolves, connects, runs TLS and the hello.
  virtual void start(ssl::context* tls) = 0;
  /// Connect deadline, pings, silence.
  virtual void sweep(steady_clock::time_point now) = 0;
  /// Closed for good (the engine forgets it).
  virtual bool finished() const = 0;
  /// Closes it from the io thread.
  virtual void shut_now() = 0;
};

std::shared_ptr<dialed> make_dialed(std::shared_ptr<engine> eng,
                                    const limits& lim,
                                    std::string self_identity,
                                    member_id target, peer_kind kind,
                                    caf::actor owner, uint64_t tag);

} // namespace raft::wire::detail
