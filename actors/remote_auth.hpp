// Proof of identity for the gate handshake, with OpenSSL's API directly:
// CAF's TLS checks that a peer's certificate comes from the cluster CA but
// not whom it names, so each side also signs the handshake's nonces with the
// key of a CA-issued certificate that names its identity.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/expected.hpp"

#include "raft/remote.hpp"

struct x509_st; // OpenSSL's X509

namespace raft::remote {

/// This process's identity and what it needs to prove it and check others.
/// Immutable once loaded; safe to share between actors.
class credentials {
public:
  struct impl;

  /// With TLS: loads certificate, key and CA, checks they fit together, and
  /// takes the identity from the certificate. Without TLS: an unproven
  /// identity `claimed` (sign() returns nothing, verify() checks nothing).
  static caf::expected<std::shared_ptr<const credentials>>
  load(const tls_options& tls, std::string claimed);

  ~credentials();

  /// Whether identities are proven (TLS) or only claimed.
  bool authenticated() const;

  const std::string& identity() const;

  /// The certificate (PEM) to send to the other side; empty without TLS.
  const std::string& certificate_pem() const;

  /// Signs `data` with the private key; empty without TLS.
  caf::expected<std::string> sign(const std::string& data) const;

  /// Checks that `certificate_pem` was issued by the CA, names `identity`
  /// (subject CN or a SAN DNS name) and that `signature` over `data` was
  /// made with its key. Without TLS: accepts.
  caf::error verify(const std::string& certificate_pem,
                    const std::string& identity, const std::string& data,
                    const std::string& signature) const;

private:
  credentials();
  std::unique_ptr<impl> impl_;
};

using credentials_ptr = std::shared_ptr<const credentials>;

/// Whether a certificate names `identity` (subject CN or a SAN DNS name).
bool certificate_names(x509_st* cert, const std::string& identity);

/// `n` bytes from OpenSSL's CSPRNG.
std::string random_bytes(size_t n);

/// What each side of the handshake signs: a domain tag, the role, both ids
/// and both nonces, length-prefixed so no two inputs collide.
std::string handshake_transcript(const std::string& role,
                                 const std::string& gate_id,
                                 const std::string& client_id,
                                 const std::string& client_nonce,
                                 const std::string& gate_nonce);

} // namespace raft::remote
