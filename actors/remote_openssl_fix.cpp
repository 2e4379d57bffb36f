// Workarounds for two bugs of caf::openssl 0.17.6 (Debian bookworm), by
// symbol interposition: a program that links raft_actors (and calls
// configure_remote, which pulls this file in) defines SSL_read, SSL_write,
// SSL_connect and SSL_accept itself; libcaf_openssl's calls resolve to these
// wrappers, which call OpenSSL's own functions (dlsym RTLD_NEXT).
//
// 1. CAF never clears OpenSSL's per-thread error queue, and all sockets of a
//    process are served by one multiplexer thread. When one TLS connection
//    fails (a peer exits, a refused handshake), its error stays queued, and
//    the next SSL_read/SSL_write on any other connection that merely would
//    block is misreported by SSL_get_error() as a fatal error: CAF closes
//    that healthy connection too. Every client that disconnected dropped
//    the members' connections to each other. Fix: clear the queue before
//    each I/O call, as SSL_get_error(3) requires.
// 2. CAF runs SSL_accept on the freshly accepted socket before making it
//    non-blocking, inside the multiplexer: a peer that opens the port and
//    sends nothing (a port scan, a plain-TCP client) stalls all I/O of the
//    process until it sends or closes. Fix: make the socket non-blocking
//    first; CAF's stream then finishes the handshake in SSL_read/SSL_write
//    (the SSL object is in accept state), as it already does on the
//    connecting side.
//
// docs/operations.md describes both with a reproduction.

#include <dlfcn.h>
#include <fcntl.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace {

template <class F>
F real(const char* name) {
  auto* fn = dlsym(RTLD_NEXT, name);
  if (!fn) {
    std::fprintf(stderr, "[raft] fatal: cannot find OpenSSL's %s\n", name);
    std::abort();
  }
  return reinterpret_cast<F>(fn);
}

using read_fn = int (*)(SSL*, void*, int);
using write_fn = int (*)(SSL*, const void*, int);
using handshake_fn = int (*)(SSL*);

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static auto fn = real<read_fn>("SSL_read");
  ERR_clear_error();
  return fn(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static auto fn = real<write_fn>("SSL_write");
  ERR_clear_error();
  return fn(ssl, buf, num);
}

int SSL_connect(SSL* ssl) {
  static auto fn = real<handshake_fn>("SSL_connect");
  ERR_clear_error();
  return fn(ssl);
}

int SSL_accept(SSL* ssl) {
  static auto fn = real<handshake_fn>("SSL_accept");
  ERR_clear_error();
  auto fd = SSL_get_fd(ssl);
  if (fd >= 0) {
    auto flags = fcntl(fd, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK) == 0)
      fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  }
  return fn(ssl);
}

} // extern "C"

namespace raft::remote {

/// Returns whether the wrappers above are the ones the process uses (that
/// is, whether libcaf_openssl's calls reach them).
bool openssl_workarounds_active() {
  auto* global = dlsym(RTLD_DEFAULT, "SSL_read");
  return global == reinterpret_cast<void*>(&SSL_read);
}

} // namespace raft::remote
