// jemalloc's compiled-in options: jemalloc reads this symbol once, when it starts, before
// MALLOC_CONF (which still overrides it, for experiments).
//
// dirty_decay_ms: how long freed pages stay mapped before they go back to the kernel. jemalloc's
// 10 s kept about 10 MB more resident at 1000 streams, where every answer's memory is freed
// within a second of being taken; 1 s measured the same CPU per token at 100 streams.
#include "CAllocatorSettings.h"

const char *malloc_conf = "dirty_decay_ms:1000";
