// The floor under a bridge built the way TokenBridge is: libwebsockets serving the callers on one
// thread, libcurl fetching from the model server on another, bytes handed between them under a
// lock with one lws_cancel_service per pass of the curl loop. It does the least such a bridge can
// do per token: it unescapes every `"content":"` string of the upstream's stream and writes it out
// again as a caller's frame would hold it (as relay-floor --decode-encode, and thrown away the same
// way), and it forwards the upstream's SSE bytes as they came, in HTTP/1.1 chunks, keeping the
// caller's connection alive. No request parsing beyond what lws does, no events, no journal.
//
// Both libraries get the options the bridge gives them (curl: 4 KiB receive buffer, TCP_NODELAY,
// HTTP/1.1 keep-alive through the multi's connection cache, driven by curl_multi_socket_action on
// epoll; lws: one service thread, tx_packet_size 128 KiB, the head and the first bytes in one write).
// What this costs against relay-floor is the weight of the two libraries and the hand-off between
// their threads; what the bridge costs over this is its own code.
//
// Two variants show what the arrangement itself costs: --libev puts lws' sockets on epoll (its
// libev plugin) instead of its own poll(); --one-thread runs libcurl's sockets and timer on that
// same libev loop, one thread for both libraries and no hand-off at all.
//
// usage: library-floor LISTEN_PORT UPSTREAM_PORT [--libev | --one-thread]   (127.0.0.1; until killed)
#define _GNU_SOURCE
#include <curl/curl.h>
#include <ev.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "token-work.h"  // the per-token work, as relay-floor --decode-encode does it

// One caller's request and its upstream transfer. The lws thread owns `wsi`, `body` and
// `head_sent`; the curl thread owns `easy`; the rest is under `lock`. Only the lws thread frees it,
// once the upstream is done and the caller has its answer or is gone.
struct stream {
    struct lws *wsi;
    CURL *easy;
    char *body;
    size_t body_length, body_capacity;
    int head_sent;
    char *out;
    size_t out_length, out_capacity;
    int upstream_done, caller_gone, answered, in_ready;
    struct stream *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct stream *to_start;     // lws -> curl
static struct stream *ready;        // curl -> lws: has bytes or is done
static struct lws_context *context;
static int curl_wake;               // eventfd the curl thread waits on with its sockets
static char upstream_url[128];
static struct curl_slist *upstream_headers;
static CURLM *multi;
// --one-thread: libcurl's sockets and timer on the same libev loop as lws, no hand-off.
static int one_thread;
static struct ev_loop *ev_loop_shared;

static void append(char **buffer, size_t *length, size_t *capacity, const void *bytes, size_t count) {
    if (*length + count > *capacity) {
        *capacity = (*length + count) * 2;
        *buffer = realloc(*buffer, *capacity);
        if (*buffer == NULL) abort();
    }
    memcpy(*buffer + *length, bytes, count);
    *length += count;
}

// Called with the lock held.
static void mark_ready(struct stream *s) {
    if (s->in_ready) return;
    s->in_ready = 1;
    s->next = ready;
    ready = s;
}

static void free_stream(struct stream *s) {
    free(s->body);
    free(s->out);
    free(s);
}

static void drain_ready(void);

// ---- The curl thread

static int curl_epoll;
// libcurl's one-shot timer: when it is due (CLOCK_MONOTONIC, ms), or -1 when none is set.
static long long timer_due_ms = -1;
static int pass_has_news;

static size_t on_upstream_bytes(char *bytes, size_t size, size_t count, void *user) {
    struct stream *s = user;
    size_t total = size * count;
    decode_encode(bytes, total);
    pthread_mutex_lock(&lock);
    append(&s->out, &s->out_length, &s->out_capacity, bytes, total);
    mark_ready(s);
    pthread_mutex_unlock(&lock);
    pass_has_news = 1;
    return total;
}

static void reap(void);

static void after_curl(void) {
    reap();
    if (pass_has_news) {
        pass_has_news = 0;
        drain_ready();
    }
}

static void on_ev_socket(struct ev_loop *loop, ev_io *watcher, int revents) {
    (void)loop;
    int running;
    int flags = (revents & EV_READ ? CURL_CSELECT_IN : 0) | (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
    curl_multi_socket_action(multi, watcher->fd, flags, &running);
    after_curl();
}

static ev_timer curl_ev_timer;

static void on_ev_timer(struct ev_loop *loop, ev_timer *timer, int revents) {
    (void)loop, (void)timer, (void)revents;
    int running;
    curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    after_curl();
}

static int on_ev_curl_socket(curl_socket_t fd, int what, ev_io *watcher) {
    if (what == CURL_POLL_REMOVE) {
        if (watcher != NULL) {
            ev_io_stop(ev_loop_shared, watcher);
            free(watcher);
            curl_multi_assign(multi, fd, NULL);
        }
        return 0;
    }
    if (watcher == NULL) {
        watcher = malloc(sizeof *watcher);
        if (watcher == NULL) abort();
        curl_multi_assign(multi, fd, watcher);
    } else {
        ev_io_stop(ev_loop_shared, watcher);
    }
    ev_io_init(watcher, on_ev_socket, fd, (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0));
    ev_io_start(ev_loop_shared, watcher);
    return 0;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *user, void *socket_user) {
    (void)easy, (void)user;
    if (one_thread) return on_ev_curl_socket(fd, what, socket_user);
    struct epoll_event event = {.data.fd = fd};
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(curl_epoll, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    event.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    if (epoll_ctl(curl_epoll, EPOLL_CTL_MOD, fd, &event) != 0) epoll_ctl(curl_epoll, EPOLL_CTL_ADD, fd, &event);
    return 0;
}

static long long now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int on_timer(CURLM *unused, long timeout_ms, void *user) {
    (void)unused, (void)user;
    if (one_thread) {
        ev_timer_stop(ev_loop_shared, &curl_ev_timer);
        if (timeout_ms >= 0) {
            ev_timer_set(&curl_ev_timer, (double)timeout_ms / 1000, 0);
            ev_timer_start(ev_loop_shared, &curl_ev_timer);
        }
        return 0;
    }
    timer_due_ms = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    return 0;
}

// Serves libcurl's timer once it is due; it is one-shot, so it is cleared before curl sets the next.
static void serve_timer_if_due(void) {
    if (timer_due_ms < 0 || now_ms() < timer_due_ms) return;
    timer_due_ms = -1;
    int running;
    curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

static void start_transfers(void) {
    pthread_mutex_lock(&lock);
    struct stream *list = to_start;
    to_start = NULL;
    pthread_mutex_unlock(&lock);
    for (struct stream *s = list, *next; s != NULL; s = next) {
        next = s->next;
        CURL *easy = curl_easy_init();
        s->easy = easy;
        curl_easy_setopt(easy, CURLOPT_URL, upstream_url);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, s);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_upstream_bytes);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 4096L);
        curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, upstream_headers);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body_length);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, s->body);
        curl_multi_add_handle(multi, easy);
    }
}

static void reap(void) {
    CURLMsg *message;
    int left;
    while ((message = curl_multi_info_read(multi, &left)) != NULL) {
        if (message->msg != CURLMSG_DONE) continue;
        struct stream *s;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        curl_multi_remove_handle(multi, message->easy_handle);
        curl_easy_cleanup(message->easy_handle);
        pthread_mutex_lock(&lock);
        s->upstream_done = 1;
        mark_ready(s);
        pthread_mutex_unlock(&lock);
        pass_has_news = 1;
    }
}

static void *curl_thread(void *unused) {
    (void)unused;
    struct epoll_event wake = {.events = EPOLLIN, .data.fd = curl_wake};
    epoll_ctl(curl_epoll, EPOLL_CTL_ADD, curl_wake, &wake);
    struct epoll_event events[256];
    int running;
    for (;;) {
        long long wait_ms = timer_due_ms < 0 ? -1 : timer_due_ms - now_ms();
        int count = epoll_wait(curl_epoll, events, 256, wait_ms < 0 && timer_due_ms >= 0 ? 0 : (int)wait_ms);
        pass_has_news = 0;
        for (int i = 0; i < count; i++) {
            int fd = events[i].data.fd;
            if (fd == curl_wake) {
                uint64_t value;
                if (read(curl_wake, &value, sizeof value) < 0) continue;
                start_transfers();
                continue;
            }
            int flags = (events[i].events & EPOLLIN ? CURL_CSELECT_IN : 0)
                | (events[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0)
                | (events[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(multi, fd, flags, &running);
        }
        serve_timer_if_due();
        reap();
        if (pass_has_news) lws_cancel_service(context);
    }
    return NULL;
}

// ---- The lws thread

enum { scratch_capacity = 1 << 17 };
static unsigned char scratch[LWS_PRE + scratch_capacity + 64];

static int write_answer(struct lws *wsi, struct stream *s) {
    unsigned char *start = scratch + LWS_PRE, *cursor = start, *end = start + 1024;
    if (!s->head_sent) {
        if (lws_add_http_header_status(wsi, 200, &cursor, end)
            || lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, (const unsigned char *)"text/event-stream",
                   17, &cursor, end)
            || lws_add_http_header_by_name(wsi, (const unsigned char *)"transfer-encoding:",
                   (const unsigned char *)"chunked", 7, &cursor, end)
            || lws_finalize_http_header(wsi, &cursor, end))
            return -1;
        s->head_sent = 1;
    }
    size_t room = scratch_capacity - (size_t)(cursor - start) - 32;
    pthread_mutex_lock(&lock);
    size_t count = s->out_length < room ? s->out_length : room;
    int last = s->upstream_done && count == s->out_length;
    if (count > 0) {
        cursor += sprintf((char *)cursor, "%zx\r\n", count);
        memcpy(cursor, s->out, count);
        cursor += count;
        memcpy(cursor, "\r\n", 2);
        cursor += 2;
        memmove(s->out, s->out + count, s->out_length - count);
        s->out_length -= count;
    }
    int more = s->out_length > 0;
    if (last) s->answered = 1;
    int can_free = last && !s->in_ready;
    pthread_mutex_unlock(&lock);
    if (last) {
        memcpy(cursor, "0\r\n\r\n", 5);
        cursor += 5;
    }
    if (cursor == start) return 0;
    if (lws_write(wsi, start, (size_t)(cursor - start), last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < 0) return -1;
    if (more) lws_callback_on_writable(wsi);
    if (last) {
        *(struct stream **)lws_wsi_user(wsi) = NULL;
        if (can_free) free_stream(s);
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    return 0;
}

// Streams taken from `ready` in one drain; their `next` is the curl thread's again once unlocked.
static struct stream **drained;
static size_t drained_capacity;

static void drain_ready(void) {
    size_t count = 0;
    pthread_mutex_lock(&lock);
    for (struct stream *s = ready; s != NULL; s = s->next) {
        s->in_ready = 0;
        if (count == drained_capacity) {
            drained_capacity = drained_capacity ? drained_capacity * 2 : 256;
            drained = realloc(drained, drained_capacity * sizeof *drained);
            if (drained == NULL) abort();
        }
        // Answered or abandoned, the caller side is finished with it; once the upstream is done
        // too, nothing queues it again and it can go. Decided here, under the lock.
        int finished = s->answered || s->caller_gone;
        if (finished && !s->upstream_done) continue;
        drained[count++] = finished ? (struct stream *)((uintptr_t)s | 1) : s;
    }
    ready = NULL;
    pthread_mutex_unlock(&lock);
    for (size_t i = 0; i < count; i++) {
        uintptr_t tagged = (uintptr_t)drained[i];
        if (tagged & 1) {
            free_stream((struct stream *)(tagged & ~(uintptr_t)1));
        } else {
            lws_callback_on_writable(drained[i]->wsi);
        }
    }
}

static int on_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t length) {
    struct stream **slot = user;
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        drain_ready();
        return 0;
    case LWS_CALLBACK_HTTP: {
        struct stream *s = calloc(1, sizeof *s);
        if (s == NULL) return -1;
        s->wsi = wsi;
        *slot = s;
        return 0;
    }
    case LWS_CALLBACK_HTTP_BODY:
        if (*slot != NULL) append(&(*slot)->body, &(*slot)->body_length, &(*slot)->body_capacity, in, length);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
        struct stream *s = *slot;
        if (s == NULL) return -1;
        lws_http_headers_detach(wsi);
        pthread_mutex_lock(&lock);
        s->next = to_start;
        to_start = s;
        pthread_mutex_unlock(&lock);
        if (one_thread) {
            start_transfers();
            return 0;
        }
        uint64_t one = 1;
        if (write(curl_wake, &one, sizeof one) < 0) return -1;
        return 0;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (*slot == NULL) return 0;
        return write_answer(wsi, *slot);
    case LWS_CALLBACK_CLOSED_HTTP: {
        struct stream *s = *slot;
        if (s == NULL) return 0;
        *slot = NULL;
        pthread_mutex_lock(&lock);
        s->caller_gone = 1;
        int can_free = s->upstream_done && !s->in_ready;
        pthread_mutex_unlock(&lock);
        if (can_free) free_stream(s);
        return 0;
    }
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, length);
    }
}

int main(int argc, char **argv) {
    int on_epoll = 0, usage = argc < 3;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--libev") == 0) {
            on_epoll = 1;
        } else if (strcmp(argv[i], "--one-thread") == 0) {
            on_epoll = one_thread = 1;
        } else {
            usage = 1;
        }
    }
    if (usage) {
        fprintf(stderr, "usage: library-floor LISTEN_PORT UPSTREAM_PORT [--libev | --one-thread]\n");
        return 2;
    }
    snprintf(upstream_url, sizeof upstream_url, "http://127.0.0.1:%d/v1/chat/completions", atoi(argv[2]));
    curl_global_init(CURL_GLOBAL_ALL);
    upstream_headers = curl_slist_append(NULL, "Content-Type: application/json");
    upstream_headers = curl_slist_append(upstream_headers, "Accept: text/event-stream");
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 4096L);
    curl_epoll = epoll_create1(0);
    curl_wake = eventfd(0, EFD_NONBLOCK);

    static struct lws_protocols protocols[2];
    protocols[0].name = "http";
    protocols[0].callback = on_http;
    protocols[0].per_session_data_size = sizeof(struct stream *);
    protocols[0].rx_buffer_size = 1024;
    protocols[0].tx_packet_size = 1 << 17;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = atoi(argv[1]);
    info.iface = "127.0.0.1";
    info.protocols = protocols;
    info.max_http_header_pool2 = 4096;
    info.count_threads = 1;
    info.timeout_secs = 30;
    info.keepalive_timeout = 60;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    // lws' own loop is poll(), as the bridge runs it; its libev plugin puts the same sockets on epoll.
    if (on_epoll) info.options |= LWS_SERVER_OPTION_LIBEV;
    void *loops[1];
    if (one_thread) {
        ev_loop_shared = ev_default_loop(EVBACKEND_EPOLL);
        ev_timer_init(&curl_ev_timer, on_ev_timer, 0, 0);
        loops[0] = ev_loop_shared;
        info.foreign_loops = loops;
    }
    lws_set_log_level(LLL_ERR, NULL);
    context = lws_create_context(&info);
    if (context == NULL) {
        fprintf(stderr, "library-floor: could not listen on port %s\n", argv[1]);
        return 1;
    }
    if (one_thread) {
        ev_run(ev_loop_shared, 0);
        return 0;
    }
    pthread_t thread;
    pthread_create(&thread, NULL, curl_thread, NULL);
    for (;;) {
        if (lws_service(context, 0) < 0) break;
    }
    return 0;
}
