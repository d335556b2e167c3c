#ifndef TOKENBRIDGE_CLIBWEBSOCKETS_SHIM_H
#define TOKENBRIDGE_CLIBWEBSOCKETS_SHIM_H
#include <libwebsockets.h>
#include <sys/prctl.h>

// LWS_PRE is a function-like macro Swift cannot import: every lws_write buffer needs this many
// writable bytes before the payload.
enum { TB_LWS_PRE = LWS_PRE };

// LWS_ILLEGAL_HTTP_CONTENT_LEN imports but does not compile (-1 into an unsigned type).
static inline lws_filepos_t tb_lws_illegal_http_content_len(void) { return LWS_ILLEGAL_HTTP_CONTENT_LEN; }

// _lws_log is variadic; route every message through a fixed "%s".
static inline void tb_lws_set_log_level(int level) { lws_set_log_level(level, NULL); }

// Foundation's Thread.name does not reach the kernel on Linux; name the server thread for
// top -H and perf.
static inline void tb_lws_name_current_thread(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}

#endif
