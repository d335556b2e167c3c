#ifndef C_ALLOCATOR_SETTINGS_H
#define C_ALLOCATOR_SETTINGS_H

// The options jemalloc starts with (allocator_settings.c); nothing here is called.
extern const char *malloc_conf;

#endif
