#ifndef TOKENBRIDGE_CRABBITMQ_SHIM_H
#define TOKENBRIDGE_CRABBITMQ_SHIM_H
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
// rabbitmq-c has no cross-thread wake-up call: the connection thread polls its socket and an eventfd.
#include <sys/eventfd.h>
#endif
