// The floor under channel fan-out on this machine: what the least possible server does to hand
// one small message to N subscribers over loopback TCP, with no protocol, no lws and no Swift.
//
// SENDERS threads split N connected sockets between them and, every GAP (on absolute deadlines, so
// the rate holds), each writes one 60-byte frame to each of its sockets in turn; the frame carries
// the round's start time, as a token carries the moment the model handed it over. One reader
// thread holds the other ends on epoll, spinning (BUSY=1, as `tokenbridge bench --busy-poll`) or
// sleeping in epoll_wait (BUSY=0), and records start-to-read latency for every frame. On loopback
// the kernel runs the receiving side of TCP inside the sender's send(), so the subscribers' costs
// are in these numbers as they are in the bridge's when its bench runs on the same machine.
//
// Prints, as key=value pairs: the first sender's wall time and thread CPU time per send(), the
// mean time from a round's start until its last sender finished (span), send() calls that did not
// take the whole frame, frames read against frames expected, and the latency percentiles.
//
// usage: fanout-floor N ROUNDS GAP_US SENDERS BUSY
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { frame_size = 60, max_senders = 8, read_size = 68 * frame_size };

static int socket_count, round_count, gap_us, sender_count, busy_reader;
static int *server_ends, *client_ends;
static atomic_int finished;
static uint64_t *latencies;
static long latency_count, latency_capacity;
static uint64_t round_start;
static pthread_barrier_t round_barrier, done_barrier;
static uint64_t send_wall_ns[max_senders], send_cpu_ns[max_senders], finish_ns[max_senders];
static long short_sends[max_senders];
static uint64_t span_total_ns;

static uint64_t clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

static void *reader(void *unused) {
    (void)unused;
    int ep = epoll_create1(0);
    for (int i = 0; i < socket_count; i++) {
        struct epoll_event event = {.events = EPOLLIN, .data.fd = client_ends[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, client_ends[i], &event);
    }
    struct epoll_event events[256];
    // A whole number of frames, so a read never ends inside one (loopback holds whole sends).
    char buffer[read_size];
    while (!atomic_load(&finished)) {
        int ready = epoll_wait(ep, events, 256, busy_reader ? 0 : 100);
        for (int e = 0; e < ready; e++) {
            ssize_t got = recv(events[e].data.fd, buffer, sizeof buffer, MSG_DONTWAIT);
            uint64_t now = now_ns();
            // Loopback delivers each frame whole; several may arrive in one read.
            for (ssize_t at = 0; at + frame_size <= got; at += frame_size) {
                uint64_t started;
                memcpy(&started, buffer + at, sizeof started);
                if (latency_count < latency_capacity) latencies[latency_count++] = now - started;
            }
        }
    }
    return NULL;
}

static void *sender(void *argument) {
    int index = (int)(intptr_t)argument;
    int from = socket_count * index / sender_count, to = socket_count * (index + 1) / sender_count;
    char frame[frame_size] = {0};
    uint64_t base = now_ns();
    for (int round = 0; round < round_count; round++) {
        if (index == 0) {
            uint64_t due = base + (uint64_t)round * (uint64_t)gap_us * 1000u;
            struct timespec at = {.tv_sec = (time_t)(due / 1000000000u), .tv_nsec = (long)(due % 1000000000u)};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
            round_start = now_ns();
        }
        pthread_barrier_wait(&round_barrier);  // every sender starts the round together
        memcpy(frame, &round_start, sizeof round_start);
        uint64_t wall = now_ns(), cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        for (int i = from; i < to; i++) {
            if (send(server_ends[i], frame, sizeof frame, MSG_DONTWAIT) != frame_size) short_sends[index]++;
        }
        uint64_t end = now_ns();
        send_cpu_ns[index] += clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu;
        send_wall_ns[index] += end - wall;
        finish_ns[index] = end;
        pthread_barrier_wait(&done_barrier);
        if (index == 0) {
            uint64_t last = 0;
            for (int t = 0; t < sender_count; t++) last = finish_ns[t] > last ? finish_ns[t] : last;
            span_total_ns += last - round_start;
        }
    }
    return NULL;
}

static int ascending(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: fanout-floor N ROUNDS GAP_US SENDERS BUSY\n");
        return 2;
    }
    socket_count = atoi(argv[1]);
    round_count = atoi(argv[2]);
    gap_us = atoi(argv[3]);
    sender_count = atoi(argv[4]);
    busy_reader = atoi(argv[5]);
    if (socket_count < 1 || round_count < 1 || sender_count < 1 || sender_count > max_senders) {
        fprintf(stderr, "fanout-floor: bad arguments\n");
        return 2;
    }
    server_ends = calloc((size_t)socket_count, sizeof(int));
    client_ends = calloc((size_t)socket_count, sizeof(int));
    latency_capacity = (long)socket_count * round_count;
    latencies = calloc((size_t)latency_capacity, sizeof(uint64_t));
    pthread_barrier_init(&round_barrier, NULL, (unsigned)sender_count);
    pthread_barrier_init(&done_barrier, NULL, (unsigned)sender_count);

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 4096)
        || getsockname(listener, (struct sockaddr *)&address, &length)) {
        perror("fanout-floor: listen");
        return 1;
    }
    int on = 1;
    for (int i = 0; i < socket_count; i++) {
        client_ends[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(client_ends[i], (struct sockaddr *)&address, sizeof address)) {
            perror("fanout-floor: connect (raise ulimit -n?)");
            return 1;
        }
        server_ends[i] = accept(listener, NULL, NULL);
        // As lws sets it: every frame leaves at once.
        setsockopt(server_ends[i], IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }

    pthread_t reader_thread, sender_threads[max_senders];
    pthread_create(&reader_thread, NULL, reader, NULL);
    for (int t = 0; t < sender_count; t++) pthread_create(&sender_threads[t], NULL, sender, (void *)(intptr_t)t);
    for (int t = 0; t < sender_count; t++) pthread_join(sender_threads[t], NULL);
    usleep(200000);  // the last round's frames are read
    atomic_store(&finished, 1);
    pthread_join(reader_thread, NULL);

    qsort(latencies, (size_t)latency_count, sizeof(uint64_t), ascending);
    double sends = (double)(socket_count / sender_count) * round_count;
    long short_total = 0;
    for (int t = 0; t < sender_count; t++) short_total += short_sends[t];
    long last = latency_count > 0 ? latency_count - 1 : 0;
    printf("sockets=%d senders=%d busy=%d frames=%ld expected=%ld short_sends=%ld send_us=%.2f send_cpu_us=%.2f "
           "span_ms=%.2f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
           socket_count, sender_count, busy_reader, latency_count, latency_capacity, short_total,
           send_wall_ns[0] / 1000.0 / sends, send_cpu_ns[0] / 1000.0 / sends, span_total_ns / 1e6 / round_count,
           latencies[latency_count / 2] / 1e6, latencies[(long)(latency_count * 0.99)] / 1e6, latencies[last] / 1e6);
    return latency_count == latency_capacity ? 0 : 1;
}
