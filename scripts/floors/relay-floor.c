// The floor under any HTTP bridge on this machine: a proxy that does nothing but copy bytes. One
// thread on epoll; each client connection gets its own connection to the upstream, and whatever
// arrives on one side is written to the other as it is, with no parsing, no buffering beyond one
// read and no protocol. Requests, SSE responses and keep-alive pass through untouched, so
// `tokenbridge bench` can drive it exactly as it drives the bridge. One read may carry several of
// the upstream's writes, and it forwards them in one: the client may then read less often than
// it does from the upstream itself, which is how a relay can come out ahead of direct.
//
// With --decode-encode, it also does the least work a bridge that re-frames tokens must do, and
// throws the result away: in what comes from the upstream, each `"content":"` string is unescaped
// into a buffer and then written out again as a caller's frame would hold it (a fixed prefix, the
// string escaped, a fixed suffix). The bytes forwarded are still the upstream's own, so framing and
// keep-alive stay untouched; a string split across two reads is skipped (reads here are large, so
// that is about one token per read).
//
// usage: relay-floor LISTEN_PORT UPSTREAM_PORT [--decode-encode]   (127.0.0.1; runs until killed)
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "token-work.h"  // the per-token work of --decode-encode

enum { max_fd = 1 << 20 };

static int *peer;

static void close_pair(int ep, int fd) {
    int other = peer[fd];
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    epoll_ctl(ep, EPOLL_CTL_DEL, other, NULL);
    // The other side may still have an event in this batch: it finds no peer and is skipped.
    peer[fd] = peer[other] = -1;
    close(fd);
    close(other);
}

static char *is_upstream;
static void watch(int ep, int fd) {
    struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &event);
}

int main(int argc, char **argv) {
    int decoding = argc == 4 && strcmp(argv[3], "--decode-encode") == 0;
    if (argc != 3 && !decoding) {
        fprintf(stderr, "usage: relay-floor LISTEN_PORT UPSTREAM_PORT [--decode-encode]\n");
        return 2;
    }
    peer = malloc(max_fd * sizeof(int));
    is_upstream = calloc(max_fd, 1);
    for (int fd = 0; fd < max_fd; fd++) peer[fd] = -1;
    int on = 1;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in local = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                .sin_port = htons((uint16_t)atoi(argv[1]))};
    struct sockaddr_in upstream = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                   .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (bind(listener, (struct sockaddr *)&local, sizeof local) || listen(listener, 4096)) {
        perror("relay-floor: listen");
        return 1;
    }
    int ep = epoll_create1(0);
    watch(ep, listener);
    struct epoll_event events[512];
    static char buffer[65536];
    for (;;) {
        int ready = epoll_wait(ep, events, 512, -1);
        for (int e = 0; e < ready; e++) {
            int fd = events[e].data.fd;
            if (fd == listener) {
                int client;
                while ((client = accept(listener, NULL, NULL)) >= 0) {
                    int server = socket(AF_INET, SOCK_STREAM, 0);
                    if (client >= max_fd || server >= max_fd
                        || connect(server, (struct sockaddr *)&upstream, sizeof upstream)) {
                        close(client);
                        close(server);
                        continue;
                    }
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
                    setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
                    peer[client] = server;
                    peer[server] = client;
                    is_upstream[client] = 0;
                    is_upstream[server] = 1;
                    watch(ep, client);
                    watch(ep, server);
                }
                continue;
            }
            if (peer[fd] < 0) continue;
            ssize_t got = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
            if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (got <= 0) {
                close_pair(ep, fd);
                continue;
            }
            if (decoding && is_upstream[fd]) decode_encode(buffer, (size_t)got);
            // Blocking writes: the bench reads as fast as it can, so a full socket buffer is brief,
            // and waiting for it costs this floor nothing it would not cost a real proxy.
            for (ssize_t sent = 0; sent < got;) {
                ssize_t wrote = send(peer[fd], buffer + sent, (size_t)(got - sent), MSG_NOSIGNAL);
                if (wrote < 0) {
                    if (errno == EINTR) continue;
                    break;
                }
                sent += wrote;
            }
        }
    }
}
