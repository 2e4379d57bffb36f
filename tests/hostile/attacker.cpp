#include "attacker.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <random>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace raft::hostile {

namespace {

using clock_type = std::chrono::steady_clock;

int remaining_ms(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - clock_type::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

bool wait_for(int fd, short events, clock_type::time_point deadline) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, remaining_ms(deadline)) > 0;
}

/// Sets SO_SNDTIMEO and SO_RCVTIMEO (for the blocking TLS calls).
void set_timeouts(int fd, milliseconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

void set_blocking(int fd, bool blocking) {
  auto flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK));
}

std::string openssl_errors() {
  std::string s;
  while (auto e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    s += (s.empty() ? "" : "; ") + std::string{buf};
  }
  return s;
}

} // namespace

struct connection::tls_state {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  ~tls_state() {
    if (ssl)
      SSL_free(ssl);
    if (ctx)
      SSL_CTX_free(ctx);
  }
};

connection::~connection() {
  close();
}

connection::connection(connection&& other) noexcept
  : fd_(other.fd_), tls_(std::move(other.tls_)) {
  other.fd_ = -1;
}

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    tls_ = std::move(other.tls_);
    other.fd_ = -1;
  }
  return *this;
}

void connection::close() {
  tls_.reset();
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

connection connection::tcp(const std::string& host_port, milliseconds timeout) {
  connection c;
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos)
    return c;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  if (inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr) != 1)
    return c;
  auto fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return c;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  auto deadline = clock_type::now() + timeout;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = 0;
    socklen_t len = sizeof(err);
    if (errno != EINPROGRESS || !wait_for(fd, POLLOUT, deadline)
        || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      ::close(fd);
      return c;
    }
  }
  c.fd_ = fd;
  return c;
}

connection connection::tls(const std::string& host_port,
                           const tls_identity& id, std::string* error,
                           milliseconds timeout) {
  auto fail = [&](const std::string& why) {
    if (error)
      *error = why + (why.empty() ? "" : ": ") + openssl_errors();
    return connection{};
  };
  auto c = tcp(host_port, timeout);
  if (!c.valid())
    return fail("TCP connect failed");
  c.tls_ = std::make_unique<tls_state>();
  auto& t = *c.tls_;
  t.ctx = SSL_CTX_new(TLS_client_method());
  if (!t.ctx)
    return fail("SSL_CTX_new");
  if (!id.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(t.ctx, id.ca_file.c_str(), nullptr) != 1)
      return fail("cannot load " + id.ca_file);
    SSL_CTX_set_verify(t.ctx, SSL_VERIFY_PEER, nullptr);
  }
  if (!id.certificate.empty()
      && (SSL_CTX_use_certificate_chain_file(t.ctx, id.certificate.c_str()) != 1
          || SSL_CTX_use_PrivateKey_file(t.ctx, id.key.c_str(), SSL_FILETYPE_PEM) != 1))
    return fail("cannot load " + id.certificate);
  t.ssl = SSL_new(t.ctx);
  set_blocking(c.fd_, true);
  set_timeouts(c.fd_, timeout);
  SSL_set_fd(t.ssl, c.fd_);
  if (SSL_connect(t.ssl) != 1)
    return fail("TLS handshake failed");
  // TLS 1.3: the server checks the client's certificate after the client
  // finished; a refusal arrives as an alert on the first read. Peek briefly.
  set_timeouts(c.fd_, milliseconds(200));
  char b;
  auto n = SSL_peek(t.ssl, &b, 1);
  if (n <= 0) {
    auto e = SSL_get_error(t.ssl, n);
    if (e == SSL_ERROR_SSL || e == SSL_ERROR_ZERO_RETURN)
      return fail("refused after the handshake");
  }
  ERR_clear_error();
  set_timeouts(c.fd_, milliseconds(1000));
  return c;
}

size_t connection::write(const std::string& bytes, milliseconds timeout) {
  if (fd_ < 0)
    return 0;
  auto deadline = clock_type::now() + timeout;
  size_t done = 0;
  if (tls_) {
    set_timeouts(fd_, timeout);
    while (done < bytes.size() && clock_type::now() < deadline) {
      auto n = SSL_write(tls_->ssl, bytes.data() + done,
                         static_cast<int>(bytes.size() - done));
      if (n <= 0)
        break;
      done += static_cast<size_t>(n);
    }
    ERR_clear_error();
    return done;
  }
  while (done < bytes.size()) {
    auto n = ::send(fd_, bytes.data() + done, bytes.size() - done,
                    MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
        && wait_for(fd_, POLLOUT, deadline))
      continue;
    break;
  }
  return done;
}

std::string connection::read_some(milliseconds timeout, size_t max) {
  std::string out;
  if (fd_ < 0)
    return out;
  out.resize(max);
  if (tls_) {
    set_timeouts(fd_, timeout);
    errno = 0;
    auto n = SSL_read(tls_->ssl, out.data(), static_cast<int>(max));
    if (n <= 0) {
      auto e = SSL_get_error(tls_->ssl, n);
      bool timed_out = e == SSL_ERROR_WANT_READ
                       || (e == SSL_ERROR_SYSCALL
                           && (errno == EAGAIN || errno == EWOULDBLOCK));
      eof_ = eof_ || !timed_out;
    }
    ERR_clear_error();
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return out;
  }
  auto deadline = clock_type::now() + timeout;
  if (!wait_for(fd_, POLLIN, deadline)) {
    out.clear();
    return out;
  }
  auto n = ::recv(fd_, out.data(), max, MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
    eof_ = true;
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

std::string connection::read_exactly(size_t n, milliseconds timeout) {
  std::string out;
  auto deadline = clock_type::now() + timeout;
  while (out.size() < n) {
    auto left = remaining_ms(deadline);
    if (left == 0)
      break;
    auto part = read_some(milliseconds(left), n - out.size());
    if (part.empty() && !tls_) {
      // EOF or nothing yet: distinguish by polling once more.
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
        char c;
        if (::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0)
          break;
      }
      continue;
    }
    if (part.empty())
      break;
    out += part;
  }
  return out;
}

bool connection::closed_by_peer(milliseconds timeout) {
  if (fd_ < 0)
    return true;
  auto deadline = clock_type::now() + timeout;
  char buf[4096];
  for (;;) {
    if (!wait_for(fd_, POLLIN, deadline))
      return false;
    // Read at the TCP level: TLS records are discarded, EOF is EOF.
    auto n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0)
      return true;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return true; // reset
  }
}

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng{seed};
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    auto x = rng();
    for (size_t k = 0; k < 8 && i + k < n; ++k)
      s[i + k] = static_cast<char>((x >> (8 * k)) & 0xff);
  }
  return s;
}

size_t raise_fd_limit() {
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);
  getrlimit(RLIMIT_NOFILE, &r);
  return static_cast<size_t>(r.rlim_cur);
}

} // namespace raft::hostile
