#ifndef AGENTSTATE_COPENSSL_SHIM_H
#define AGENTSTATE_COPENSSL_SHIM_H
// The system OpenSSL (libssl, libcrypto), plus static inline wrappers for the function-like
// macros that Swift cannot import. No TLS code of our own lives here.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/// SSL_CTX_set_min_proto_version is a macro over SSL_CTX_ctrl.
static inline int copenssl_ctx_set_min_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

/// Partial writes and a write buffer that may move between retries (a Swift array's storage may).
static inline long copenssl_ctx_set_nonblocking_modes(SSL_CTX *ctx) {
    return SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/// SSL_set_tlsext_host_name is a macro over SSL_ctrl: the SNI name.
static inline int copenssl_set_sni(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/// The reason an OpenSSL error code names, e.g. SSL_R_WRONG_VERSION_NUMBER (ERR_GET_REASON is a macro).
static inline int copenssl_error_reason(unsigned long code) {
    return ERR_GET_REASON(code);
}
#endif
