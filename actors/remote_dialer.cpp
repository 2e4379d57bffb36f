// A dialer: one connection attempt to a gate, on its own thread, so that a
// host that drops packets blocks nobody else. It first probes the member
// with a short timeout, then asks the middleman actor, asynchronously, for
// the published actor.
//
// Why probe: CAF 0.17's middleman actor connects with a blocking connect(),
// so one silent host would stall every later connection behind it. And the
// probe must speak the member's protocol promptly, because caf::openssl
// 0.17.6 runs SSL_accept on a still-blocking socket inside the multiplexer:
// a TLS member whose port is opened by something that does not start a TLS
// handshake at once (a bare TCP probe, a plain-TCP client) stalls all its
// I/O until that peer sends or closes (docs/operations.md). So:
// - plain: connect and wait for the BASP greeting (a plain CAF server
//   speaks first; a TLS one waits for a ClientHello), at most
//   probe_timeout; no greeting means "not a plain member (TLS?)".
// - TLS: connect and complete a TLS handshake with our certificate, which
//   also checks the server's certificate against the CA, then close.

#include "remote_protocol.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/io/middleman.hpp"
#include "caf/io/middleman_actor.hpp"
#include "caf/node_id.hpp"
#include "caf/openssl/manager.hpp"

#include "raft/errc.hpp"

namespace raft::remote {

namespace {

caf::error unreachable(const std::string& id, const std::string& why) {
  return make_error(errc::unreachable, id + ": " + why);
}

/// Closes a socket when it goes out of scope.
struct socket_guard {
  int fd = -1;
  ~socket_guard() {
    if (fd >= 0)
      ::close(fd);
  }
};

/// Connects to host:port within `timeout`; the socket stays non-blocking.
caf::error tcp_connect(const std::string& id, const std::string& host,
                       uint16_t port, caf::timespan timeout,
                       socket_guard& sock) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  auto service = std::to_string(port);
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &res) != 0 || !res)
    return unreachable(id, "cannot resolve '" + host + "'");
  sock.fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                   0);
  if (sock.fd < 0) {
    freeaddrinfo(res);
    return unreachable(id, std::string{"socket(): "} + strerror(errno));
  }
  auto rc = ::connect(sock.fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  int err = 0;
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{sock.fd, POLLOUT, 0};
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
    rc = ::poll(&p, 1, static_cast<int>(ms.count()));
    if (rc == 0) {
      err = ETIMEDOUT;
    } else if (rc < 0) {
      err = errno;
    } else {
      socklen_t len = sizeof(err);
      getsockopt(sock.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
  } else if (rc != 0) {
    err = errno;
  }
  if (err != 0)
    return unreachable(id, strerror(err));
  return caf::none;
}

/// Plain: a CAF server greets first (its BASP handshake).
caf::error plain_probe(const std::string& id, const std::string& host,
                       uint16_t port, caf::timespan timeout) {
  socket_guard sock;
  if (auto err = tcp_connect(id, host, port, timeout, sock))
    return err;
  pollfd p{sock.fd, POLLIN, 0};
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  auto rc = ::poll(&p, 1, static_cast<int>(ms.count()));
  char byte;
  if (rc <= 0 || ::recv(sock.fd, &byte, 1, 0) != 1)
    return make_error(errc::access_denied,
                      id + " sent no plain-TCP greeting (a TLS member? "
                           "then give the TLS options)");
  return caf::none;
}

struct ssl_ctx_free {
  void operator()(SSL_CTX* x) const {
    SSL_CTX_free(x);
  }
};
struct ssl_free {
  void operator()(SSL* x) const {
    SSL_free(x);
  }
};

std::string ssl_errors() {
  std::string msg;
  while (auto code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!msg.empty())
      msg += "; ";
    msg += buf;
  }
  return msg.empty() ? "connection closed during the handshake" : msg;
}

/// TLS: a full handshake with our certificate, checking theirs.
caf::error tls_probe(const std::string& id, const std::string& host,
                     uint16_t port, caf::timespan timeout,
                     const tls_options& tls) {
  socket_guard sock;
  if (auto err = tcp_connect(id, host, port, timeout, sock))
    return err;
  // Blocking from here on, bounded by the socket timeouts.
  fcntl(sock.fd, F_SETFL, fcntl(sock.fd, F_GETFL) & ~O_NONBLOCK);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout);
  timeval tv{static_cast<time_t>(us.count() / 1000000),
             static_cast<suseconds_t>(us.count() % 1000000)};
  setsockopt(sock.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(sock.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, ssl_ctx_free> ctx{SSL_CTX_new(TLS_client_method())};
  if (!ctx
      || SSL_CTX_use_certificate_chain_file(ctx.get(), tls.certificate.c_str())
           != 1
      || SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key.c_str(),
                                     SSL_FILETYPE_PEM)
           != 1
      || SSL_CTX_load_verify_locations(ctx.get(), tls.ca_file.c_str(),
                                       nullptr)
           != 1)
    return make_error(errc::invalid_config,
                      "cannot load the TLS files: " + ssl_errors());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  std::unique_ptr<SSL, ssl_free> ssl{SSL_new(ctx.get())};
  if (!ssl || SSL_set_fd(ssl.get(), sock.fd) != 1)
    return unreachable(id, "cannot start TLS: " + ssl_errors());
  if (SSL_connect(ssl.get()) != 1) {
    auto verify = SSL_get_verify_result(ssl.get());
    if (verify != X509_V_OK)
      return make_error(errc::access_denied,
                        id + " presented a certificate the CA did not "
                             "issue: "
                          + X509_verify_cert_error_string(verify));
    return make_error(errc::access_denied,
                      id + ": TLS handshake failed: " + ssl_errors());
  }
  SSL_shutdown(ssl.get());
  return caf::none;
}

caf::behavior dialer_impl(caf::event_based_actor* self, caf::actor owner,
                          member_id id, uint64_t attempt, tls_options tls,
                          caf::timespan probe_timeout,
                          caf::timespan connect_timeout) {
  auto report_error = [=](caf::error err) {
    self->send(owner, dialed_atom::value, id, attempt, std::move(err));
    self->quit();
  };
  auto hp = split_host_port(id);
  if (!hp) {
    report_error(hp.error());
    return {};
  }
  auto err = tls.enabled()
               ? tls_probe(id, hp->first, hp->second, probe_timeout, tls)
               : plain_probe(id, hp->first, hp->second, probe_timeout);
  if (err) {
    report_error(std::move(err));
    return {};
  }
  auto& sys = self->system();
  auto mm = tls.enabled() ? sys.openssl_manager().actor_handle()
                          : sys.middleman().actor_handle();
  self
    ->request(mm, connect_timeout, caf::connect_atom::value, hp->first,
              hp->second)
    .then(
      [=](caf::node_id&, caf::strong_actor_ptr& gate,
          std::set<std::string>&) {
        if (!gate) {
          report_error(make_error(errc::unreachable,
                                  "nothing published at " + id));
          return;
        }
        self->send(owner, dialed_atom::value, id, attempt,
                   caf::actor_cast<caf::actor>(gate));
        self->quit();
      },
      [=](caf::error& err) { report_error(std::move(err)); });
  return {
    [](caf::unit_t) {},
  };
}

} // namespace

void spawn_dialer(caf::actor_system& sys, caf::actor owner, member_id id,
                  uint64_t attempt, tls_options tls,
                  caf::timespan probe_timeout, caf::timespan connect_timeout) {
  sys.spawn<caf::detached>(dialer_impl, std::move(owner), std::move(id),
                           attempt, std::move(tls), probe_timeout,
                           connect_timeout);
}

} // namespace raft::remote
