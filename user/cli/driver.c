// SPDX-License-Identifier: GPL-2.0
/*
 * The gdb driver: "hand me a ready session". The VM runs in this process;
 * gdb runs as a child on a private unix socket in a temp directory (no
 * port to collide with other sessions, nobody else can connect). Every
 * file it creates lives in that directory, removed on the way out.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "user/debug/debug.h"
#include "user/cli/driver.h"
#include "user/core/core.h"
#include "user/lib/elf.h"
#include "user/snapshot/snapshot.h"
#include "user/vmm/kvmdbg_mod.h"
#include "user/vmm/vm.h"

#define DRIVER_LISTEN_TIMEOUT_MS	10000
#define MAX_GDB_ARGS			(16 + 2 * 64)

struct session {
	const struct driver_backend *be;
	void *be_ctx;
	const struct driver_cfg *cfg;
	char dir[PATH_MAX];
	char sock[PATH_MAX + 16];
	char init[PATH_MAX + 16];
	char cmds[PATH_MAX + 16];	/* the --gdb-exec commands, as a script */
	char *symbols;
	const char *sym_how;
	char tried[2048];
	char macros[PATH_MAX];
	bool serving;
};

static bool file_ok(const char *p)
{
	struct stat st;

	return p && !stat(p, &st) && S_ISREG(st.st_mode) && !access(p, R_OK);
}

static void tried_add(char *tried, size_t len, const char *what)
{
	size_t n = strlen(tried);

	snprintf(tried + n, len - n, "%s%s", n ? ", " : "", what);
}

/* Try @path; on a miss note it in @tried. */
static char *try_path(const char *path, char *tried, size_t len)
{
	if (file_ok(path))
		return strdup(path);
	tried_add(tried, len, path);
	return NULL;
}

static char *try_fmt(char *tried, size_t len, const char *fmt, const char *a,
		     const char *b)
{
	char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), fmt, a, b);
	return try_path(p, tried, len);
}

static void hex_id(const uint8_t *id, uint32_t n, char *out)
{
	for (uint32_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
	out[2 * n] = 0;
}

/*
 * A bzImage's kernel release (the first word of the kernel_version string
 * its boot header points at: offset 0x20E, relative to 0x200). Its GNU
 * build-id sits in the compressed payload, so a bzImage's symbols are
 * looked up by release instead (scripts/fetch-vmlinux.sh installs both).
 */
static bool bzimage_release(const char *path, char *rel, size_t len)
{
	unsigned char hdr[0x10000];
	FILE *f = path ? fopen(path, "rb") : NULL;
	size_t n, off;

	if (!f)
		return false;
	n = fread(hdr, 1, sizeof(hdr), f);
	fclose(f);
	if (n < 0x210 || memcmp(hdr + 0x202, "HdrS", 4))
		return false;
	off = 0x200 + (hdr[0x20e] | hdr[0x20f] << 8);
	if (off >= n || !len)
		return false;
	snprintf(rel, len, "%.*s", (int)(n - off), (const char *)hdr + off);
	rel[strcspn(rel, " ")] = 0;
	return *rel;
}

/* The recorded image, if its build-id is the one the snapshot recorded. */
static char *try_recorded(const struct snapshot *s, const char *hex, char *tried,
			  size_t len)
{
	const char *img = snapshot__image(s);
	uint8_t id[SNAP_MAX_BUILD_ID];
	uint32_t n;
	char note[PATH_MAX + 32], fid[2 * SNAP_MAX_BUILD_ID + 1];

	if (!*img || bzimage_release(img, note, sizeof(note)))
		return NULL;
	if (!file_ok(img))
		return try_path(img, tried, len);
	if (*hex && (elf__build_id(img, id, &n) || (hex_id(id, n, fid), strcmp(fid, hex)))) {
		snprintf(note, sizeof(note), "%s (build-id differs)", img);
		tried_add(tried, len, note);
		return NULL;
	}
	return strdup(img);
}

/* A Linux kernel (bzImage, or an ELF named vmlinux*) is looked up as vmlinux. */
static void artifact_name(const char *image, bool bz, char *name, size_t len)
{
	char *copy = strdup(image), *dot;

	snprintf(name, len, "%s", copy ? basename(copy) : image);
	free(copy);
	if (bz || !strncmp(name, "vmlinux", 7)) {
		snprintf(name, len, "vmlinux");
		return;
	}
	dot = strrchr(name, '.');
	if (dot && (!strcmp(dot, ".elf") || !strcmp(dot, ".debug")))
		*dot = 0;
}

static char *try_artifacts(const char *image, const char *hex, char *tried, size_t len)
{
	const char *dir = getenv("KVMDBG_ARTIFACTS");
	char name[256], rel[128];
	bool bz = bzimage_release(image, rel, sizeof(rel));
	char *r;

	if (!dir || !*dir) {
		tried_add(tried, len, "$KVMDBG_ARTIFACTS (not set)");
		return NULL;
	}
	if (!image || (!*hex && !bz)) {
		tried_add(tried, len, "$KVMDBG_ARTIFACTS (no image name and build-id to look up)");
		return NULL;
	}
	artifact_name(image, bz, name, sizeof(name));
	snprintf(name + strlen(name), sizeof(name) - strlen(name), "-%s", bz ? rel : hex);
	r = try_fmt(tried, len, "%s/%s", dir, name);
	return r ? r : try_fmt(tried, len, "%s/%s.debug", dir, name);
}

/*
 * Resolve symbols: --symbols, then a file beside the image or snapshot
 * (<snapshot>.elf, <snapshot>.debug, the recorded image; <image>.debug,
 * the image), then $KVMDBG_ARTIFACTS/<name>-<build-id>. Returns the path
 * (malloc'd) or NULL; @tried lists what was tried, @how where it came from.
 */
static char *driver__find_symbols(const struct driver_cfg *c, char *tried, size_t len,
			   const char **how)
{
	char hex[2 * SNAP_MAX_BUILD_ID + 1] = "";
	uint8_t id[SNAP_MAX_BUILD_ID];
	const char *image = c->image;
	uint32_t n = 0;
	char *p = NULL;

	*tried = 0;
	if (c->symbols) {
		*how = "--symbols";
		return try_path(c->symbols, tried, len);
	}
	*how = c->snap ? "beside the snapshot" : "beside the image";
	if (c->snap) {
		const uint8_t *sid = snapshot__build_id(c->snap, &n);

		hex_id(sid, n, hex);
		image = *snapshot__image(c->snap) ? snapshot__image(c->snap) : NULL;
		p = try_fmt(tried, len, "%s.elf%s", snapshot__path(c->snap), "");
		p = p ? p : try_fmt(tried, len, "%s.debug%s", snapshot__path(c->snap), "");
		p = p ? p : try_recorded(c->snap, hex, tried, len);
	} else if (image) {
		if (!elf__build_id(image, id, &n))
			hex_id(id, n, hex);
		char rel[128];

		p = try_fmt(tried, len, "%s.debug%s", image, "");
		if (!p && !bzimage_release(image, rel, sizeof(rel)))
			p = try_path(image, tried, len);
	}
	if (p)
		return p;
	*how = "$KVMDBG_ARTIFACTS";
	return try_artifacts(image, hex, tried, len);
}

/*
 * Bundled macros: $KVMDBG_GDB_DIR, else gdb/ beside the binary (installed
 * layout), else the source tree's user/gdb/ above build/ or build/asan/.
 */
static int find_macros(struct session *s)
{
	static const char *const rel[] = { "gdb", "../user/gdb", "../../user/gdb" };
	const char *env = getenv("KVMDBG_GDB_DIR");
	char exe[PATH_MAX], *dir;
	ssize_t n;

	if (env && *env) {
		snprintf(s->macros, sizeof(s->macros), "%s/kvmdbg.gdb", env);
		return file_ok(s->macros) ? 0 : -ENOENT;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -ENOENT;
	exe[n] = 0;
	dir = dirname(exe);
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(s->macros, sizeof(s->macros), "%s/%s/kvmdbg.gdb", dir, rel[i]);
		if (file_ok(s->macros))
			return 0;
	}
	s->macros[0] = 0;
	return -ENOENT;
}

static int write_init(struct session *s)
{
	FILE *f = fopen(s->init, "w");

	if (!f)
		return -errno;
	fprintf(f, "# generated by kvmdbg-launch; removed when the session ends\n"
		   "set pagination off\nset confirm off\nset height 0\n");
	if (*s->macros) {
		char linux_py[PATH_MAX + 16];

		fprintf(f, "source %s\nsource %.*s.py\n", s->macros,
			(int)(strlen(s->macros) - 4), s->macros);
		/* Linux-guest macros (linux.py), when installed beside them. */
		snprintf(linux_py, sizeof(linux_py), "%.*slinux.py",
			 (int)(strlen(s->macros) - strlen("kvmdbg.gdb")), s->macros);
		if (file_ok(linux_py))
			fprintf(f, "source %s\n", linux_py);
	}
	if (s->symbols)
		fprintf(f, "file %s\n", s->symbols);
	fprintf(f, "target remote %s\n", s->sock);
	if (fclose(f))
		return -errno;
	return 0;
}

/*
 * gdb runs every -ex command even after one failed (and exits 0), but a
 * sourced script stops at its first error and gdb -batch exits 1: the
 * --gdb-exec commands go into a script, a --gdb-script after them.
 */
static int write_cmds(struct session *s)
{
	const struct driver_cfg *c = s->cfg;
	FILE *f;

	if (!c->nr_exec)
		return 0;
	f = fopen(s->cmds, "w");
	if (!f)
		return -errno;
	for (int i = 0; i < c->nr_exec; i++)
		fprintf(f, "%s\n", c->exec[i]);
	if (c->script)
		fprintf(f, "source %s\n", c->script);
	return fclose(f) ? -errno : 0;
}

/*
 * Poll /proc/net/unix for our path in the listening state (flags
 * __SO_ACCEPTCON, 0x10000) with a deadline. Connecting to check would count
 * as a client that came and went, and let the guest run.
 */
static bool sock_listening(const char *path)
{
	FILE *f = fopen("/proc/net/unix", "r");
	char line[PATH_MAX + 128];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long flags;
		char p[PATH_MAX];

		line[strcspn(line, "\n")] = 0;
		if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %4095s", &flags, p) == 2)
			found = (flags & 0x10000) && !strcmp(p, path);
	}
	fclose(f);
	return found;
}

static int wait_listen(const char *path)
{
	for (int ms = 0; ms < DRIVER_LISTEN_TIMEOUT_MS; ms += 10) {
		struct timespec ts = { 0, 10 * 1000000 };

		if (sock_listening(path))
			return 0;
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

static void print_context(struct session *s)
{
	fprintf(stderr, "kvmdbg: debug context\n");
	s->be->context(s->be_ctx, stderr);
	if (s->symbols)
		fprintf(stderr, "  symbols:        %s (%s)\n", s->symbols, s->sym_how);
	else
		fprintf(stderr, "  symbols:        none found; tried %s\n", s->tried);
	fprintf(stderr, "  macros:         %s\n", *s->macros ? s->macros : "not found (set KVMDBG_GDB_DIR)");
	fprintf(stderr, "  socket:         %s\n", s->sock);
}

/* Child: gdb with the signal state of a fresh process. */
static void exec_gdb(struct session *s)
{
	const struct driver_cfg *c = s->cfg;
	const char *argv[MAX_GDB_ARGS];
	int n = 0;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGINT, SIG_DFL);
	argv[n++] = "gdb";
	argv[n++] = "-q";
	argv[n++] = "-nx";
	if (c->nr_exec || c->script)
		argv[n++] = "-batch";
	argv[n++] = "-x";
	argv[n++] = s->init;
	if (c->nr_exec || c->script) {
		argv[n++] = "-x";
		argv[n++] = c->nr_exec ? s->cmds : c->script;
	}
	argv[n] = NULL;
	execvp("gdb", (char *const *)argv);
	fprintf(stderr, "%s: cannot run gdb: %s (install the gdb package)\n",
		program_invocation_short_name, strerror(errno));
	_exit(127);
}

static int run_gdb(struct session *s)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int status;
	pid_t pid;

	/* Ctrl-C belongs to gdb (it interrupts the guest), not to us. */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old);
	pid = fork();
	if (pid == 0)
		exec_gdb(s);
	if (pid < 0) {
		sigaction(SIGINT, &old, NULL);
		return -errno;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &old, NULL);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int session__setup(struct session *s, char *err, size_t len)
{
	const char *tmp = getenv("TMPDIR");
	int r;

	snprintf(s->dir, sizeof(s->dir), "%s/kvmdbg-gdb.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(s->dir)) {
		r = -errno;
		snprintf(err, len, "cannot create a temp directory in %s: %s",
			 tmp && *tmp ? tmp : "/tmp", strerror(-r));
		s->dir[0] = 0;
		return r;
	}
	snprintf(s->sock, sizeof(s->sock), "%s/gdb.sock", s->dir);
	snprintf(s->init, sizeof(s->init), "%s/init.gdb", s->dir);
	snprintf(s->cmds, sizeof(s->cmds), "%s/commands.gdb", s->dir);
	s->symbols = driver__find_symbols(s->cfg, s->tried, sizeof(s->tried), &s->sym_how);
	if (!s->symbols && s->cfg->symbols) {
		snprintf(err, len, "--symbols %s: cannot read it", s->cfg->symbols);
		return -ENOENT;
	}
	find_macros(s);
	r = write_init(s);
	if (r) {
		snprintf(err, len, "cannot write %s: %s", s->init, strerror(-r));
		return r;
	}
	r = write_cmds(s);
	if (r)
		snprintf(err, len, "cannot write %s: %s", s->cmds, strerror(-r));
	return r;
}

static void session__teardown(struct session *s)
{
	if (s->serving)
		s->be->stop(s->be_ctx);
	if (*s->dir) {
		unlink(s->init);
		unlink(s->cmds);
		unlink(s->sock);
		rmdir(s->dir);
	}
	free(s->symbols);
}

int driver__run_backend(const struct driver_backend *be, void *ctx,
			const struct driver_cfg *c, char *err, size_t err_len)
{
	struct session s = { .be = be, .be_ctx = ctx, .cfg = c };
	char spec[PATH_MAX + 32];
	int r = session__setup(&s, err, err_len);

	if (r)
		goto out;
	snprintf(spec, sizeof(spec), "unix:%s", s.sock);
	r = be->serve(ctx, spec, s.symbols);
	if (r) {
		snprintf(err, err_len, "cannot serve gdb on %s", s.sock);
		goto out;
	}
	s.serving = true;
	r = wait_listen(s.sock);
	if (r) {
		snprintf(err, err_len, "the gdb stub did not listen on %s within %d ms",
			 s.sock, DRIVER_LISTEN_TIMEOUT_MS);
		goto out;
	}
	print_context(&s);
	r = be->start(ctx);
	if (r) {
		snprintf(err, err_len, "cannot start the VM: %s", strerror(-r));
		goto out;
	}
	r = run_gdb(&s);
	if (r < 0)
		snprintf(err, err_len, "cannot start gdb: %s", strerror(-r));
out:
	session__teardown(&s);
	return r;
}

/* ---- The launcher's own VM as the backend -------------------------------- */

struct vm_backend {
	struct vm *vm;
	struct debug *dbg;
	const struct driver_cfg *cfg;
	pthread_t waiter;
	bool waiting;
	int guest_status;
};

static int vmb__serve(void *ctx, const char *spec, const char *symbols)
{
	struct vm_backend *b = ctx;
	int r = debug__start(b->vm, spec, &b->dbg);

	if (!r && !b->dbg)
		r = -EADDRINUSE;
	if (r)
		return r;
	if (symbols)	/* a vmlinux gives the KASLR slide; other files no-op */
		debug__set_kernel_symbols(b->dbg, symbols);
	if (b->cfg->service)
		debug__add_monitor(b->dbg, snapshot_service__monitor, b->cfg->service);
	if (b->cfg->core)
		debug__add_monitor(b->dbg, core_service__monitor, b->cfg->core);
	return 0;
}

static void vmb__context(void *ctx, FILE *out)
{
	struct vm_backend *b = ctx;
	const struct driver_cfg *c = b->cfg;
	uint64_t mem = vm__mem_size(b->vm);

	if (c->snap) {
		const struct snap_config *sc = snapshot__config(c->snap);

		fprintf(out, "  snapshot:       %s (captured by %s; image %s)\n",
			snapshot__path(c->snap), snapshot__trigger_name(sc->trigger),
			*snapshot__image(c->snap) ? snapshot__image(c->snap) : "unknown");
		fprintf(out, "  memory:         %" PRIu64 " MiB, %" PRIu64 " pages mapped copy-on-write from the snapshot\n",
			mem >> 20, snapshot__nr_pages(c->snap));
	} else {
		fprintf(out, "  image:          %s\n", c->image);
		fprintf(out, "  memory:         %" PRIu64 " MiB\n", mem >> 20);
	}
	fprintf(out, "  vCPUs:          %d, held at the %s point until gdb continues\n",
		vm__nr_vcpus(b->vm), c->snap ? "resume" : "entry");
	fprintf(out, "  stop the world: %s\n", vm__stw_path(b->vm));
}

static void *vmb__waiter(void *arg)
{
	struct vm_backend *b = arg;

	vm__wait(b->vm, &b->guest_status);
	return NULL;
}

static int vmb__start(void *ctx)
{
	struct vm_backend *b = ctx;
	int r = vm__start(b->vm);

	if (r)
		return r;
	b->waiting = !pthread_create(&b->waiter, NULL, vmb__waiter, b);
	return b->waiting ? 0 : -EAGAIN;
}

static void vmb__stop(void *ctx)
{
	struct vm_backend *b = ctx;

	if (b->waiting) {
		vm__kill(b->vm, 0);	/* no-op when the guest is over already */
		pthread_join(b->waiter, NULL);
	}
	debug__stop(b->dbg);
}

static const struct driver_backend vm_backend = {
	.serve = vmb__serve,
	.context = vmb__context,
	.start = vmb__start,
	.stop = vmb__stop,
};

int driver__run(struct vm *vm, const struct driver_cfg *c, char *err, size_t err_len)
{
	struct vm_backend b = { .vm = vm, .cfg = c };

	return driver__run_backend(&vm_backend, &b, c, err, err_len);
}
