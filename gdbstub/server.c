// SPDX-License-Identifier: GPL-2.0
/*
 * gdb_server: the socket transport of a gdb_stub (see server.h).
 *
 * Address forms:
 *   "PORT"        127.0.0.1:PORT - loopback only, on purpose: a gdb stub
 *                 reads and writes guest memory for anyone who connects
 *   "HOST:PORT"   a numeric address or host name; "[::1]:PORT" for IPv6,
 *                 "0.0.0.0:PORT" to listen on every interface
 *   "unix:PATH"   a unix stream socket; a stale socket file left at PATH
 *                 (nobody listening) is replaced, anything else is not
 * PORT 0 picks a free port; gdb_server_addr() tells which.
 *
 * One client at a time; the next waits in the listen backlog. A client
 * that leaves without 'D' (EOF, reset, failed write) is reported with
 * gdb_stub_disconnected(); after 'D' or 'k' the stub has let go already.
 * A client handed over by a process that restarted itself is adopted
 * (gdb_server_adopt()) and served first.
 * All fds are non-blocking and every wait is a poll() that also watches
 * the shutdown eventfd, so gdb_server_shutdown() is never stuck behind a
 * client that stopped reading.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "gdbstub/server.h"

#define RX_CHUNK	(64 * 1024)

struct gdb_server {
	int listen_fd;
	int shutdown_fd;	/* eventfd: readable once shut down */
	int client_fd;		/* -1 while nobody is connected */
	bool client_dead;	/* a write failed: drop the client */
	bool client_started;	/* it has sent a byte: a session is on */
	bool is_unix;
	long rx_spin_ns;	/* gdb_server_set_rx_spin() */
	bool rx_fast;		/* the client's last packet came within it */
	char *adopt_session;	/* gdb_server_adopt(): resume at run */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char addr[128];
	char rx[RX_CHUNK];
};

/* ---- listening --------------------------------------------------------- */

static int parse_port(const char *s, char *out, size_t len)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5 || strspn(s, "0123456789") != strlen(s))
		return -EINVAL;
	v = strtoul(s, NULL, 10);
	if (v > 65535)
		return -EINVAL;
	snprintf(out, len, "%lu", v);
	return 0;
}

/* Split "HOST:PORT", "[V6]:PORT" or "PORT" (host defaults to loopback). */
static int split_host_port(const char *spec, char *host, size_t hlen,
			   char *port, size_t plen)
{
	const char *colon = strrchr(spec, ':');
	size_t n;

	if (!colon) {
		snprintf(host, hlen, "127.0.0.1");
		return parse_port(spec, port, plen);
	}
	n = (size_t)(colon - spec);
	if (n >= 2 && spec[0] == '[' && spec[n - 1] == ']') {
		spec++;
		n -= 2;
	}
	if (n == 0 || n >= hlen)
		return -EINVAL;
	memcpy(host, spec, n);
	host[n] = '\0';
	return parse_port(colon + 1, port, plen);
}

static void format_inet_addr(struct gdb_server *srv)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";

	if (!getsockname(srv->listen_fd, (struct sockaddr *)&ss, &len))
		getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host),
			    port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
	if (ss.ss_family == AF_INET6)
		snprintf(srv->addr, sizeof(srv->addr), "[%s]:%s", host, port);
	else
		snprintf(srv->addr, sizeof(srv->addr), "%s:%s", host, port);
}

static int listen_on(const struct addrinfo *ai)
{
	int one = 1;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
			SOCK_NONBLOCK, ai->ai_protocol);

	if (fd < 0)
		return -errno;
	/* Lets a restart reuse a port in TIME_WAIT; a port somebody is
	 * listening on still fails with EADDRINUSE (no SO_REUSEPORT).
	 */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 1)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int listen_inet(struct gdb_server *srv, const char *spec)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV | AI_PASSIVE,
	};
	struct addrinfo *res, *ai;
	char host[256], port[8];
	int fd = -EINVAL;

	if (split_host_port(spec, host, sizeof(host), port, sizeof(port)))
		return -EINVAL;
	if (getaddrinfo(host, port, &hints, &res))
		return -EINVAL;		/* an unknown host is a bad spec */
	for (ai = res; ai; ai = ai->ai_next) {
		fd = listen_on(ai);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return fd;
	srv->listen_fd = fd;
	format_inet_addr(srv);
	return 0;
}

/*
 * A socket file nobody listens on is a leftover of a dead process: remove
 * it. A live socket is EADDRINUSE; any other file is not ours to delete.
 */
static int clear_stale_socket(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, ret;

	if (lstat(sun->sun_path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	ret = ret ? -errno : 0;
	close(fd);
	if (ret == 0)
		return -EADDRINUSE;
	if (ret != -ECONNREFUSED)
		return ret;
	return unlink(sun->sun_path) && errno != ENOENT ? -errno : 0;
}

static int listen_unix(struct gdb_server *srv, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct addrinfo ai = {
		.ai_family = AF_UNIX,
		.ai_socktype = SOCK_STREAM,
		.ai_addr = (struct sockaddr *)&sun,
		.ai_addrlen = sizeof(sun),
	};
	int fd;

	if (!*path)
		return -EINVAL;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = clear_stale_socket(&sun);
	if (fd < 0)
		return fd;
	fd = listen_on(&ai);
	if (fd < 0)
		return fd;
	srv->listen_fd = fd;
	srv->is_unix = true;
	memcpy(srv->path, sun.sun_path, sizeof(srv->path));
	snprintf(srv->addr, sizeof(srv->addr), "unix:%s", path);
	return 0;
}

struct gdb_server *gdb_server_new(const char *spec)
{
	struct gdb_server *srv;
	int ret;

	if (!spec || !*spec) {
		errno = EINVAL;
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return NULL;
	srv->listen_fd = srv->client_fd = -1;
	srv->shutdown_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->shutdown_fd < 0) {
		ret = -errno;
		goto err_free;
	}
	if (!strncmp(spec, "unix:", 5))
		ret = listen_unix(srv, spec + 5);
	else
		ret = listen_inet(srv, spec);
	if (ret)
		goto err_close;
	return srv;

err_close:
	close(srv->shutdown_fd);
err_free:
	free(srv);
	errno = -ret;
	return NULL;
}

const char *gdb_server_addr(const struct gdb_server *srv)
{
	return srv->addr;
}

void gdb_server_shutdown(struct gdb_server *srv)
{
	uint64_t one = 1;

	/* Only fails if the counter would overflow: it is signalled then. */
	if (write(srv->shutdown_fd, &one, sizeof(one)) < 0)
		return;
}

void gdb_server_free(struct gdb_server *srv)
{
	if (!srv)
		return;
	if (srv->client_fd >= 0)
		close(srv->client_fd);
	close(srv->listen_fd);
	close(srv->shutdown_fd);
	if (srv->is_unix)
		unlink(srv->path);
	free(srv->adopt_session);
	free(srv);
}

/* ---- serving ----------------------------------------------------------- */

/* The stub's output function: the whole buffer, or the client is dead. */
static int client_write(void *arg, const void *buf, size_t len)
{
	struct gdb_server *srv = arg;
	const char *p = buf;

	while (len && srv->client_fd >= 0 && !srv->client_dead) {
		ssize_t n = send(srv->client_fd, p, len, MSG_NOSIGNAL);
		struct pollfd pfd[2] = {
			{ .fd = srv->client_fd, .events = POLLOUT },
			{ .fd = srv->shutdown_fd, .events = POLLIN },
		};

		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			if (poll(pfd, 2, -1) < 0 && errno != EINTR)
				srv->client_dead = true;
			else if (pfd[1].revents)
				srv->client_dead = true;	/* shutting down */
		} else {
			srv->client_dead = true;
		}
	}
	return len ? -EPIPE : 0;
}

static void close_client(struct gdb_server *srv)
{
	close(srv->client_fd);
	srv->client_fd = -1;
	srv->client_dead = false;
}

static void accept_client(struct gdb_server *srv)
{
	int one = 1;
	int fd = accept4(srv->listen_fd, NULL, NULL,
			 SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0) {
		/* Out of fds or memory: the listener stays readable, so
		 * back off instead of spinning; the client waits meanwhile.
		 */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM)
			poll(NULL, 0, 100);
		return;		/* else the client gave up already, or EINTR */
	}
	if (!srv->is_unix)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	srv->client_fd = fd;
	srv->client_dead = false;
	srv->client_started = false;
}

/*
 * The session starts with the client's first byte (gdb and lldb send
 * '+' or a packet at once), not at accept(): something that connects and
 * closes without a word (a liveness probe, a port scan, a second
 * launcher checking a unix socket) must neither stop a running guest
 * nor, on leaving, release one that waits for its debugger.
 */
static void start_session(struct gdb_server *srv, struct gdb_stub *stub,
			  void (*on_connect)(void *ctx), void *ctx)
{
	srv->client_started = true;
	gdb_stub_reset(stub);
	if (on_connect)
		on_connect(ctx);
}

/* Feed what the client sent; mark it dead on EOF or error. */
static void serve_client(struct gdb_server *srv, struct gdb_stub *stub,
			 void (*on_connect)(void *ctx), void *ctx)
{
	ssize_t n = recv(srv->client_fd, srv->rx, sizeof(srv->rx),
			 MSG_DONTWAIT);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0 && !srv->client_started)
		start_session(srv, stub, on_connect, ctx);
	if (n > 0 && gdb_stub_input(stub, srv->rx, (size_t)n) == -EPIPE) {
		close_client(srv);	/* 'D' or 'k': the stub let go */
		return;
	}
	if (n <= 0)
		srv->client_dead = true;	/* EOF, ECONNRESET, ... */
}

int gdb_server_client_fd(const struct gdb_server *srv)
{
	return srv->client_fd;
}

int gdb_server_adopt(struct gdb_server *srv, int fd, const char *session)
{
	int fl = fcntl(fd, F_GETFL);

	if (srv->client_fd >= 0)
		return -EBUSY;
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC))
		return -errno;
	srv->adopt_session = strdup(session);
	if (!srv->adopt_session)
		return -ENOMEM;
	srv->client_fd = fd;
	srv->client_dead = false;
	return 0;
}

/* A handed-over client: its session goes on where the old process left. */
static void resume_adopted(struct gdb_server *srv, struct gdb_stub *stub,
			   void (*on_connect)(void *ctx), void *ctx)
{
	start_session(srv, stub, on_connect, ctx);
	if (gdb_stub_resume_session(stub, srv->adopt_session))
		srv->client_dead = true;
	free(srv->adopt_session);
	srv->adopt_session = NULL;
}

void gdb_server_set_rx_spin(struct gdb_server *srv, long ns)
{
	srv->rx_spin_ns = ns > 0 ? ns : 0;
	srv->rx_fast = true;
}

static long elapsed_ns(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000000000L + t.tv_nsec - t0->tv_nsec;
}

/*
 * After a reply the client's next packet often follows within tens of
 * microseconds (stepi: the stop reply, then gdb reads the new pc). Look
 * for it without sleeping for up to rx_spin_ns, yielding the core between
 * looks: a thread that blocks in poll() is woken from the other core,
 * which costs more than the wait when that core had gone idle (in a VM an
 * idle vCPU halts, and its wakeup is an IPI through the hypervisor).
 * Only while the client answers that fast: when its last packet came
 * later than the spin would have waited (a bulk read, where the client
 * spends its time on each 128 KiB reply, or a client thinking), the
 * next wait sleeps at once, so the spin costs no CPU there.
 * True when something is ready in @pfd.
 */
static bool spin_poll(struct gdb_server *srv, struct pollfd *pfd)
{
	struct timespec t0;

	if (!srv->rx_spin_ns || !srv->rx_fast)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (poll(pfd, 3, 0) > 0)
			return true;
		sched_yield();
	} while (elapsed_ns(&t0) < srv->rx_spin_ns);
	srv->rx_fast = false;
	return false;
}

int gdb_server_run(struct gdb_server *srv, struct gdb_stub *stub,
		   int event_fd, void (*on_event)(void *ctx),
		   void (*on_connect)(void *ctx), void *ctx)
{
	struct timespec t_reply = { 0 };	/* when the last reply went out */

	gdb_stub_set_output(stub, client_write, srv);
	if (srv->adopt_session)
		resume_adopted(srv, stub, on_connect, ctx);
	for (bool served = false;;) {
		struct pollfd pfd[3] = {
			{ .fd = srv->shutdown_fd, .events = POLLIN },
			{ .fd = srv->client_fd >= 0 ? srv->client_fd :
				srv->listen_fd, .events = POLLIN },
			{ .fd = event_fd, .events = POLLIN },
		};

		/* poll() skips a negative event_fd. */
		if (!(served && spin_poll(srv, pfd))) {
			if (poll(pfd, 3, -1) < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			if (served && pfd[1].revents)
				srv->rx_fast = elapsed_ns(&t_reply) < srv->rx_spin_ns;
		}
		/* A reply went out (a packet served, or a stop reported). */
		served = srv->client_fd >= 0 && (pfd[1].revents || pfd[2].revents);
		if (pfd[0].revents)
			break;
		if (event_fd >= 0 && pfd[2].revents && on_event)
			on_event(ctx);
		if (pfd[1].revents && srv->client_fd < 0) {
			accept_client(srv);
			srv->rx_fast = true;
		} else if (pfd[1].revents) {
			serve_client(srv, stub, on_connect, ctx);
		}
		if (srv->client_fd >= 0 && srv->client_dead) {
			if (srv->client_started)
				gdb_stub_disconnected(stub);
			close_client(srv);
		}
		if (served)
			clock_gettime(CLOCK_MONOTONIC, &t_reply);
	}
	/* The caller is tearing the target down: no detach, just leave. */
	if (srv->client_fd >= 0)
		close_client(srv);
	gdb_stub_set_output(stub, NULL, NULL);
	return 0;
}
