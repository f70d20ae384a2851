// SPDX-License-Identifier: GPL-2.0
/*
 * qmp: a QMP client for the test VM, whose busybox sh has no socat or
 * python (selftests/vm/tests.d/80-qemu-peer drives Debian's QEMU with it).
 *
 *   qmp [-w SECS] [-t SECS] SOCKET COMMAND...
 *   qmp [-w SECS] [-t SECS] [--samples] --bench N SOCKET
 *
 * Connects to QEMU's QMP unix socket (-qmp unix:SOCKET,server,nowait),
 * reads the greeting, sends qmp_capabilities, then each COMMAND in turn
 * and prints its reply's "return": a string (what human-monitor-command
 * returns) unescaped, with the monitor's \r\n turned into \n; any other
 * value as its JSON text on one line. Events are skipped. A COMMAND is a
 * JSON object ('{"execute":"stop"}'), a bare command name (stop), or
 * hmp:LINE, a human-monitor-command ('hmp:info registers -a').
 *
 * --bench N times N rounds of {stop; info registers -a; cont}, the pause
 * a guest sees when its registers are read through QEMU's monitor (the
 * baseline of issue 11's benchmark), and prints one line:
 *   rounds=N cpus=K median_us=X p99_us=Y min_us=A max_us=B
 * where K is the number of "CPU#" blocks info registers -a listed; with
 * --samples, then one line per round in round order, "sample us=X", for a
 * caller that pools rounds interleaved with another benchmark's.
 *
 * -w SECS: retry the connection for up to SECS s while QEMU is starting
 * (default 0: one try). -t SECS: give up on a reply after SECS s
 * (default 30). Exits 1 with one line on stderr on an "error" reply, a
 * dropped socket, a timeout or bad arguments.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* No QMP reply we read comes near this; a bigger one is a broken peer. */
#define REPLY_MAX	(4u << 20)
#define BENCH_MAX	100000

struct conn {
	int fd;
	const char *path;
	int timeout_ms;
	char *buf;		/* bytes read, line not yet consumed */
	size_t len, cap;
	char *line;		/* the last line conn_line returned */
};

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("qmp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage(void)
{
	die("usage: qmp [-w SECS] [-t SECS] SOCKET COMMAND... | qmp [-w SECS] [-t SECS] [--samples] --bench N SOCKET; "
	    "COMMAND: a JSON object, a command name (stop), or hmp:LINE");
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* ---- a JSON scanner: just enough to find members and unescape strings */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *skip_string(const char *p)
{
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && !*++p)
			return NULL;
	return *p == '"' ? p + 1 : NULL;
}

/* After the value at p (object, array, string or scalar), or NULL. */
static const char *skip_value(const char *p)
{
	int depth = 0;

	p = skip_ws(p);
	do {
		if (*p == '"') {
			p = skip_string(p);
			if (!p)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (--depth < 0)
				return NULL;
		} else if (!*p) {
			return NULL;
		} else if (depth == 0) {
			/* a scalar: up to the next delimiter */
			while (*p && !strchr(",}] \t\r\n", *p))
				p++;
			return p;
		}
		p++;
	} while (depth > 0);
	return p;
}

/*
 * The value of member KEY of the object at obj (its end in *end), or NULL
 * when obj is no object or has no such member. Keys compare raw: ours
 * have no escapes.
 */
static const char *member(const char *obj, const char *key, const char **end)
{
	const char *p = skip_ws(obj), *k, *v;
	size_t klen = strlen(key);

	if (*p++ != '{')
		return NULL;
	for (p = skip_ws(p); *p == '"'; p = skip_ws(p + 1)) {
		k = p + 1;
		p = skip_string(p);
		if (!p)
			return NULL;
		p = skip_ws(p);
		if (*p++ != ':')
			return NULL;
		v = skip_ws(p);
		p = skip_value(v);
		if (!p)
			return NULL;
		if ((size_t)(skip_string(k - 1) - k - 1) == klen &&
		    !memcmp(k, key, klen)) {
			*end = p;
			return v;
		}
		p = skip_ws(p);
		if (*p != ',')
			return NULL;
	}
	return NULL;
}

static void put_utf8(char **o, unsigned int c)
{
	if (c < 0x80) {
		*(*o)++ = c;
	} else if (c < 0x800) {
		*(*o)++ = 0xc0 | c >> 6;
		*(*o)++ = 0x80 | (c & 0x3f);
	} else if (c < 0x10000) {
		*(*o)++ = 0xe0 | c >> 12;
		*(*o)++ = 0x80 | (c >> 6 & 0x3f);
		*(*o)++ = 0x80 | (c & 0x3f);
	} else {
		*(*o)++ = 0xf0 | c >> 18;
		*(*o)++ = 0x80 | (c >> 12 & 0x3f);
		*(*o)++ = 0x80 | (c >> 6 & 0x3f);
		*(*o)++ = 0x80 | (c & 0x3f);
	}
}

static int hex4(const char *p, unsigned int *c)
{
	char h[5];
	char *e;

	memcpy(h, p, 4);
	h[4] = 0;
	*c = strtoul(h, &e, 16);
	return e == h + 4 ? 0 : -1;
}

/*
 * The string at p unescaped into a new buffer (\r before \n dropped: the
 * monitor ends its lines with \r\n), or NULL when p is no valid string.
 * UTF-8 out takes at most the 6 bytes of \uXXXX per character.
 */
static char *unescape(const char *p)
{
	const char *end = *p == '"' ? skip_string(p) : NULL;
	unsigned int c, lo;
	char *s, *o;

	if (!end)
		return NULL;
	s = o = malloc(end - p);
	if (!s)
		die("out of memory");
	for (p++; p < end - 1; p++) {
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		switch (*++p) {
		case 'n': if (o > s && o[-1] == '\r') o--;
			  *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'u':
			if (end - 1 - p < 5 || hex4(p + 1, &c))
				goto bad;
			p += 4;
			if (c >= 0xd800 && c < 0xdc00 && end - 1 - p >= 7 && p[1] == '\\' &&
			    p[2] == 'u' && !hex4(p + 3, &lo) && lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (c >= 0xd800 && c < 0xe000) {
				c = 0xfffd;
			}
			put_utf8(&o, c);
			break;
		default: *o++ = *p; break;	/* \" \\ \/ */
		}
	}
	*o = 0;
	return s;
bad:
	free(s);
	return NULL;
}

/* LINE as a JSON string body: quotes, backslashes and controls escaped. */
static char *escape(const char *line)
{
	char *s = malloc(strlen(line) * 6 + 1), *o = s;

	if (!s)
		die("out of memory");
	for (; *line; line++) {
		if (*line == '"' || *line == '\\') {
			*o++ = '\\';
			*o++ = *line;
		} else if ((unsigned char)*line < 0x20) {
			o += snprintf(o, 7, "\\u%04x", (unsigned char)*line);
		} else {
			*o++ = *line;
		}
	}
	*o = 0;
	return s;
}

/* ---- the socket */

static void conn_open(struct conn *c, const char *path, double wait_s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double deadline = now_us() + wait_s * 1e6;

	if (strlen(path) >= sizeof(sa.sun_path))
		die("socket path %s is longer than %zu bytes: use a shorter one", path,
		    sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);
	c->path = path;
	for (;;) {
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0)
			die("socket: %s", strerror(errno));
		if (!connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)))
			return;
		close(c->fd);
		if ((errno != ENOENT && errno != ECONNREFUSED) || now_us() >= deadline)
			die("cannot connect to %s: %s (is QEMU running with -qmp unix:%s,server,nowait?)",
			    path, strerror(errno), path);
		usleep(20000);
	}
}

/* One line from the socket (NUL-terminated, newline dropped), for WHAT. */
static char *conn_line(struct conn *c, const char *what)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	char *nl;
	ssize_t n;
	int rc;

	while (!(nl = c->len ? memchr(c->buf, '\n', c->len) : NULL)) {
		if (c->len + 4096 > c->cap) {
			if (c->cap >= REPLY_MAX)
				die("%s: a reply to %s is over %u bytes", c->path, what, REPLY_MAX);
			c->cap = c->cap ? c->cap * 2 : 65536;
			c->buf = realloc(c->buf, c->cap);
			if (!c->buf)
				die("out of memory");
		}
		rc = poll(&pfd, 1, c->timeout_ms);
		if (rc == 0)
			die("%s: no reply to %s within %d s", c->path, what, c->timeout_ms / 1000);
		if (rc < 0 && errno != EINTR)
			die("poll %s: %s", c->path, strerror(errno));
		if (rc < 0)
			continue;
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("%s closed the connection before replying to %s%s%s", c->path, what,
			    n ? ": " : "", n ? strerror(errno) : "");
		c->len += n;
	}
	free(c->line);
	c->line = strndup(c->buf, nl - c->buf);
	if (!c->line)
		die("out of memory");
	c->len -= nl + 1 - c->buf;
	memmove(c->buf, nl + 1, c->len);
	return c->line;
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->buf);
	free(c->line);
}

static void conn_send(struct conn *c, const char *json)
{
	size_t len = strlen(json), off = 0;
	ssize_t n;

	while (off < len) {
		n = send(c->fd, json + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("%s closed the connection before taking %s: %s", c->path, json,
			    strerror(errno));
		off += n;
	}
	if (send(c->fd, "\n", 1, MSG_NOSIGNAL) != 1)
		die("%s closed the connection before taking %s", c->path, json);
}

/*
 * Sends JSON, skips events, returns the reply's "return" value (its end in
 * *end; the text lives until the next call); dies on an "error" reply.
 */
static const char *qmp_call(struct conn *c, const char *json, const char **end)
{
	const char *line, *v, *e, *cls, *desc;
	char *ucls, *udesc;

	conn_send(c, json);
	for (;;) {
		line = conn_line(c, json);
		v = member(line, "return", end);
		if (v)
			return v;
		v = member(line, "error", &e);
		if (v) {
			cls = member(v, "class", &e);
			desc = member(v, "desc", &e);
			ucls = cls ? unescape(cls) : NULL;
			udesc = desc ? unescape(desc) : NULL;
			die("%s failed: %s: %s", json, ucls ? ucls : "?", udesc ? udesc : line);
		}
		if (!member(line, "event", &e))
			die("%s: unexpected reply to %s: %s", c->path, json, line);
	}
}

static void qmp_greet(struct conn *c)
{
	const char *line, *e;

	line = conn_line(c, "the connection (QMP greeting)");
	if (!member(line, "QMP", &e))
		die("%s is no QMP socket: its first line is %s", c->path, line);
	qmp_call(c, "{\"execute\":\"qmp_capabilities\"}", &e);
}

/* ---- commands */

/* The JSON to send for one COMMAND argument (see the header). */
static char *command_json(const char *arg)
{
	const char *e, *p;
	char *json, *esc;
	size_t n;

	if (!strncmp(arg, "hmp:", 4)) {
		esc = escape(arg + 4);
		n = strlen(esc) + 100;
		json = malloc(n);
		if (!json)
			die("out of memory");
		snprintf(json, n, "{\"execute\":\"human-monitor-command\","
			 "\"arguments\":{\"command-line\":\"%s\"}}", esc);
		free(esc);
		return json;
	}
	if (*skip_ws(arg) == '{') {
		e = skip_value(arg);
		if (!e || *skip_ws(e) || !member(arg, "execute", &e))
			die("'%s' is not one JSON object with an \"execute\" member", arg);
		if (strchr(arg, '\n'))
			die("'%s' spans lines: QMP reads one command a line", arg);
		return strdup(arg);
	}
	for (p = arg; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-_", *p))
			break;
	if (*arg == '-')
		die("'%s' after SOCKET: options go before it", arg);
	if (*p || p == arg)
		die("'%s' is neither a JSON object, nor a command name, nor hmp:LINE", arg);
	n = strlen(arg) + 20;
	json = malloc(n);
	if (!json)
		die("out of memory");
	snprintf(json, n, "{\"execute\":\"%s\"}", arg);
	return json;
}

static void print_return(const char *v, const char *end)
{
	char *s;
	size_t n;

	if (*v != '"') {
		printf("%.*s\n", (int)(end - v), v);
		return;
	}
	s = unescape(v);
	if (!s)
		die("a reply's return is no valid JSON string: %.*s", (int)(end - v), v);
	n = strlen(s);
	fputs(s, stdout);
	if (n && s[n - 1] != '\n')
		putchar('\n');
	free(s);
}

/* JSON holds the n commands, checked before anything is sent. */
static int run_commands(struct conn *c, char **json, int n)
{
	const char *v, *end;
	int i;

	for (i = 0; i < n; i++) {
		v = qmp_call(c, json[i], &end);
		print_return(v, end);
		fflush(stdout);
		free(json[i]);
	}
	free(json);
	return 0;
}

/* ---- --bench */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int count_cpus(const char *v)
{
	char *s = unescape(v), *p;
	int n = 0;

	if (!s)
		die("info registers -a returned no string");
	for (p = s; (p = strstr(p, "CPU#")); p += 4)
		n++;
	free(s);
	return n;
}

/* Nearest rank: the smallest sample with at least pct % of them at or below. */
static double rank(const double *sorted, int n, int pct)
{
	int k = (n * pct + 99) / 100;

	return sorted[k > 0 ? k - 1 : 0];
}

static int run_bench(struct conn *c, int rounds, bool samples)
{
	static const char stop[] = "{\"execute\":\"stop\"}";
	static const char cont[] = "{\"execute\":\"cont\"}";
	static const char regs[] = "{\"execute\":\"human-monitor-command\","
				   "\"arguments\":{\"command-line\":\"info registers -a\"}}";
	double *us = calloc(2 * (size_t)rounds, sizeof(*us)), t0;
	const char *v, *end;
	int i, cpus = -1, n;

	if (!us)
		die("out of memory");
	for (i = 0; i < rounds; i++) {
		t0 = now_us();
		qmp_call(c, stop, &end);
		v = qmp_call(c, regs, &end);
		n = count_cpus(v);	/* v lives until the next call */
		qmp_call(c, cont, &end);
		us[i] = now_us() - t0;
		if (cpus >= 0 && n != cpus)
			die("info registers -a listed %d CPUs in round %d, %d before", n, i + 1, cpus);
		cpus = n;
	}
	memcpy(us + rounds, us, rounds * sizeof(*us));
	qsort(us, rounds, sizeof(*us), cmp_double);
	printf("rounds=%d cpus=%d median_us=%.0f p99_us=%.0f min_us=%.0f max_us=%.0f\n",
	       rounds, cpus, rank(us, rounds, 50), rank(us, rounds, 99), us[0], us[rounds - 1]);
	for (i = 0; samples && i < rounds; i++)
		printf("sample us=%.0f\n", us[rounds + i]);
	free(us);
	return 0;
}

static double secs_arg(const char *opt, const char *s)
{
	char *e;
	double v = s ? strtod(s, &e) : -1;

	if (!s || e == s || *e || v < 0 || v > 86400)
		die("%s takes seconds (0 to 86400), got '%s'", opt, s ? s : "");
	return v;
}

int main(int argc, char **argv)
{
	struct conn c = { .fd = -1, .timeout_ms = 30000 };
	double wait_s = 0;
	long rounds = 0;
	bool samples = false;
	char *e, **json;
	int i = 1, rc, n, k;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-w")) {
			wait_s = secs_arg("-w", i + 1 < argc ? argv[i + 1] : NULL);
			i++;
		} else if (!strcmp(argv[i], "-t")) {
			c.timeout_ms = 1000 * secs_arg("-t", i + 1 < argc ? argv[i + 1] : NULL);
			i++;
			if (c.timeout_ms < 1)
				die("-t takes at least 0.001 s");
		} else if (!strcmp(argv[i], "--samples")) {
			samples = true;
		} else if (!strcmp(argv[i], "--bench")) {
			rounds = i + 1 < argc ? strtol(argv[i + 1], &e, 10) : 0;
			if (i + 1 >= argc || *e || rounds < 1 || rounds > BENCH_MAX)
				die("--bench takes a round count from 1 to %d, got '%s'", BENCH_MAX,
				    i + 1 < argc ? argv[i + 1] : "");
			i++;
		} else {
			usage();
		}
	}
	if (i >= argc || (rounds && i + 1 != argc) || (!rounds && i + 1 >= argc))
		usage();
	n = rounds ? 0 : argc - i - 1;
	json = calloc(n + 1, sizeof(*json));
	if (!json)
		die("out of memory");
	for (k = 0; k < n; k++)
		json[k] = command_json(argv[i + 1 + k]);
	conn_open(&c, argv[i], wait_s);
	qmp_greet(&c);
	rc = rounds ? run_bench(&c, rounds, samples) : run_commands(&c, json, n);
	if (rounds)
		free(json);
	conn_close(&c);
	return rc;
}
