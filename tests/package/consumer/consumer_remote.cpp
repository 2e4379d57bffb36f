// The package test's check of the remote component: raft/remote.hpp compiles
// and links (with OpenSSL) against caf_raft::remote, and a process set up
// for remote members without TLS is accepted.
#include <iostream>

#include "caf/all.hpp"
#include "raft/remote.hpp"

int main() {
  caf::actor_system_config cfg;
  raft::tls_options no_tls;
  if (auto err = raft::configure_remote(cfg, no_tls)) {
    std::cerr << "consumer_remote: configure_remote failed: " << caf::to_string(err) << '\n';
    return 1;
  }
  raft::tls_options half;
  half.certificate = "missing.pem";
  if (!raft::validate(half)) {
    std::cerr << "consumer_remote: a half-configured TLS was accepted\n";
    return 1;
  }
  caf::actor_system sys{cfg};
  std::cout << "consumer_remote: remote component linked\n";
  return 0;
}
