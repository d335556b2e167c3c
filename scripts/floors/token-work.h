// The least per-token work of a bridge that re-frames tokens, shared by relay-floor
// --decode-encode and library-floor: in what comes from the upstream, each `"content":"` string is
// unescaped into a buffer and then written out again as a caller's frame would hold it (a fixed
// prefix, the string escaped, a fixed suffix), and the result thrown away. A string split across
// two reads is skipped (reads are large, so that is about one token per read).
#ifndef TOKEN_WORK_H
#define TOKEN_WORK_H
#include <stdio.h>
#include <string.h>

// Not static, with external linkage: the compiler must keep the work whose result nobody reads.
unsigned long long frames_made;
char decoded_text[65536];
char encoded_frame[65536 * 6 + 512];

// Unescapes the JSON string starting at `from` (just after its opening quote) into `out`; returns
// its length, or -1 when the string does not end before `end`.
static long unescape(const char *from, const char *end, char *out) {
    long length = 0;
    for (const char *at = from; at < end; at++) {
        if (*at == '"') return length;
        if (*at != '\\') {
            out[length++] = *at;
            continue;
        }
        if (++at >= end) return -1;
        switch (*at) {
        case 'n': out[length++] = '\n'; break;
        case 't': out[length++] = '\t'; break;
        case 'r': out[length++] = '\r'; break;
        case 'u':
            if (end - at < 5) return -1;
            out[length++] = '?';  // the code point's UTF-8 is a few bytes either way
            at += 4;
            break;
        default: out[length++] = *at; break;
        }
    }
    return -1;
}

// The frame a bridge would send for `text`: prefix, the text escaped, suffix.
static size_t encode(const char *text, long length, char *out) {
    static const char prefix[] = "data: {\"id\":\"chatcmpl-0f8fad5b-d9cb-469f-a165-70867728950e\",\"object\":"
                                 "\"chat.completion.chunk\",\"created\":1764700000,\"model\":\"tokenbridge-simulated\","
                                 "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"";
    static const char suffix[] = "\"},\"finish_reason\":null}]}\n\n";
    size_t used = sizeof prefix - 1;
    memcpy(out, prefix, used);
    for (long i = 0; i < length; i++) {
        char c = text[i];
        if (c == '"' || c == '\\') {
            out[used++] = '\\';
            out[used++] = c;
        } else if ((unsigned char)c < 0x20) {
            used += (size_t)sprintf(out + used, "\\u%04x", c);
        } else {
            out[used++] = c;
        }
    }
    memcpy(out + used, suffix, sizeof suffix - 1);
    return used + sizeof suffix - 1;
}

static void decode_encode(const char *bytes, size_t count) {
    static const char key[] = "\"content\":\"";
    const char *end = bytes + count;
    for (const char *at = bytes; (at = memmem(at, (size_t)(end - at), key, sizeof key - 1)) != NULL;) {
        at += sizeof key - 1;
        long length = unescape(at, end, decoded_text);
        if (length < 0) break;
        frames_made += encode(decoded_text, length, encoded_frame) > 0;
        at += length;
    }
}

#endif
