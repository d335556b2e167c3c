#ifndef TOKENBRIDGE_CRABBITMQ_SHIM_H
#define TOKENBRIDGE_CRABBITMQ_SHIM_H
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
// rabbitmq-c has no cross-thread wake-up call: the connection thread polls its socket and an eventfd.
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <openssl/ssl.h>

// amqp_login_with_properties is variadic (the SASL arguments), which Swift cannot call. The bridge
// only uses PLAIN, whose arguments are the user and the password.
static inline amqp_rpc_reply_t tb_amqp_login_plain(amqp_connection_state_t state, const char *vhost,
                                                   int channel_max, int frame_max, int heartbeat,
                                                   const amqp_table_t *client_properties,
                                                   const char *user, const char *password) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat, client_properties,
                                      AMQP_SASL_METHOD_PLAIN, user, password);
}

// rabbitmq-c gives a TLS socket an empty trust store; an amqps:// URL without a CA file should
// trust what the system trusts, as every other TLS client does.
static inline int tb_amqp_ssl_use_system_trust_store(amqp_socket_t *socket) {
    SSL_CTX *context = (SSL_CTX *)amqp_ssl_socket_get_context(socket);
    return context != NULL && SSL_CTX_set_default_verify_paths(context) == 1 ? 1 : 0;
}

// TCP_USER_TIMEOUT is a Linux socket option Swift's Glibc module does not export.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
static inline int tb_amqp_set_tcp_user_timeout(int fd, unsigned int milliseconds) {
    return setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &milliseconds, sizeof(milliseconds));
}

// Names the calling thread (one per broker connection) for top -H and debuggers. pthread_setname_np
// is a GNU extension Swift's Glibc module does not declare, and prctl is variadic.
static inline void tb_amqp_name_current_thread(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}

#endif
