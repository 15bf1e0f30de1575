/*
 * PROXY protocol header encoder (HAProxy proxy-protocol.txt, v1 and v2),
 * written by the engine at the start of each backend connection so that
 * Postfix and Exim log and police the real client address.
 */
#ifndef MXLB_PROXY_H
#define MXLB_PROXY_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
enum proxy_version { PROXY_NONE = 0, PROXY_V1 = 1, PROXY_V2 = 2 };
/* A buffer this big holds any header this module writes. */
#define PROXY_HDR_MAX 108
/* Header announcing a connection from src to dst (client address and the
 * frontend address it reached). Returns the length written, or -1 if buf is
 * too small or the families are unusable. */
ssize_t proxy_header(enum proxy_version v, const struct sockaddr *src,
    const struct sockaddr *dst, uint8_t *buf, size_t len);
/* Header for a connection made by the balancer itself (health probe):
 * v2 LOCAL (family UNSPEC, len 0); for v1, use proxy_header() with the
 * probe socket's real addresses (never UNKNOWN: Postfix refuses it). */
ssize_t proxy_header_local(uint8_t *buf, size_t len);
#endif
