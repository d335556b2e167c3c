// epoll, which Swift's Glibc module leaves out: the benchmark's client fleet waits on thousands
// of sockets, and poll(2) would scan every one of them on every pass.
#include <sys/epoll.h>
