// The attacker's side of the hostile-peer suite: raw TCP connections to a
// member's port (optionally wrapped in TLS with a certificate of the test's
// choice), written to without ever blocking the test for long, and asked
// whether the member closed them. Nothing here knows the Raft wire beyond
// what the caller puts into the bytes (see wire.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace raft::hostile {

using std::chrono::milliseconds;

/// TLS credentials for a connection (empty certificate: no client cert).
struct tls_identity {
  std::string certificate;
  std::string key;
  std::string ca_file;
};

/// One connection to `host:port` (127.0.0.1 only in the tests). Moves only;
/// closes on destruction.
class connection {
public:
  connection() = default;
  ~connection();
  connection(connection&& other) noexcept;
  connection& operator=(connection&& other) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Plain TCP; an invalid connection if the connect fails within `timeout`.
  static connection tcp(const std::string& host_port,
                        milliseconds timeout = milliseconds(2000));

  /// TCP, then a TLS client handshake with `id` (blocking, `timeout`). An
  /// invalid connection if either fails; `error` says why.
  static connection tls(const std::string& host_port, const tls_identity& id,
                        std::string* error = nullptr,
                        milliseconds timeout = milliseconds(5000));

  bool valid() const {
    return fd_ >= 0;
  }
  int fd() const {
    return fd_;
  }

  /// Writes as much of `bytes` as goes out within `timeout`; returns how many
  /// bytes were written (less when the peer closed or stopped reading).
  size_t write(const std::string& bytes, milliseconds timeout = milliseconds(1000));

  /// Reads whatever arrives within `timeout` (at most `max` bytes); empty
  /// on timeout or when the peer closed (then eof() is true).
  std::string read_some(milliseconds timeout, size_t max = 65536);

  /// True once a read found the connection closed or reset by the peer (or
  /// the TLS session ended with an alert).
  bool eof() const {
    return eof_;
  }

  /// Reads exactly `n` bytes within `timeout` (fewer if the peer closed).
  std::string read_exactly(size_t n, milliseconds timeout);

  /// True if the peer closed the connection (EOF or reset) within `timeout`;
  /// anything it sends meanwhile is discarded.
  bool closed_by_peer(milliseconds timeout);

  void close();

private:
  struct tls_state;
  int fd_ = -1;
  bool eof_ = false;
  std::unique_ptr<tls_state> tls_;
};

/// `n` bytes from a seeded generator.
std::string random_bytes(size_t n, uint64_t seed);

/// Raises this process's RLIMIT_NOFILE to its hard limit (the idle-connection
/// attack opens hundreds of sockets); returns the new soft limit.
size_t raise_fd_limit();

} // namespace raft::hostile
