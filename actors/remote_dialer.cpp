// A dialer: one connection attempt to a gate, on its own thread, so that a
// host that drops packets blocks nobody else. It first probes the TCP port
// with a short timeout (CAF's middleman actor connects with a blocking
// connect(): one silent host would stall every other connection behind it),
// then asks the middleman actor, asynchronously, for the published actor.

#include "remote_protocol.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/io/middleman.hpp"
#include "caf/io/middleman_actor.hpp"
#include "caf/node_id.hpp"
#include "caf/openssl/manager.hpp"

#include "raft/errc.hpp"

namespace raft::remote {

namespace {

/// Whether something accepts TCP connections at host:port within `timeout`.
caf::error probe(const std::string& host, uint16_t port,
                 caf::timespan timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  auto service = std::to_string(port);
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &res) != 0 || !res)
    return make_error(errc::unknown_member, "cannot resolve '" + host + "'");
  auto fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                   0);
  if (fd < 0) {
    freeaddrinfo(res);
    return make_error(errc::unknown_member, "socket(): "
                                              + std::string{strerror(errno)});
  }
  auto rc = ::connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  int err = 0;
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
    rc = ::poll(&p, 1, static_cast<int>(ms.count()));
    if (rc == 0) {
      err = ETIMEDOUT;
    } else if (rc < 0) {
      err = errno;
    } else {
      socklen_t len = sizeof(err);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
  } else if (rc != 0) {
    err = errno;
  }
  ::close(fd);
  if (err != 0)
    return make_error(errc::unknown_member, host + ":" + service + ": "
                                              + strerror(err));
  return caf::none;
}

caf::behavior dialer_impl(caf::event_based_actor* self, caf::actor owner,
                          member_id id, uint64_t attempt, bool tls,
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
  if (auto err = probe(hp->first, hp->second, probe_timeout)) {
    report_error(std::move(err));
    return {};
  }
  auto& sys = self->system();
  auto mm = tls ? sys.openssl_manager().actor_handle()
                : sys.middleman().actor_handle();
  self
    ->request(mm, connect_timeout, caf::connect_atom::value, hp->first,
              hp->second)
    .then(
      [=](caf::node_id&, caf::strong_actor_ptr& gate,
          std::set<std::string>&) {
        if (!gate) {
          report_error(make_error(errc::unknown_member,
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
                  uint64_t attempt, bool tls, caf::timespan probe_timeout,
                  caf::timespan connect_timeout) {
  sys.spawn<caf::detached>(dialer_impl, std::move(owner), std::move(id),
                           attempt, tls, probe_timeout, connect_timeout);
}

} // namespace raft::remote
