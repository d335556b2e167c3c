#ifndef TOKENBRIDGE_CCURL_SHIM_H
#define TOKENBRIDGE_CCURL_SHIM_H
#include <curl/curl.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

// curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic, which Swift cannot call.
// One typed wrapper per argument kind; function-pointer options need their own exact type.

typedef size_t (*tb_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);

static inline CURLcode tb_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode tb_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode tb_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode tb_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode tb_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode tb_curl_easy_setopt_data_callback(CURL *handle, CURLoption option, tb_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode tb_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode tb_curl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode tb_curl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLMcode tb_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}
static inline CURLMcode tb_curl_multi_setopt_pointer(CURLM *handle, CURLMoption option, void *value) {
    return curl_multi_setopt(handle, option, value);
}
static inline CURLMcode tb_curl_multi_setopt_socket_callback(CURLM *handle, curl_socket_callback value) {
    return curl_multi_setopt(handle, CURLMOPT_SOCKETFUNCTION, value);
}
static inline CURLMcode tb_curl_multi_setopt_timer_callback(CURLM *handle, curl_multi_timer_callback value) {
    return curl_multi_setopt(handle, CURLMOPT_TIMERFUNCTION, value);
}
// CURL_WRITEFUNC_PAUSE is a macro over a cast; expose it as a plain value.
static inline size_t tb_curl_writefunc_pause(void) { return CURL_WRITEFUNC_PAUSE; }

// CURL_SOCKET_TIMEOUT is defined through CURL_SOCKET_BAD, a macro Swift does not import.
static inline curl_socket_t tb_curl_socket_timeout(void) { return CURL_SOCKET_TIMEOUT; }

// CURL_GLOBAL_ALL is a macro built from other macros; expose the flags as a plain value.
static inline long tb_curl_global_all(void) { return CURL_GLOBAL_ALL; }

// Names the calling thread (the curl loop thread) for top -H and debuggers. pthread_setname_np is a
// GNU extension Swift's Glibc module does not declare, and prctl is variadic.
static inline void tb_curl_name_current_thread(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}

#endif
