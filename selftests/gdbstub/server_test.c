// SPDX-License-Identifier: GPL-2.0
/*
 * Socket transport tests: gdb_server over real loopback TCP and unix
 * sockets, serving the fake backend from a second thread, with this
 * thread as the client.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "gdbstub/server.h"
#include "selftests/gdbstub/fake_backend.h"
#include "selftests/gdbstub/tap.h"

#define TIMEOUT_MS	3000

static struct fake fk;
static struct gdb_stub *stub;
static struct gdb_server *srv;
static pthread_t srv_thread;
static bool srv_running;
static int srv_ret = -1;
static int efd = -1;
static int n_connect, n_event;
static char sock_path[108];

static void on_event(void *ctx)
{
	struct gdb_stop s = { GDB_STOP_SWBREAK, 2, 5, 0, 0 };
	uint64_t v;

	(void)ctx;
	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return;
	n_event++;
	gdb_stub_stopped(stub, &s);
}

static void on_connect(void *ctx)
{
	(void)ctx;
	n_connect++;
}

static void *server_main(void *arg)
{
	(void)arg;
	srv_ret = gdb_server_run(srv, stub, efd, on_event, on_connect, NULL);
	return NULL;
}

static void setup(void)
{
	fake_init(&fk, 2);
	stub = gdb_stub_new(&fake_ops, &fk);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	snprintf(sock_path, sizeof(sock_path), "/tmp/gdbstub-test-%d.sock",
		 (int)getpid());
	unlink(sock_path);
}

/* Listen on @spec and serve from a thread; false (errno set) on failure. */
static bool start(const char *spec)
{
	srv = gdb_server_new(spec);
	if (!srv)
		return false;
	if (pthread_create(&srv_thread, NULL, server_main, NULL)) {
		gdb_server_free(srv);
		srv = NULL;
		return false;
	}
	srv_running = true;
	return true;
}

static void stop_server(void)
{
	if (srv_running) {
		gdb_server_shutdown(srv);
		pthread_join(srv_thread, NULL);
		srv_running = false;
	}
	gdb_server_free(srv);
	srv = NULL;
}

static void teardown(void)
{
	stop_server();
	gdb_stub_free(stub);
	close(efd);
	unlink(sock_path);
}

static int connect_to(const void *sa, socklen_t len)
{
	int fd = socket(((const struct sockaddr *)sa)->sa_family,
			SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (connect(fd, sa, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_addr(const char *addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *colon = strrchr(addr, ':');

	if (!strncmp(addr, "unix:", 5)) {
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", addr + 5);
		return connect_to(&sun, sizeof(sun));
	}
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return connect_to(&sin, sizeof(sin));
}

static int client(void)
{
	return connect_addr(gdb_server_addr(srv));
}

static void send_str(int fd, const char *s)
{
	if (send(fd, s, strlen(s), MSG_NOSIGNAL) != (ssize_t)strlen(s))
		tap_fail(__FILE__, __LINE__, "send failed");
}

/* Up to @len bytes, waiting at most @ms for them; "" on nothing. */
static const char *recv_n(int fd, size_t len, int ms)
{
	static char buf[4096];
	size_t got = 0;

	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, ms) <= 0)
			break;
		n = recv(fd, buf + got, len - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return buf;
}

static const char *recv_str(int fd, const char *want)
{
	return recv_n(fd, strlen(want), TIMEOUT_MS);
}

/* True once the peer has closed (recv returns 0). */
static bool peer_closed(int fd)
{
	char c;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, TIMEOUT_MS) == 1 && recv(fd, &c, 1, 0) == 0;
}

/* "unix:<this test's socket path>", the spec of a unix listener. */
static const char *unix_spec(void)
{
	static char spec[128];

	snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	return spec;
}

/* gdb_server_new(@spec) fails with errno @err (with any errno if 0). */
static void check_refused(int line, const char *spec, int err)
{
	struct gdb_server *s;

	errno = 0;
	s = gdb_server_new(spec);
	if (!s && (!err || errno == err))
		return;
	printf("#   %s:%d: gdb_server_new(\"%s\"): got %p errno %d (should be NULL errno %d)\n",
	       __FILE__, line, spec, (void *)s, errno, err);
	tap_test_failed = true;
	gdb_server_free(s);
}

#define CHECK_REFUSED(spec, err) check_refused(__LINE__, (spec), (err))

TEST(port_alone_means_loopback)
{
	CHECK(start("0"));
	CHECK(!strncmp(gdb_server_addr(srv), "127.0.0.1:", 10));
	CHECK(atoi(gdb_server_addr(srv) + 10) > 0);
}

TEST(tcp_port_in_use_eaddrinuse)
{
	CHECK(start("0"));
	CHECK_REFUSED(strrchr(gdb_server_addr(srv), ':') + 1, EADDRINUSE);
	CHECK_REFUSED(gdb_server_addr(srv), EADDRINUSE);
}

TEST(port_free_again_after_free)
{
	char addr[64];

	CHECK(start("0"));
	snprintf(addr, sizeof(addr), "%s", gdb_server_addr(srv));
	stop_server();
	CHECK(start(addr));
}

TEST(bad_specs_einval)
{
	static const char *const bad[] = {
		"", "abc", "70000", "12x", "-1", "127.0.0.1:", ":1234",
		"unix:", "127.0.0.1:123456", "nosuchhost.invalid:1234",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_REFUSED(bad[i], EINVAL);
}

TEST(unix_stale_socket_replaced)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	CHECK_INT(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);	/* the file stays, nobody listens */
	CHECK(start(unix_spec()));
}

TEST(unix_non_socket_file_refused)
{
	struct stat st;
	int fd = open(sock_path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

	CHECK_INT(write(fd, "keep", 4), 4);
	close(fd);
	CHECK_REFUSED(unix_spec(), EEXIST);
	CHECK_INT(stat(sock_path, &st), 0);
	CHECK_INT(st.st_size, 4);
}

TEST(unix_path_too_long)
{
	char spec[256] = "unix:/tmp/";

	memset(spec + 10, 'x', 200);
	CHECK_REFUSED(spec, ENAMETOOLONG);
}

TEST(free_removes_unix_socket)
{
	struct stat st;

	CHECK(start(unix_spec()));
	stop_server();
	CHECK(stat(sock_path, &st) != 0);
}

TEST(shutdown_returns_zero)
{
	CHECK(start("0"));
	gdb_server_shutdown(srv);
	pthread_join(srv_thread, NULL);
	srv_running = false;
	CHECK_INT(srv_ret, 0);
}

/*
 * The server thread is blocked writing to a client that stopped reading:
 * shutdown still ends it. A hang is the failure; the deadline only turns
 * it into a failed check instead of the suite's timeout.
 */
TEST(shutdown_with_client_that_stopped_reading)
{
	struct timespec deadline;
	int fd, sz = 4096;

	CHECK(start("0"));
	fd = client();
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	/* Each reply is 128 KiB of hex; nobody reads them. */
	for (int i = 0; i < 64; i++)
		send_str(fd, "$m400000,10000#ae");
	usleep(200 * 1000);
	gdb_server_shutdown(srv);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 60;
	CHECK_INT(pthread_timedjoin_np(srv_thread, NULL, &deadline), 0);
	srv_running = false;
	CHECK_INT(srv_ret, 0);
	close(fd);
}

/* A client handed over by a restarted process: served at once. */
TEST(adopted_client_resumes_session)
{
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	srv = gdb_server_new("0");
	CHECK(srv != NULL);
	CHECK_INT(gdb_server_adopt(srv, sv[1], "ack=1;noack=0;ext=1;swbreak=0;"
				   "hwbreak=0;tsuffix=0;lthreads=0;reply=0"), 0);
	CHECK_INT(gdb_server_adopt(srv, sv[1], "x"), -EBUSY);
	CHECK_INT(gdb_server_client_fd(srv), sv[1]);
	CHECK(pthread_create(&srv_thread, NULL, server_main, NULL) == 0);
	srv_running = true;
	CHECK_STR(recv_str(sv[0], "+"), "+");	/* the R's ack */
	send_str(sv[0], "$vKill;a410#33");	/* still in extended mode */
	CHECK_STR(recv_str(sv[0], "+$OK#9a"), "+$OK#9a");
	CHECK_INT(n_connect, 1);
	CHECK_INT(fk.n_end, 1);
	close(sv[0]);
}

/*
 * The tests that are a listener and a script of client steps: one row
 * each, each its own TAP test, run after the TEST()s in table order. A
 * step names its client (A, or B for a second connection at once); a
 * failed check reports the line of its step.
 */
enum op {
	OP_END,		/* zero: the script ends */
	OP_CONNECT,	/* the client connects */
	OP_CLOSE,	/* it closes */
	OP_RESET,	/* it closes with an RST (SO_LINGER 0) */
	OP_RCVBUF,	/* its SO_RCVBUF becomes n */
	OP_SEND,	/* it sends s, n times */
	OP_EXPECT,	/* it reads strlen(s) bytes: they are s */
	OP_DRAIN,	/* it reads strlen(s) bytes, unchecked (a round trip) */
	OP_QUIET,	/* it reads n bytes for QUIET_MS: nothing comes */
	OP_SEGMENT,	/* one recv() of up to 64 bytes gets n */
	OP_CLOSED,	/* the server closes its end */
	OP_SLEEP,	/* n ms pass */
	OP_KICK,	/* the event fd is written: on_event() reports a stop */
	OP_ADDR,	/* gdb_server_addr() is the listen spec */
	OP_REFUSED,	/* a second gdb_server_new(spec) fails, errno n (or any) */
	OP_COUNT,	/* *counter == n */
};

#define QUIET_MS	300
#define STEPS_MAX	16
/* After every TEST() of this file, in table order. */
#define SESSION_CASE_LINE	1000000
enum { A, B, CLIENTS };

struct step {
	enum op op;
	int c;			/* A or B */
	const char *s;
	long long n;
	const int *counter;	/* OP_COUNT */
	int line;
};

#define STEP(o, c_, s_, n_) \
	{ .op = (o), .c = (c_), .s = (s_), .n = (n_), .line = __LINE__ }
#define CONNECT(c)		STEP(OP_CONNECT, c, NULL, 0)
#define CLOSE(c)		STEP(OP_CLOSE, c, NULL, 0)
#define RESET(c)		STEP(OP_RESET, c, NULL, 0)
#define RCVBUF(c, bytes)	STEP(OP_RCVBUF, c, NULL, bytes)
#define SEND(c, s)		STEP(OP_SEND, c, s, 1)
#define SEND_TIMES(c, s, n)	STEP(OP_SEND, c, s, n)
#define EXPECT(c, s)		STEP(OP_EXPECT, c, s, 0)
#define DRAIN(c, s)		STEP(OP_DRAIN, c, s, 0)
#define QUIET(c, bytes)		STEP(OP_QUIET, c, NULL, bytes)
#define SEGMENT(c, bytes)	STEP(OP_SEGMENT, c, NULL, bytes)
#define CLOSED(c)		STEP(OP_CLOSED, c, NULL, 0)
#define SLEEP_MS(ms)		STEP(OP_SLEEP, A, NULL, ms)
#define KICK()			STEP(OP_KICK, A, NULL, 0)
#define ADDR_IS_SPEC()		STEP(OP_ADDR, A, NULL, 0)
#define REFUSED(err)		STEP(OP_REFUSED, A, NULL, err)
#define COUNT(var, want) \
	{ .op = OP_COUNT, .s = #var, .n = (want), .counter = &(var), \
	  .line = __LINE__ }
/* The client is served: qC in, its ack and the reply out. */
#define SERVED(c)		SEND(c, "$qC#b4"), EXPECT(c, "+$QC1#c5")
/* The same, the reply read unchecked: a round trip that orders what follows. */
#define ROUND_TRIP(c)		SEND(c, "$qC#b4"), DRAIN(c, "+$QC1#c5")

/* A row's listen spec: NULL means this test's unix socket (unix_spec()). */
#define ON_UNIX_SOCKET	NULL

struct session_case {
	const char *name;
	const char *listen;
	struct step steps[STEPS_MAX];
};

static const struct session_case session_cases[] = {
	{ "tcp_exchange", "127.0.0.1:0", {
		CONNECT(A), SERVED(A), CLOSE(A) } },
	{ "unix_exchange", ON_UNIX_SOCKET, {
		ADDR_IS_SPEC(), CONNECT(A), SERVED(A), CLOSE(A) } },
	{ "unix_live_socket_eaddrinuse", ON_UNIX_SOCKET, {
		REFUSED(EADDRINUSE),
		CONNECT(A), SERVED(A),	/* the first listener is untouched */
		CLOSE(A) } },
	{ "on_connect_runs_per_client", "0", {
		CONNECT(A), ROUND_TRIP(A), CLOSE(A),
		CONNECT(A), ROUND_TRIP(A), CLOSE(A),
		CONNECT(A), ROUND_TRIP(A), CLOSE(A),
		COUNT(n_connect, 3) } },
	/* A client that never resumed the target leaves it held for the next. */
	{ "disconnect_before_resume_holds_then_reconnect_works", "0", {
		CONNECT(A), ROUND_TRIP(A), CLOSE(A),
		CONNECT(A), SERVED(A),
		COUNT(fk.n_hold, 1), COUNT(fk.n_detach, 0), CLOSE(A) } },
	{ "disconnect_after_resume_detaches", "0", {
		/* The qC reply proves the c before it was dispatched. */
		CONNECT(A), SEND(A, "$c#63$qC#b4"), EXPECT(A, "++$QC1#c5"),
		CLOSE(A),
		CONNECT(A), SERVED(A),
		COUNT(fk.n_detach, 1), COUNT(fk.n_hold, 0), CLOSE(A) } },
	/*
	 * A connection that closes without sending a byte (a liveness probe,
	 * or a second launcher checking a unix socket) is no session: no
	 * on_connect, no detach, and the next client is served normally.
	 */
	{ "silent_connection_is_not_a_session", "0", {
		CONNECT(A), CLOSE(A),
		CONNECT(A), SERVED(A),
		COUNT(n_connect, 1), COUNT(fk.n_detach, 0), CLOSE(A) } },
	{ "unix_live_check_leaves_first_session_alone", ON_UNIX_SOCKET, {
		REFUSED(0),	/* probes the live socket */
		CONNECT(A), SERVED(A),
		COUNT(fk.n_detach, 0), COUNT(n_connect, 1), CLOSE(A) } },
	{ "new_client_starts_in_ack_mode", "0", {
		CONNECT(A), SEND(A, "$QStartNoAckMode#b0"), DRAIN(A, "+$OK#9a"),
		CLOSE(A),
		CONNECT(A), SERVED(A), CLOSE(A) } },
	{ "detach_closes_connection_once", "0", {
		CONNECT(A), SEND(A, "$D#44"), EXPECT(A, "+$OK#9a"), CLOSED(A),
		CLOSE(A),
		CONNECT(A), SERVED(A), COUNT(fk.n_detach, 1), CLOSE(A) } },
	{ "kill_closes_connection", "0", {
		/* lldb waits for an exit reply to 'k' (X09: killed), then the close. */
		CONNECT(A), SEND(A, "$k#6b"), EXPECT(A, "+$X09#c1"), CLOSED(A),
		COUNT(fk.n_kill, 1), CLOSE(A) } },
	{ "event_fd_delivers_stop_reply", "0", {
		CONNECT(A),
		SEND(A, "$qSupported:swbreak+#xx"), EXPECT(A, "-"),	/* bad checksum */
		SEND(A, "$vCont;c#a8"), EXPECT(A, "+"),
		KICK(), EXPECT(A, "$T05thread:2;10:0011400000000000;"),
		COUNT(n_event, 1), CLOSE(A) } },
	{ "ctrl_c_over_socket_interrupts", "0", {
		CONNECT(A), SEND(A, "$vCont;c#a8"), DRAIN(A, "+"),
		SEND(A, "\x03"), ROUND_TRIP(A),	/* orders the check */
		COUNT(fk.n_interrupt, 1), CLOSE(A) } },
	{ "second_client_waits_for_first", "0", {
		CONNECT(A), ROUND_TRIP(A),
		CONNECT(B), SEND(B, "$qC#b4"), QUIET(B, 8),	/* in the backlog */
		CLOSE(A), EXPECT(B, "+$QC1#c5"), CLOSE(B) } },
	{ "one_reply_one_segment", "0", {
		/* ack + reply leave in one write: read them with one recv. */
		CONNECT(A), SEND(A, "$qC#b4"), SLEEP_MS(100), SEGMENT(A, 8),
		CLOSE(A) } },
	{ "client_reset_mid_reply_survives", "0", {
		CONNECT(A), RCVBUF(A, 4096),
		SEND_TIMES(A, "$m400000,10000#ae", 8), SLEEP_MS(100),
		RESET(A),	/* RST while the server writes */
		CONNECT(A), SERVED(A),
		COUNT(fk.n_hold, 1),	/* it never resumed the target */
		CLOSE(A) } },
};

/* The steps that only touch the client's socket. */
static void run_socket_step(const struct step *st, int fd)
{
	struct linger lg = { 1, 0 };
	int sz = (int)st->n;
	char buf[64];

	switch (st->op) {
	case OP_RESET:
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
		break;
	case OP_RCVBUF:
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		break;
	case OP_SEND:
		for (long long i = 0; i < st->n; i++)
			send_str(fd, st->s);
		break;
	case OP_EXPECT:
		tap_check_str(__FILE__, st->line, "the client reads",
			      recv_str(fd, st->s), st->s);
		break;
	case OP_DRAIN:
		recv_str(fd, st->s);
		break;
	case OP_QUIET:
		tap_check_str(__FILE__, st->line, "the client reads nothing",
			      recv_n(fd, (size_t)st->n, QUIET_MS), "");
		break;
	case OP_SEGMENT:
		tap_check_int(__FILE__, st->line, "one recv()",
			      recv(fd, buf, sizeof(buf), 0), st->n);
		break;
	case OP_CLOSED:
		if (!peer_closed(fd))
			tap_fail(__FILE__, st->line,
				 "the server did not close the connection");
		break;
	default:
		tap_fail(__FILE__, st->line, "not a socket step");
	}
}

static void run_step(const struct step *st, int *fd, const char *spec)
{
	uint64_t one = 1;

	switch (st->op) {
	case OP_CONNECT:
		fd[st->c] = client();
		break;
	case OP_CLOSE:
		close(fd[st->c]);
		break;
	case OP_SLEEP:
		usleep((useconds_t)st->n * 1000);
		break;
	case OP_KICK:
		tap_check_int(__FILE__, st->line, "write(efd)",
			      write(efd, &one, sizeof(one)), sizeof(one));
		break;
	case OP_ADDR:
		tap_check_str(__FILE__, st->line, "gdb_server_addr(srv)",
			      gdb_server_addr(srv), spec);
		break;
	case OP_REFUSED:
		check_refused(st->line, spec, (int)st->n);
		break;
	case OP_COUNT:
		tap_check_int(__FILE__, st->line, st->s, *st->counter, st->n);
		break;
	default:
		run_socket_step(st, fd[st->c]);
	}
}

static void run_session_case(const void *arg)
{
	const struct session_case *c = arg;
	const char *spec = c->listen ? c->listen : unix_spec();
	int fd[CLIENTS] = { -1, -1 };

	if (!start(spec)) {
		printf("#   start(\"%s\"): %s\n", spec, strerror(errno));
		tap_test_failed = true;
		return;
	}
	for (int i = 0; i < STEPS_MAX && c->steps[i].op != OP_END; i++)
		run_step(&c->steps[i], fd, spec);
}

TAP_REGISTER_CASES(session_cases, run_session_case, SESSION_CASE_LINE);

int main(void)
{
	return tap_run(setup, teardown);
}
