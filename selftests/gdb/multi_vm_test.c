// SPDX-License-Identifier: GPL-2.0
/*
 * Several VMs in one process, each with its own debug backend: its own
 * listener, gdb thread, breakpoints and stop state (user/debug/debug.h). Drives
 * the stubs with raw RSP packets over unix sockets; the real-client tests
 * are in run_e2e.py. Needs /dev/kvm and build/examples/callchain.elf.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "user/debug/debug.h"
#include "user/vmm/vm.h"

#define GUEST		"build/examples/callchain.elf"
#define GUEST_OUTPUT	"callchain: a(10) = 79\n"
#define NR_VMS		2
#define REPLY_MAX	4096
#define DEADLINE_MS	60000

struct rsp {
	int fd;
	char reply[REPLY_MAX];
};

static bool have_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int rsp_connect(struct rsp *c, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	return connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) ? -errno : 0;
}

static int rsp_getc(struct rsp *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	unsigned char ch;

	if (poll(&pfd, 1, DEADLINE_MS) != 1 || read(c->fd, &ch, 1) != 1)
		return -1;
	return ch;
}

/* Send $payload#cs, return the reply's payload (acked), or NULL. */
static const char *rsp_cmd(struct rsp *c, const char *payload)
{
	char pkt[REPLY_MAX];
	unsigned int sum = 0;
	size_t n = 0;
	int ch;

	for (const char *p = payload; *p; p++)
		sum += (unsigned char)*p;
	snprintf(pkt, sizeof(pkt), "$%s#%02x", payload, sum & 0xff);
	if (send(c->fd, pkt, strlen(pkt), MSG_NOSIGNAL) != (ssize_t)strlen(pkt))
		return NULL;
	while ((ch = rsp_getc(c)) != '$')
		if (ch < 0)
			return NULL;
	while ((ch = rsp_getc(c)) != '#' && n < sizeof(c->reply) - 1) {
		if (ch < 0)
			return NULL;
		if (ch == '*' && n > 0) {
			/* Run-length: the previous character N - 29 more times. */
			int r = rsp_getc(c) - 29;

			for (; r > 0 && n < sizeof(c->reply) - 1; r--, n++)
				c->reply[n] = c->reply[n - 1];
			continue;
		}
		c->reply[n++] = (char)ch;
	}
	c->reply[n] = '\0';
	rsp_getc(c);
	rsp_getc(c);
	/* The ack may hit a closed socket after 'D': the reply is what counts. */
	send(c->fd, "+", 1, MSG_NOSIGNAL);
	return c->reply;
}

FIXTURE(vms) {
	struct vm *vm[NR_VMS];
	struct debug *dbg[NR_VMS];
	FILE *console[NR_VMS];
	char sock[NR_VMS][108];
	struct rsp rsp[NR_VMS];
	bool waited[NR_VMS];
	uint64_t entry;
};

static void vm_up(struct __test_metadata *_metadata,
		  FIXTURE_DATA(vms) *self, int i, const char *spec)
{
	char err[256] = "";
	struct vm_config cfg = {
		.image = GUEST, .nr_cpus = 1, .start_paused = true,
		.err = err, .err_len = sizeof(err),
	};

	self->console[i] = tmpfile();
	ASSERT_NE(NULL, self->console[i]);
	cfg.console_fd = fileno(self->console[i]);
	ASSERT_EQ(0, vm__create(&cfg, &self->vm[i])) TH_LOG("%s", err);
	ASSERT_EQ(0, debug__start(self->vm[i], spec, &self->dbg[i]));
	ASSERT_NE(NULL, self->dbg[i]);
	ASSERT_EQ(0, vm__start(self->vm[i]));
	self->entry = vm__entry(self->vm[i]);
}

FIXTURE_SETUP(vms)
{
	memset(self, 0, sizeof(*self));
	for (int i = 0; i < NR_VMS; i++)
		self->rsp[i].fd = -1;
	if (!have_kvm())
		SKIP(return, "/dev/kvm not available");
	for (int i = 0; i < NR_VMS; i++) {
		char spec[120];

		snprintf(self->sock[i], sizeof(self->sock[i]),
			 "/tmp/kvmdbg-multi-%d-%d.sock", getpid(), i);
		snprintf(spec, sizeof(spec), "unix:%s", self->sock[i]);
		vm_up(_metadata, self, i, spec);
	}
}

/* End VM i (if still running) and check what its guest printed. */
static int vm_down(FIXTURE_DATA(vms) *self, int i, char *out, size_t len)
{
	int status = -1;
	size_t n;

	if (!self->vm[i])
		return -1;
	if (!self->waited[i])
		vm__wait(self->vm[i], &status);
	self->waited[i] = true;
	debug__stop(self->dbg[i]);
	self->dbg[i] = NULL;
	vm__destroy(self->vm[i]);
	self->vm[i] = NULL;
	if (out) {
		rewind(self->console[i]);
		n = fread(out, 1, len - 1, self->console[i]);
		out[n] = '\0';
	}
	return status;
}

FIXTURE_TEARDOWN(vms)
{
	for (int i = 0; i < NR_VMS; i++) {
		if (self->rsp[i].fd >= 0)
			close(self->rsp[i].fd);
		if (self->vm[i] && !self->waited[i])
			vm__kill(self->vm[i], 0);
		vm_down(self, i, NULL, 0);
		if (self->console[i])
			fclose(self->console[i]);
		unlink(self->sock[i]);
	}
}

static void attach(struct __test_metadata *_metadata,
		   FIXTURE_DATA(vms) *self, int i)
{
	struct rsp *c = &self->rsp[i];

	ASSERT_EQ(0, rsp_connect(c, self->sock[i]));
	ASSERT_NE(NULL, rsp_cmd(c, "qSupported:swbreak+;hwbreak+"));
	ASSERT_NE(NULL, rsp_cmd(c, "?"));
	EXPECT_EQ(0, strncmp(c->reply, "T05thread:1;", 12))
		TH_LOG("VM %d: '?' got %s", i, c->reply);
}

static void expect_reply(struct __test_metadata *_metadata, struct rsp *c,
			 const char *cmd, const char *want, size_t prefix)
{
	const char *got = rsp_cmd(c, cmd);

	ASSERT_NE(NULL, got) TH_LOG("%s: no reply", cmd);
	if (prefix) {
		EXPECT_EQ(0, strncmp(got, want, prefix))
			TH_LOG("%s: got %s (should start %.*s)", cmd, got,
			       (int)prefix, want);
	} else {
		EXPECT_STREQ(want, got) TH_LOG("%s", cmd);
	}
}

/* A sw breakpoint in VM 0 and a hw one in VM 1, same address: each VM
 * stops for its own reason; VM 1's memory never sees VM 0's int3.
 */
TEST_F(vms, each_vm_has_its_own_stub_and_breakpoints)
{
	char pkt[64], out[256];
	uint64_t at = self->entry + 2;	/* _start: xor %ebp,%ebp; call main */

	attach(_metadata, self, 0);
	attach(_metadata, self, 1);
	snprintf(pkt, sizeof(pkt), "Z0,%lx,1", (unsigned long)at);
	expect_reply(_metadata, &self->rsp[0], pkt, "OK", 0);
	snprintf(pkt, sizeof(pkt), "Z1,%lx,1", (unsigned long)at);
	expect_reply(_metadata, &self->rsp[1], pkt, "OK", 0);
	EXPECT_EQ(0xe8, *(uint8_t *)vm__gpa_to_hva(self->vm[1], at, 1));
	expect_reply(_metadata, &self->rsp[0], "vCont;c",
		     "T05thread:1;swbreak:;", 21);
	expect_reply(_metadata, &self->rsp[1], "vCont;c",
		     "T05thread:1;hwbreak:;", 21);
	snprintf(pkt, sizeof(pkt), "m%lx,1", (unsigned long)at);
	expect_reply(_metadata, &self->rsp[0], pkt, "e8", 0);
	for (int i = 0; i < NR_VMS; i++) {
		expect_reply(_metadata, &self->rsp[i], "D", "OK", 0);
		EXPECT_EQ(0, vm_down(self, i, out, sizeof(out)));
		EXPECT_STREQ(GUEST_OUTPUT, out);
	}
}

/* One VM detaches and finishes while the other stays stopped. */
TEST_F(vms, one_finishes_while_the_other_stays_stopped)
{
	char out[256], rip[32];
	uint64_t e = self->entry;

	attach(_metadata, self, 0);
	attach(_metadata, self, 1);
	expect_reply(_metadata, &self->rsp[0], "D", "OK", 0);
	EXPECT_EQ(0, vm_down(self, 0, out, sizeof(out)));
	EXPECT_STREQ(GUEST_OUTPUT, out);
	/* RIP (register 16) of VM 1, little-endian hex. */
	for (int i = 0; i < 8; i++)
		snprintf(rip + 2 * i, sizeof(rip) - 2 * i, "%02x",
			 (unsigned int)(e >> (8 * i)) & 0xff);
	expect_reply(_metadata, &self->rsp[1], "p10", rip, 0);
	expect_reply(_metadata, &self->rsp[1], "?", "T05thread:1;", 12);
	expect_reply(_metadata, &self->rsp[1], "D", "OK", 0);
	EXPECT_EQ(0, vm_down(self, 1, out, sizeof(out)));
	EXPECT_STREQ(GUEST_OUTPUT, out);
}

/* A TCP port somebody else listens on, for the next debug__start(). */
static int busy_port(struct __test_metadata *_metadata, int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	EXPECT_LE(0, fd);
	EXPECT_EQ(0, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_EQ(0, listen(fd, 1));
	EXPECT_EQ(0, getsockname(fd, (struct sockaddr *)&sin, &len));
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A third VM whose port is taken runs without a debugger; the two
 * debugged VMs are not disturbed.
 */
TEST_F(vms, third_vm_on_a_taken_port_runs_without_gdb)
{
	char err[256] = "", spec[32], out[256];
	struct vm_config cfg = {
		.image = GUEST, .nr_cpus = 1, .start_paused = true,
		.err = err, .err_len = sizeof(err),
	};
	FILE *console = tmpfile();
	int status = -1, port, busy = busy_port(_metadata, &port);
	struct debug *dbg = (struct debug *)1;
	struct vm *vm;
	size_t n;

	ASSERT_NE(NULL, console);
	cfg.console_fd = fileno(console);
	ASSERT_EQ(0, vm__create(&cfg, &vm)) TH_LOG("%s", err);
	snprintf(spec, sizeof(spec), "%d", port);
	EXPECT_EQ(0, debug__start(vm, spec, &dbg));
	EXPECT_EQ(NULL, dbg);	/* runs without a debugger */
	ASSERT_EQ(0, vm__start(vm));
	EXPECT_EQ(0, vm__wait(vm, &status));
	EXPECT_EQ(0, status);
	debug__stop(dbg);
	vm__destroy(vm);
	close(busy);
	rewind(console);
	n = fread(out, 1, sizeof(out) - 1, console);
	out[n] = '\0';
	fclose(console);
	EXPECT_STREQ(GUEST_OUTPUT, out);
	attach(_metadata, self, 0);
	attach(_metadata, self, 1);
}

TEST_HARNESS_MAIN
