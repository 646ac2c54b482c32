#include "tests/server/test_certs.h"

#include <cstdio>
#include <memory>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace affinity::server::testing {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* x509) const { X509_free(x509); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

Key NewKey() { return Key(EVP_EC_gen("P-256")); }

bool AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key` named `cn`, signed by issuer_key (self-signed
// when issuer is null).
Cert NewCert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, bool ca,
             const char* alt_names, long serial) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600L * 24);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  bool ok = AddExtension(cert.get(), signer, NID_basic_constraints,
                         ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  if (ca) ok = ok && AddExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  if (alt_names != nullptr) {
    ok = ok && AddExtension(cert.get(), signer, NID_subject_alt_name, alt_names);
  }
  if (!ca) {
    ok = ok && AddExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  if (!ok || X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return nullptr;
  return cert;
}

bool WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const bool ok = cert != nullptr ? PEM_write_X509(f, cert) == 1
                                  : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr,
                                                         nullptr) == 1;
  return fclose(f) == 0 && ok;
}

bool WritePair(const std::string& dir, const std::string& name, X509* cert, EVP_PKEY* key,
               PemFiles* files) {
  files->cert = dir + "/" + name + ".pem";
  files->key = dir + "/" + name + ".key";
  return WritePem(files->cert, cert, nullptr) && WritePem(files->key, nullptr, key);
}

}  // namespace

bool MakeTestCerts(const std::string& dir, TestCerts* certs) {
  Key ca_key = NewKey(), other_ca_key = NewKey();
  Key server_key = NewKey(), client_key = NewKey(), stranger_key = NewKey();
  if (!ca_key || !other_ca_key || !server_key || !client_key || !stranger_key) return false;
  Cert ca = NewCert(ca_key.get(), "affinity test CA", nullptr, ca_key.get(), true, nullptr, 1);
  Cert other_ca =
      NewCert(other_ca_key.get(), "other CA", nullptr, other_ca_key.get(), true, nullptr, 2);
  if (!ca || !other_ca) return false;
  Cert server = NewCert(server_key.get(), "localhost", ca.get(), ca_key.get(), false,
                        "IP:127.0.0.1,DNS:localhost", 3);
  Cert client = NewCert(client_key.get(), "client", ca.get(), ca_key.get(), false, nullptr, 4);
  Cert stranger = NewCert(stranger_key.get(), "stranger", other_ca.get(), other_ca_key.get(),
                          false, nullptr, 5);
  if (!server || !client || !stranger) return false;
  certs->ca = dir + "/ca.pem";
  return WritePem(certs->ca, ca.get(), nullptr) &&
         WritePair(dir, "server", server.get(), server_key.get(), &certs->server) &&
         WritePair(dir, "client", client.get(), client_key.get(), &certs->client) &&
         WritePair(dir, "stranger", stranger.get(), stranger_key.get(), &certs->stranger);
}

}  // namespace affinity::server::testing
