/* `forward kernel`: the client's bytes relayed by a BPF sockmap (see
 * sockmap.c). */
#ifndef MXLB_SOCKMAP_H
#define MXLB_SOCKMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct errs;
struct session;

/* The relay program, built by clang -target bpf (sockmap.bpf.c), as the
 * Makefile embeds it. */
extern const unsigned char sockmap_bpf[];
extern const size_t sockmap_bpf_len;

int	sockmap_check(const struct config *, struct errs *);
void	sockmap_start(struct session *);
void	sockmap_sync(struct session *);
uint64_t sockmap_bytes_in(const struct session *);
bool	sockmap_hold_eof(struct session *);
void	sockmap_end(struct session *);

#endif
