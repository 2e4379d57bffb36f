#include "remote_auth.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "raft/errc.hpp"

namespace raft::remote {

namespace {

// -- RAII for OpenSSL's C objects ------------------------------------------------

struct x509_free {
  void operator()(X509* x) const {
    X509_free(x);
  }
};
struct pkey_free {
  void operator()(EVP_PKEY* x) const {
    EVP_PKEY_free(x);
  }
};
struct store_free {
  void operator()(X509_STORE* x) const {
    X509_STORE_free(x);
  }
};
struct bio_free {
  void operator()(BIO* x) const {
    BIO_free(x);
  }
};
struct md_ctx_free {
  void operator()(EVP_MD_CTX* x) const {
    EVP_MD_CTX_free(x);
  }
};
struct store_ctx_free {
  void operator()(X509_STORE_CTX* x) const {
    X509_STORE_CTX_free(x);
  }
};
struct chain_free {
  void operator()(STACK_OF(X509) * x) const {
    sk_X509_pop_free(x, X509_free);
  }
};
struct names_free {
  void operator()(GENERAL_NAMES* x) const {
    GENERAL_NAMES_free(x);
  }
};

using x509_ptr = std::unique_ptr<X509, x509_free>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using store_ptr = std::unique_ptr<X509_STORE, store_free>;
using bio_ptr = std::unique_ptr<BIO, bio_free>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_free>;
using store_ctx_ptr = std::unique_ptr<X509_STORE_CTX, store_ctx_free>;
using chain_ptr = std::unique_ptr<STACK_OF(X509), chain_free>;
using names_ptr = std::unique_ptr<GENERAL_NAMES, names_free>;

caf::error fail(std::string why) {
  return make_error(errc::invalid_config, std::move(why));
}

caf::error denied(std::string why) {
  return make_error(errc::access_denied, std::move(why));
}

/// The most recent OpenSSL error, for messages.
std::string ssl_error() {
  auto code = ERR_get_error();
  ERR_clear_error();
  if (code == 0)
    return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

caf::expected<std::string> read_file(const std::string& path,
                                     const char* what) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return fail(std::string{"cannot read the "} + what + " file '" + path
                + "'");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// Leaf certificate and any further certificates of a PEM text.
bool parse_chain(const std::string& pem, x509_ptr& leaf, chain_ptr& rest) {
  bio_ptr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  if (!bio)
    return false;
  leaf.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!leaf)
    return false;
  rest.reset(sk_X509_new_null());
  while (auto* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
    sk_X509_push(rest.get(), x);
  ERR_clear_error(); // The loop ends on a "no start line" error.
  return true;
}

std::string common_name(X509* cert) {
  auto* name = X509_get_subject_name(cert);
  auto pos = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (pos < 0)
    return {};
  auto* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, pos));
  unsigned char* utf8 = nullptr;
  auto len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0)
    return {};
  std::string result(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return result;
}

/// The identities a certificate names: its CN and its SAN DNS names.
bool names_identity(X509* cert, const std::string& identity) {
  if (!identity.empty() && common_name(cert) == identity)
    return true;
  names_ptr names{static_cast<GENERAL_NAMES*>(
    X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))};
  if (!names)
    return false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    auto* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_DNS)
      continue;
    auto* s = gn->d.dNSName;
    std::string dns(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                    static_cast<size_t>(ASN1_STRING_length(s)));
    if (dns == identity)
      return true;
  }
  return false;
}


/// Verifies `leaf` (with intermediates `rest`) against the CA store.
caf::error verify_chain(X509_STORE* store, X509* leaf, STACK_OF(X509) * rest) {
  store_ctx_ptr ctx{X509_STORE_CTX_new()};
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store, leaf, rest) != 1)
    return denied("cannot check the certificate: " + ssl_error());
  if (X509_verify_cert(ctx.get()) != 1) {
    auto code = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return denied(std::string{"certificate not issued by the cluster CA: "}
                  + X509_verify_cert_error_string(code));
  }
  return caf::none;
}


} // namespace

bool certificate_names(x509_st* cert, const std::string& identity) {
  return cert != nullptr && names_identity(cert, identity);
}

// -- credentials -----------------------------------------------------------------

struct credentials::impl {
  bool authenticated = false;
  std::string identity;
  std::string certificate_pem;
  pkey_ptr key;
  store_ptr store;
};

credentials::credentials() : impl_(new impl) {
  // nop
}

credentials::~credentials() = default;

caf::expected<std::shared_ptr<const credentials>>
credentials::load(const tls_options& tls, std::string claimed) {
  std::shared_ptr<credentials> result{new credentials};
  auto& d = *result->impl_;
  if (!tls.enabled()) {
    d.identity = std::move(claimed);
    return std::shared_ptr<const credentials>{std::move(result)};
  }
  if (tls.certificate.empty() || tls.key.empty() || tls.ca_file.empty())
    return fail("TLS needs all three of certificate, key and CA file "
                "(refusing to run half-configured)");
  auto pem = read_file(tls.certificate, "certificate");
  if (!pem)
    return pem.error();
  x509_ptr leaf;
  chain_ptr rest;
  if (!parse_chain(*pem, leaf, rest))
    return fail("'" + tls.certificate + "' holds no PEM certificate");
  auto key_pem = read_file(tls.key, "key");
  if (!key_pem)
    return key_pem.error();
  bio_ptr key_bio{
    BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size()))};
  d.key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr,
                                      const_cast<char*>("")));
  if (!d.key)
    return fail("'" + tls.key + "' holds no (unencrypted) PEM private key: "
                + ssl_error());
  if (X509_check_private_key(leaf.get(), d.key.get()) != 1)
    return fail("the key '" + tls.key + "' does not belong to the certificate '"
                + tls.certificate + "'");
  d.store.reset(X509_STORE_new());
  if (!d.store
      || X509_STORE_load_file(d.store.get(), tls.ca_file.c_str()) != 1)
    return fail("cannot load the CA file '" + tls.ca_file + "': "
                + ssl_error());
  if (auto err = verify_chain(d.store.get(), leaf.get(), rest.get()))
    return fail("'" + tls.certificate + "' does not verify against '"
                + tls.ca_file + "'");
  d.identity = common_name(leaf.get());
  if (d.identity.empty())
    return fail("the certificate '" + tls.certificate
                + "' has no subject CN (the identity)");
  d.certificate_pem = std::move(*pem);
  d.authenticated = true;
  return std::shared_ptr<const credentials>{std::move(result)};
}

bool credentials::authenticated() const {
  return impl_->authenticated;
}

const std::string& credentials::identity() const {
  return impl_->identity;
}


// -- public helpers (raft/remote.hpp) -----------------------------------------------

} // namespace raft::remote

namespace raft {

caf::error validate(const tls_options& tls) {
  if (!tls.enabled())
    return caf::none;
  auto creds = remote::credentials::load(tls, {});
  if (!creds)
    return creds.error();
  return caf::none;
}

caf::expected<std::string> certificate_identity(const std::string& pem_file) {
  auto pem = remote::read_file(pem_file, "certificate");
  if (!pem)
    return pem.error();
  remote::x509_ptr leaf;
  remote::chain_ptr rest;
  if (!remote::parse_chain(*pem, leaf, rest))
    return remote::fail("'" + pem_file + "' holds no PEM certificate");
  auto cn = remote::common_name(leaf.get());
  if (cn.empty())
    return remote::fail("'" + pem_file + "' has no subject CN");
  return cn;
}

} // namespace raft
