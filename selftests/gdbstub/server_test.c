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

static int connect_addr(const char *addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *colon = strrchr(addr, ':');
	int fd;

	if (!strncmp(addr, "unix:", 5)) {
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", addr + 5);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
			close(fd);
			return -1;
		}
		return fd;
	}
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -1;
	}
	return fd;
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

TEST(port_alone_means_loopback)
{
	CHECK(start("0"));
	CHECK(!strncmp(gdb_server_addr(srv), "127.0.0.1:", 10));
	CHECK(atoi(gdb_server_addr(srv) + 10) > 0);
}

TEST(tcp_exchange)
{
	int fd;

	CHECK(start("127.0.0.1:0"));
	fd = client();
	send_str(fd, "$qC#b4");
	CHECK_STR(recv_str(fd, "+$QC1#c5"), "+$QC1#c5");
	close(fd);
}

TEST(tcp_port_in_use_eaddrinuse)
{
	const char *port;

	CHECK(start("0"));
	port = strrchr(gdb_server_addr(srv), ':') + 1;
	errno = 0;
	CHECK(gdb_server_new(port) == NULL);
	CHECK_INT(errno, EADDRINUSE);
	errno = 0;
	CHECK(gdb_server_new(gdb_server_addr(srv)) == NULL);
	CHECK_INT(errno, EADDRINUSE);
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

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gdb_server *s;

		errno = 0;
		s = gdb_server_new(bad[i]);
		if (s || errno != EINVAL)
			printf("#   spec \"%s\": %p errno %d\n", bad[i], (void *)s,
			       errno);
		CHECK(s == NULL);
		CHECK_INT(errno, EINVAL);
		gdb_server_free(s);
	}
}

TEST(unix_exchange)
{
	char spec[128];
	int fd;

	snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	CHECK(start(spec));
	CHECK_STR(gdb_server_addr(srv), spec);
	fd = client();
	send_str(fd, "$qC#b4");
	CHECK_STR(recv_str(fd, "+$QC1#c5"), "+$QC1#c5");
	close(fd);
}

TEST(unix_stale_socket_replaced)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	char spec[128];

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	CHECK_INT(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);	/* the file stays, nobody listens */
	snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	CHECK(start(spec));
}

TEST(unix_live_socket_eaddrinuse)
{
	char spec[128];
	int fd;

	snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	CHECK(start(spec));
	errno = 0;
	CHECK(gdb_server_new(spec) == NULL);
	CHECK_INT(errno, EADDRINUSE);
	fd = client();		/* the first listener is untouched */
	send_str(fd, "$qC#b4");
	CHECK_STR(recv_str(fd, "+$QC1#c5"), "+$QC1#c5");
	close(fd);
}

TEST(unix_non_socket_file_refused)
{
	char spec[128];
	struct stat st;
	int fd = open(sock_path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

	CHECK_INT(write(fd, "keep", 4), 4);
	close(fd);
	snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	errno = 0;
	CHECK(gdb_server_new(spec) == NULL);
	CHECK_INT(errno, EEXIST);
	CHECK_INT(stat(sock_path, &st), 0);
	CHECK_INT(st.st_size, 4);
}

TEST(unix_path_too_long)
{
	char spec[256] = "unix:/tmp/";

	memset(spec + 10, 'x', 200);
	errno = 0;
	CHECK(gdb_server_new(spec) == NULL);
	CHECK_INT(errno, ENAMETOOLONG);
}

TEST(free_removes_unix_socket)
{
	char spec[128];
	struct stat st;

	snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	CHECK(start(spec));
	stop_server();
	CHECK(stat(sock_path, &st) != 0);
}

TEST(on_connect_runs_per_client)
{
	int fd;

	CHECK(start("0"));
	for (int i = 0; i < 3; i++) {
		fd = client();
		send_str(fd, "$qC#b4");
		recv_str(fd, "+$QC1#c5");
		close(fd);
	}
	CHECK_INT(n_connect, 3);
}

/* A client that never resumed the target leaves it held for the next. */
TEST(disconnect_before_resume_holds_then_reconnect_works)
{
	int fd;

	CHECK(start("0"));
	fd = client();
	send_str(fd, "$qC#b4");
	recv_str(fd, "+$QC1#c5");
	close(fd);
	fd = client();
	send_str(fd, "$qC#b4");
	CHECK_STR(recv_str(fd, "+$QC1#c5"), "+$QC1#c5");
	CHECK_INT(fk.n_hold, 1);
	CHECK_INT(fk.n_detach, 0);
	close(fd);
}

TEST(disconnect_after_resume_detaches)
{
	int fd;

	CHECK(start("0"));
	fd = client();
	/* The qC reply proves the c before it was dispatched. */
	send_str(fd, "$c#63$qC#b4");
	CHECK_STR(recv_str(fd, "++$QC1#c5"), "++$QC1#c5");
	close(fd);
	fd = client();
	send_str(fd, "$qC#b4");
	CHECK_STR(recv_str(fd, "+$QC1#c5"), "+$QC1#c5");
	CHECK_INT(fk.n_detach, 1);
	CHECK_INT(fk.n_hold, 0);
	close(fd);
}

/*
 * A connection that closes without sending a byte (a liveness probe, or a
 * second launcher checking a unix socket) is no session: no on_connect,
 * no detach, and the next client is served normally.
 */
TEST(silent_connection_is_not_a_session)
{
	int fd;

	CHECK(start("0"));
	close(client());
	fd = client();
	send_str(fd, "$qC#b4");
	CHECK_STR(recv_str(fd, "+$QC1#c5"), "+$QC1#c5");
	CHECK_INT(n_connect, 1);
	CHECK_INT(fk.n_detach, 0);
	close(fd);
}

TEST(unix_live_check_leaves_first_session_alone)
{
	char spec[128];
	int fd;

	snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	CHECK(start(spec));
	CHECK(gdb_server_new(spec) == NULL);	/* probes the live socket */
	fd = client();
	send_str(fd, "$qC#b4");
	CHECK_STR(recv_str(fd, "+$QC1#c5"), "+$QC1#c5");
	CHECK_INT(fk.n_detach, 0);
	CHECK_INT(n_connect, 1);
	close(fd);
}

TEST(new_client_starts_in_ack_mode)
{
	int fd;

	CHECK(start("0"));
	fd = client();
	send_str(fd, "$QStartNoAckMode#b0");
	recv_str(fd, "+$OK#9a");
	close(fd);
	fd = client();
	send_str(fd, "$qC#b4");
	CHECK_STR(recv_str(fd, "+$QC1#c5"), "+$QC1#c5");
	close(fd);
}

TEST(detach_closes_connection_once)
{
	int fd;

	CHECK(start("0"));
	fd = client();
	send_str(fd, "$D#44");
	CHECK_STR(recv_str(fd, "+$OK#9a"), "+$OK#9a");
	CHECK(peer_closed(fd));
	close(fd);
	fd = client();
	send_str(fd, "$qC#b4");
	CHECK_STR(recv_str(fd, "+$QC1#c5"), "+$QC1#c5");
	CHECK_INT(fk.n_detach, 1);
	close(fd);
}

TEST(kill_closes_connection)
{
	int fd;

	CHECK(start("0"));
	fd = client();
	send_str(fd, "$k#6b");
	/* lldb waits for an exit reply to 'k' (X09: killed), then the close. */
	CHECK_STR(recv_str(fd, "+$X09#c1"), "+$X09#c1");
	CHECK(peer_closed(fd));
	CHECK_INT(fk.n_kill, 1);
	close(fd);
}

TEST(event_fd_delivers_stop_reply)
{
	uint64_t one = 1;
	int fd;

	CHECK(start("0"));
	fd = client();
	send_str(fd, "$qSupported:swbreak+#xx");	/* bad checksum */
	CHECK_STR(recv_str(fd, "-"), "-");
	send_str(fd, "$vCont;c#a8");
	CHECK_STR(recv_str(fd, "+"), "+");
	CHECK_INT(write(efd, &one, sizeof(one)), sizeof(one));
	CHECK_STR(recv_str(fd, "$T05thread:2;10:0011400000000000;"),
		  "$T05thread:2;10:0011400000000000;");
	CHECK_INT(n_event, 1);
	close(fd);
}

TEST(ctrl_c_over_socket_interrupts)
{
	int fd;

	CHECK(start("0"));
	fd = client();
	send_str(fd, "$vCont;c#a8");
	recv_str(fd, "+");
	send_str(fd, "\x03");
	send_str(fd, "$qC#b4");		/* a round trip orders the check */
	recv_str(fd, "+$QC1#c5");
	CHECK_INT(fk.n_interrupt, 1);
	close(fd);
}

TEST(second_client_waits_for_first)
{
	int a, b;

	CHECK(start("0"));
	a = client();
	send_str(a, "$qC#b4");
	recv_str(a, "+$QC1#c5");
	b = client();		/* queued in the backlog */
	send_str(b, "$qC#b4");
	CHECK_STR(recv_n(b, 8, 300), "");
	close(a);
	CHECK_STR(recv_str(b, "+$QC1#c5"), "+$QC1#c5");
	close(b);
}

TEST(one_reply_one_segment)
{
	/* ack + reply leave in one write: read them with one recv. */
	char buf[64];
	ssize_t n;
	int fd;

	CHECK(start("0"));
	fd = client();
	send_str(fd, "$qC#b4");
	usleep(100 * 1000);
	n = recv(fd, buf, sizeof(buf), 0);
	CHECK_INT(n, 8);
	close(fd);
}

TEST(shutdown_returns_zero)
{
	CHECK(start("0"));
	gdb_server_shutdown(srv);
	pthread_join(srv_thread, NULL);
	srv_running = false;
	CHECK_INT(srv_ret, 0);
}

TEST(shutdown_with_client_that_stopped_reading)
{
	struct timespec t0, t1;
	int fd, sz = 4096;

	CHECK(start("0"));
	fd = client();
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	/* Each reply is 128 KiB of hex; nobody reads them. */
	for (int i = 0; i < 64; i++)
		send_str(fd, "$m400000,10000#ae");
	usleep(200 * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	gdb_server_shutdown(srv);
	pthread_join(srv_thread, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	srv_running = false;
	CHECK_INT(srv_ret, 0);
	CHECK(t1.tv_sec - t0.tv_sec < 2);
	close(fd);
}

TEST(client_reset_mid_reply_survives)
{
	struct linger lg = { 1, 0 };
	int fd, sz = 4096;

	CHECK(start("0"));
	fd = client();
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	for (int i = 0; i < 8; i++)
		send_str(fd, "$m400000,10000#ae");
	usleep(100 * 1000);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);		/* RST while the server writes */
	fd = client();
	send_str(fd, "$qC#b4");
	CHECK_STR(recv_str(fd, "+$QC1#c5"), "+$QC1#c5");
	CHECK_INT(fk.n_hold, 1);	/* it never resumed the target */
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

int main(void)
{
	return tap_run(setup, teardown);
}
