// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg.ko from the VMM: loading it and its sessions (capture at a stop
 * is user/vmm/vcpu_state.c's, through kvmdbg_sess__snapshot()).
 *
 * The choice of path is made once per process and never changes: a VM
 * either has a session (every all-stop and capture goes through the
 * module) or not (signals + per-vCPU ioctls). Failing to get the module is
 * never an error unless $KVMDBG_PATH=module asks for it: the userspace
 * path gives the same results, only slower.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <libkmod.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "user/lib/caps.h"
#include "user/vmm/kvmdbg_mod.h"
#include "user/vmm/vm-priv.h"

#define KVMDBG_DEV		"/dev/" KVMDBG_DEVICE_NAME
#define KVMDBG_NODE_WAIT_MS	2000	/* devtmpfs creates the node async */

static const char path_user[] = "userspace (signals + per-vCPU ioctls)";

static pthread_mutex_t mod_lock = PTHREAD_MUTEX_INITIALIZER;
static bool mod_done;
static int mod_ret;
static int mod_fd = -1;			/* /dev/kvmdbg, kept open */
static char mod_path[64];		/* kvmdbg_mod__path_name() */
static char mod_why[384];		/* kvmdbg_mod__why() */

struct kvmdbg_sess {
	int fd;
};

static void why(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void why(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(mod_why, sizeof(mod_why), fmt, ap);
	va_end(ap);
}

static const char *load_hint(int e)
{
	switch (e) {
	case ENOSYS:
		return " (this kernel has no loadable-module support)";
	case ENOEXEC:
		return " (built for another kernel: rebuild with 'make kmod')";
	case ENOENT:
		return " (unknown symbols: load kvm.ko first)";
	default:
		return "";
	}
}

/* Candidate files, in precedence order: $KVMDBG_KO, beside the binary. */
static int find_ko(char *out, size_t len)
{
	/* build/kvmdbg-launch, and build/asan/kvmdbg-launch */
	static const char *const rel[] = { "../kmod/kvmdbg.ko", "../../kmod/kvmdbg.ko" };
	const char *env = getenv("KVMDBG_KO");
	char exe[PATH_MAX], *dir;
	ssize_t n;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return access(out, R_OK) ? -errno : 0;
	}
	if (len < PATH_MAX)
		return -ENAMETOOLONG;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -ENOENT;
	exe[n] = '\0';
	dir = dirname(exe);
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char cand[PATH_MAX + 32];

		snprintf(cand, sizeof(cand), "%s/%s", dir, rel[i]);
		if (realpath(cand, out))
			return 0;
	}
	return -ENOENT;
}

/* The module tree (modprobe kvmdbg): -ENOENT when it has none. */
static int load_by_name(struct kmod_ctx *ctx)
{
	struct kmod_list *list = NULL, *l;
	int r = -ENOENT;

	if (kmod_module_new_from_lookup(ctx, KVMDBG_DEVICE_NAME, &list) < 0)
		return -ENOENT;
	kmod_list_foreach(l, list) {
		struct kmod_module *mod = kmod_module_get_module(l);

		r = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
		kmod_module_unref(mod);
		if (r == 0 || r == -EEXIST)
			break;
	}
	kmod_module_unref_list(list);
	return r == -EEXIST ? 0 : r;
}

static int load_from_path(struct kmod_ctx *ctx, const char *path)
{
	struct kmod_module *mod;
	int r = kmod_module_new_from_path(ctx, path, &mod);

	if (r < 0)
		return r;
	r = kmod_module_insert_module(mod, 0, NULL);
	kmod_module_unref(mod);
	return r == -EEXIST ? 0 : r;
}

/* Load kvmdbg.ko; on failure mod_why says why. */
static int load_module(void)
{
	char path[PATH_MAX];
	struct kmod_ctx *ctx;
	int r;

	if (!caps__may_load_modules()) {
		why("%s is missing and this process has no CAP_SYS_MODULE to load kvmdbg.ko (run 'insmod kmod/kvmdbg.ko' as root, or kvmdbg-launch as root once)",
		    KVMDBG_DEV);
		return -EPERM;
	}
	ctx = kmod_new(NULL, NULL);
	if (!ctx) {
		why("libkmod: cannot create a context");
		return -ENOMEM;
	}
	if (find_ko(path, sizeof(path)) == 0) {
		r = load_from_path(ctx, path);
		if (r < 0)
			why("cannot load %s: %s%s", path, strerror(-r), load_hint(-r));
	} else {
		r = load_by_name(ctx);
		if (r == -ENOENT)
			why("kvmdbg.ko not found ($KVMDBG_KO, <bindir>/../kmod/kvmdbg.ko, the module tree)");
		else if (r < 0)
			why("cannot load kvmdbg from the module tree: %s%s",
			    strerror(-r), load_hint(-r));
	}
	kmod_unref(ctx);
	return r;
}

static int open_node(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int fd;

	for (int ms = 0;; ms += 10) {
		fd = open(KVMDBG_DEV, O_RDWR | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT || ms >= KVMDBG_NODE_WAIT_MS)
			return fd < 0 ? -errno : fd;
		nanosleep(&ts, NULL);
	}
}

static bool check_caps(int fd)
{
	static const int need[] = {
		KVMDBG_CAP_ATTACH, KVMDBG_CAP_KICK_SIGNAL, KVMDBG_CAP_FREEZE,
		KVMDBG_CAP_SNAPSHOT,
	};

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (ioctl(fd, KVMDBG_CHECK_EXTENSION, need[i]) != 1)
			return false;
	return true;
}

/* Sets mod_fd, or mod_why. */
static void open_module(void)
{
	int fd, v;

	if (access(KVMDBG_DEV, F_OK) && load_module() < 0)
		return;
	fd = open_node();
	if (fd < 0) {
		why("cannot open %s: %s", KVMDBG_DEV, strerror(-fd));
		return;
	}
	v = ioctl(fd, KVMDBG_GET_API_VERSION, 0);
	if (v != KVMDBG_API_VERSION || !check_caps(fd)) {
		why("%s: API version %d, need %d with attach, kick signal, freeze and snapshot",
		    KVMDBG_DEV, v, KVMDBG_API_VERSION);
		close(fd);
		return;
	}
	mod_fd = fd;
	snprintf(mod_path, sizeof(mod_path), "kvmdbg.ko (%s, API %d)",
		 KVMDBG_DEV, v);
}

static int init_locked(bool verbose, char *err, size_t err_len)
{
	const char *want = getenv("KVMDBG_PATH");

	snprintf(mod_path, sizeof(mod_path), "%s", path_user);
	if (want && *want && strcmp(want, "userspace") && strcmp(want, "module")) {
		errf__set(err, err_len, "KVMDBG_PATH=%s: must be 'userspace' or 'module'",
			 want);
		return -EINVAL;
	}
	if (want && !strcmp(want, "userspace")) {
		why("KVMDBG_PATH=userspace");
		return 0;
	}
	open_module();
	if (mod_fd >= 0)
		return 0;
	if (want && !strcmp(want, "module")) {
		errf__set(err, err_len, "KVMDBG_PATH=module: %s", mod_why);
		return -ENODEV;
	}
	if (verbose)
		fprintf(stderr, "%s: kvmdbg.ko: %s; stopping the world from userspace (signals + per-vCPU ioctls)\n",
			program_invocation_short_name, mod_why);
	return 0;
}

int kvmdbg_mod__init(bool verbose, char *err, size_t err_len)
{
	pthread_mutex_lock(&mod_lock);
	if (!mod_done) {
		mod_ret = init_locked(verbose, err, err_len);
		mod_done = true;
	} else if (mod_ret) {
		errf__set(err, err_len, "KVMDBG_PATH=%s: the module is not usable: %s",
			 getenv("KVMDBG_PATH"), mod_why);
	}
	pthread_mutex_unlock(&mod_lock);
	return mod_ret;
}

int kvmdbg_mod__setup_process(bool verbose, char *err, size_t err_len)
{
	int r = kvmdbg_mod__init(verbose, err, err_len);

	if (r)
		return r;
	r = caps__drop_all();
	if (r)
		errf__set(err, err_len, "cannot drop capabilities: %s", strerror(-r));
	return r;
}

bool kvmdbg_mod__active(void)
{
	return mod_fd >= 0;
}

const char *kvmdbg_mod__path_name(void)
{
	return mod_fd >= 0 ? mod_path : path_user;
}

const char *kvmdbg_mod__why(void)
{
	return mod_fd >= 0 ? "" : mod_why;
}

static int sess__attach(int vm_fd, int kick_signal, __u32 flags,
			struct kvmdbg_sess **out)
{
	struct kvmdbg_attach at = { .vm_fd = (__u32)vm_fd, .flags = flags };
	struct kvmdbg_kick_signal ks = { .signo = (__u32)kick_signal };
	struct kvmdbg_sess *s;
	int r;

	*out = NULL;
	kvmdbg_mod__init(false, NULL, 0);
	if (mod_fd < 0)
		return -ENODEV;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = ioctl(mod_fd, KVMDBG_ATTACH, &at);
	if (s->fd < 0)
		goto fail;
	if (ioctl(s->fd, KVMDBG_SET_KICK_SIGNAL, &ks))
		goto fail;
	*out = s;
	return 0;
fail:
	r = -errno;
	kvmdbg_sess__close(s);
	return r;
}

int kvmdbg_sess__attach(int vm_fd, int kick_signal, struct kvmdbg_sess **out)
{
	return sess__attach(vm_fd, kick_signal, 0, out);
}

int kvmdbg_sess__attach_foreign(int vm_fd, int kick_signal, struct kvmdbg_sess **out)
{
	return sess__attach(vm_fd, kick_signal, KVMDBG_ATTACH_FOREIGN, out);
}

int kvmdbg_sess__fd(const struct kvmdbg_sess *s)
{
	return s->fd;
}

void kvmdbg_sess__close(struct kvmdbg_sess *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

int kvmdbg_sess__freeze(struct kvmdbg_sess *s)
{
	return ioctl(s->fd, KVMDBG_FREEZE, 0) ? -errno : 0;
}

int kvmdbg_sess__thaw(struct kvmdbg_sess *s)
{
	return ioctl(s->fd, KVMDBG_THAW, 0) ? -errno : 0;
}

int kvmdbg_sess__guest_debug(struct kvmdbg_sess *s,
			     const struct kvm_guest_debug *dbg)
{
	struct kvmdbg_guest_debug gd = { .dbg = *dbg };

	return ioctl(s->fd, KVMDBG_SET_GUEST_DEBUG, &gd) ? -errno : 0;
}

int kvmdbg_sess__set_state(struct kvmdbg_sess *s,
			   const struct kvmdbg_set_vcpu_state *st)
{
	return ioctl(s->fd, KVMDBG_SET_VCPU_STATE, st) ? -errno : 0;
}

int kvmdbg_sess__snapshot(struct kvmdbg_sess *s, struct kvmdbg_vcpu_state *out,
			  int nr, uint64_t *stopped_ns)
{
	struct kvmdbg_snapshot snap = {
		.nr_vcpus = (__u32)nr,
		.vcpu_stride = sizeof(*out),
		.vcpus = (__u64)(uintptr_t)out,
	};

	if (ioctl(s->fd, KVMDBG_SNAPSHOT, &snap))
		return -errno;
	if (stopped_ns)
		*stopped_ns = snap.stopped_ns;
	return snap.nr_vcpus == (__u32)nr ? 0 : -EIO;
}

bool vm__uses_module(struct vm *vm)
{
	return vm->kdbg != NULL;
}

const char *vm__stw_path(struct vm *vm)
{
	return vm->kdbg ? mod_path : path_user;
}
