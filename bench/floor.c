// SPDX-License-Identifier: GPL-2.0
/*
 * The floor the gdb/lldb bench figures are printed against, measured in the
 * same run on the same (loaded) machine: what no stub can beat.
 *
 *   rtt_us        median round trip of a 16-byte message over loopback TCP
 *                 between two processes (TCP_NODELAY; unpinned, as the
 *                 stubs and their clients are): one RSP packet and its reply
 *   tcp_mib_s     16 MiB sent over loopback TCP in 128 KiB writes to another
 *                 process, until it acknowledges the last byte
 *   memcpy_mib_s  memcpy of 16 MiB between two touched buffers
 *
 * Usage: floor [REPEATS]   (default 5; each figure is the median of REPEATS
 * batches; a batch of rtt is 500 round trips). Prints "name value" lines.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG		16
#define RTT_BATCH	500
#define BIG		(16 << 20)
#define CHUNK		(128 << 10)
#define MAX_REPEATS	101

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int full_io(int fd, void *buf, size_t len, int wr)
{
	char *p = buf;

	while (len) {
		ssize_t n = wr ? write(fd, p, len) : read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* A connected loopback TCP pair: *a stays here, *b goes to the child. */
static int tcp_pair(int *a, int *b)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (void *)&sa, sizeof(sa)) || listen(l, 1) ||
	    getsockname(l, (void *)&sa, &len))
		return -1;
	*a = socket(AF_INET, SOCK_STREAM, 0);
	if (*a < 0 || connect(*a, (void *)&sa, sizeof(sa)))
		return -1;
	*b = accept(l, NULL, NULL);
	close(l);
	if (*b < 0)
		return -1;
	setsockopt(*a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(*b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

/* Child: echo every 16-byte message (rtt), or ack each 16 MiB (stream). */
static void serve(int fd, int stream, char *buf)
{
	char msg[MSG];

	for (;;) {
		if (stream ? full_io(fd, buf, BIG, 0) : full_io(fd, msg, MSG, 0))
			_exit(0);
		if (full_io(fd, msg, stream ? 1 : MSG, 1))
			_exit(1);
	}
}

static int run_tcp(int stream, int repeats, double *out, char *buf)
{
	char msg[MSG] = "$g#67+$g#67+$g#";
	int a, b, status;
	pid_t pid;

	if (tcp_pair(&a, &b))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		close(a);
		serve(b, stream, buf);
	}
	close(b);
	for (int r = 0; r < repeats; r++) {
		double t0 = now();

		for (int i = 0; i < (stream ? 1 : RTT_BATCH); i++) {
			if (stream ? full_io(a, buf, BIG, 1) || full_io(a, msg, 1, 0) :
				     full_io(a, msg, MSG, 1) || full_io(a, msg, MSG, 0))
				return -1;
		}
		out[r] = stream ? (BIG >> 20) / (now() - t0) :
				  (now() - t0) / RTT_BATCH * 1e6;
	}
	close(a);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

static void run_memcpy(int repeats, double *out, char *src)
{
	char *dst = malloc(BIG);

	if (!dst) {
		fprintf(stderr, "floor: out of memory\n");
		exit(1);
	}
	memset(dst, 1, BIG);
	for (int r = 0; r < repeats; r++) {
		double t0 = now();

		memcpy(dst, src, BIG);
		/* Keep the copy: a compiler may not drop it as dead. */
		__asm__ volatile("" : : "r"(dst) : "memory");
		out[r] = (BIG >> 20) / (now() - t0);
	}
	free(dst);
}

int main(int argc, char **argv)
{
	double v[MAX_REPEATS];
	int repeats = 5;
	char *buf, *end;

	if (argc > 2 || (argc == 2 && (repeats = strtol(argv[1], &end, 10),
					*end || repeats < 1 || repeats > MAX_REPEATS))) {
		fprintf(stderr, "usage: floor [REPEATS], REPEATS 1 to %d\n", MAX_REPEATS);
		return 2;
	}
	buf = malloc(BIG);
	if (!buf) {
		fprintf(stderr, "floor: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < BIG; i++)
		buf[i] = (char)(i * 2654435761u >> 24);
	if (run_tcp(0, repeats, v, buf)) {
		perror("floor: loopback round trip");
		return 1;
	}
	printf("rtt_us %.1f\n", median(v, repeats));
	if (run_tcp(1, repeats, v, buf)) {
		perror("floor: loopback stream");
		return 1;
	}
	printf("tcp_mib_s %.0f\n", median(v, repeats));
	run_memcpy(repeats, v, buf);
	printf("memcpy_mib_s %.0f\n", median(v, repeats));
	free(buf);
	return 0;
}
