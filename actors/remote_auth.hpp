// The TLS files of a process and the identities certificates name, with
// OpenSSL's API directly: loading and checking the files (validate()), and
// whether a peer's certificate names an identity (the wire's sessions bind
// their identity with it, wire_engine.cpp).
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
  /// identity `claimed`.
  static caf::expected<std::shared_ptr<const credentials>>
  load(const tls_options& tls, std::string claimed);

  ~credentials();

  /// Whether identities are proven (TLS) or only claimed.
  bool authenticated() const;

  const std::string& identity() const;

private:
  credentials();
  std::unique_ptr<impl> impl_;
};

using credentials_ptr = std::shared_ptr<const credentials>;

/// Whether a certificate names `identity` (subject CN or a SAN DNS name).
bool certificate_names(x509_st* cert, const std::string& identity);

} // namespace raft::remote
