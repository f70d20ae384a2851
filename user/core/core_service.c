// SPDX-License-Identifier: GPL-2.0
/*
 * The core triggers of one VM: gdb's "monitor dump FILE" (the world is
 * stopped by the debugger and held while the core is written), and
 * --dump-on-crash FILE. A crash is noted on the crashing vCPU's thread
 * (on_crash, which lets the guest end, or a debugger hold it); the core
 * is written from vm__wait()'s thread once every vCPU thread has ended
 * (on_vm_exit), before the VM is destroyed: no vCPU runs then, so the
 * state read is the one each vCPU stopped in, the crashed one's RIP on
 * the faulting instruction.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/core/core.h"
#include "user/vmm/vm.h"

struct core_service {
	struct vm *vm;
	struct core_service_cfg cfg;
	pthread_mutex_t lock;
	int crash_vcpu;		/* under lock: -1 until a crash */
	int result;
};

static bool service__on_crash(void *ctx, struct vm *vm, int vcpu, const char *why,
			      int status)
{
	struct core_service *s = ctx;

	(void)vm;
	(void)why;
	(void)status;
	pthread_mutex_lock(&s->lock);
	if (s->crash_vcpu < 0)
		s->crash_vcpu = vcpu;
	pthread_mutex_unlock(&s->lock);
	return false;	/* a debugger may still hold it; it ends either way */
}

static void service__on_vm_exit(void *ctx, struct vm *vm, int status)
{
	struct core_service *s = ctx;
	struct core_opts o = { .image = s->cfg.image, .symbols = s->cfg.symbols,
			       .stopped = true, .crash_vcpu = s->crash_vcpu };
	struct core_result res;
	char msg[768];

	(void)status;
	if (s->crash_vcpu < 0)
		return;
	s->result = core__write(vm, s->cfg.crash_path, &o, &res, msg, sizeof(msg));
	if (!s->result)
		core__summary(s->cfg.crash_path, &res, msg, sizeof(msg));
	fprintf(stderr, "%s: --dump-on-crash: %s\n", program_invocation_short_name, msg);
}

int core_service__start(struct vm *vm, const struct core_service_cfg *c,
			struct core_service **out)
{
	static const struct vm_debug_hooks hooks = {
		.on_crash = service__on_crash, .on_vm_exit = service__on_vm_exit,
	};
	struct core_service *s = calloc(1, sizeof(*s));
	int r;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->vm = vm;
	s->cfg = *c;
	s->crash_vcpu = -1;
	pthread_mutex_init(&s->lock, NULL);
	r = c->crash_path ? vm__add_debug_hooks(vm, &hooks, s) : 0;
	if (r) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

int core_service__result(struct core_service *s)
{
	return s ? s->result : 0;
}

void core_service__stop(struct core_service *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* "dump FILE" from gdb: the world is stopped already. */
static int monitor_dump(struct core_service *s, const char *file,
			void (*print)(void *out, const char *fmt, ...), void *out)
{
	struct core_opts o = { .image = s->cfg.image, .symbols = s->cfg.symbols,
			       .crash_vcpu = -1 };
	struct core_result res;
	char msg[768];
	int r;

	if (!*file) {
		print(out, "usage: dump FILE\n");
		return -EINVAL;
	}
	/* The launcher's working directory is not gdb's: no guessing. */
	if (*file != '/') {
		print(out, "core %s: give an absolute path (a relative one would land in the launcher's working directory)\n",
		      file);
		return -EINVAL;
	}
	r = core__write(s->vm, file, &o, &res, msg, sizeof(msg));
	if (!r)
		core__summary(file, &res, msg, sizeof(msg));
	print(out, "%s\n", msg);
	/* Not -ENOENT (a missing directory): that means "not our command". */
	return r == -ENOENT ? -EIO : r;
}

int core_service__monitor(void *ctx, const char *cmd, bool help,
			  void (*print)(void *out, const char *fmt, ...), void *out)
{
	if (help) {
		print(out, "dump FILE      write an ELF core of the stopped VM to FILE (an\n"
		      "               absolute path), for gdb, crash and drgn\n");
		return 0;
	}
	if (strcmp(cmd, "dump") && strncmp(cmd, "dump ", 5))
		return -ENOENT;
	return monitor_dump(ctx, cmd + 4 + strspn(cmd + 4, " "), print, out);
}
