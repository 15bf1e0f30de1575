/* Addresses, CIDR blocks and port lists as the config model holds them. */
#ifndef MXLB_ADDR_H
#define MXLB_ADDR_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADDR_STRLEN	48	/* INET6_ADDRSTRLEN plus room for a prefix */

struct mxaddr {
	sa_family_t	 family;	/* AF_INET or AF_INET6 */
	union {
		struct in_addr	v4;
		struct in6_addr	v6;
	};
};

struct cidr {
	struct mxaddr	 addr;
	uint8_t		 prefix;
};

struct prange {
	uint16_t	 lo, hi;
};

/* Lists are kept sorted and without duplicates, so equal sets are equal. */
struct addrlist {
	size_t		 n;
	struct mxaddr	*v;
};
struct cidrlist {
	size_t		 n;
	struct cidr	*v;
};
struct portlist {
	size_t		 n;
	struct prange	*v;
};

/* The most ports one list may name: each becomes a listening socket. */
#define PORTLIST_MAX	1024

/* A TCP port's natural range; a field's table may narrow it. */
#define PORT_MIN	1
#define PORT_MAX	65535

int	 addr_parse(struct mxaddr *, const char *, char *, size_t);
void	 addr_format(const struct mxaddr *, char *, size_t);
int	 addr_cmp(const struct mxaddr *, const struct mxaddr *);
void	 addr_from_sockaddr(struct mxaddr *, const struct sockaddr *);
socklen_t addr_to_sockaddr(const struct mxaddr *, uint16_t,
	    struct sockaddr_storage *);
int	 addr_socket_out(int);
void	 sockaddr_format(const struct sockaddr *, char *, size_t);
uint16_t sockaddr_port(const struct sockaddr *);

int	 cidr_parse(struct cidr *, const char *, char *, size_t);
void	 cidr_format(const struct cidr *, char *, size_t);
bool	 cidr_match(const struct cidr *, const struct mxaddr *);
bool	 cidrlist_match(const struct cidrlist *, const struct mxaddr *);

int	 addrlist_parse(struct addrlist *, const char *, char *, size_t);
int	 cidrlist_parse(struct cidrlist *, const char *, char *, size_t);
int	 port_parse(const char *, long, long, uint16_t *, char *, size_t);
int	 portlist_parse(struct portlist *, const char *, long, long, char *,
	    size_t);
void	 addrlist_add(struct addrlist *, const struct mxaddr *);
void	 cidrlist_add(struct cidrlist *, const struct cidr *);
char	*portlist_format(const struct portlist *);
size_t	 portlist_count(const struct portlist *);
bool	 portlist_has(const struct portlist *, uint16_t);

#endif
