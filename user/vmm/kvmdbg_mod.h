/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel fast path (kvmdbg.ko, include/uapi/linux/kvmdbg.h) from the
 * VMM's side: making /dev/kvmdbg usable (loading the module with libkmod
 * when the process may) and one session per VM. user/vmm/vcpu_state.h
 * captures vCPU state through a session or, without one, through KVM's
 * per-vCPU ioctls; both give the same struct kvmdbg_vcpu_state.
 *
 * Path selection: $KVMDBG_PATH=userspace never uses the module;
 * $KVMDBG_PATH=module makes a missing module an error (tests use both to
 * compare the paths); unset: the module when it can be had.
 */
#ifndef KVMDBG_USER_KVMDBG_MOD_H
#define KVMDBG_USER_KVMDBG_MOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uapi/linux/kvmdbg.h>

struct vm;
struct kvmdbg_sess;

/*
 * Once per process (later calls return the first result): open
 * /dev/kvmdbg, loading kvmdbg.ko first if it is missing and the process
 * has CAP_SYS_MODULE. The module is looked for at $KVMDBG_KO, beside the
 * binary (<bindir>/../kmod/kvmdbg.ko) and in the module tree. When it
 * cannot be used and @verbose, one line on stderr says why and that the
 * userspace path is used. Returns 0 whichever path results, or -errno
 * (reason in err) only when $KVMDBG_PATH=module and the module is
 * unusable or $KVMDBG_PATH is not a known value.
 */
int kvmdbg_mod__init(bool verbose, char *err, size_t err_len);

/*
 * kvmdbg-launch before any guest exists: kvmdbg_mod__init(), then drop
 * every capability (caps__drop_all): a run as root was for the module.
 */
int kvmdbg_mod__setup_process(bool verbose, char *err, size_t err_len);

/* After kvmdbg_mod__init(): true when sessions go through the module. */
bool kvmdbg_mod__active(void);
/* "kvmdbg.ko (/dev/kvmdbg, API 1)" or "userspace (signals + per-vCPU ioctls)". */
const char *kvmdbg_mod__path_name(void);
/* Why the module is not used ("" when it is). */
const char *kvmdbg_mod__why(void);

/*
 * A session on @vm_fd with @kick_signal registered (its handler must be
 * installed before the first freeze). -ENODEV when the module is not in
 * use (kvmdbg_mod__init() is called with verbose off if it was not yet).
 */
int kvmdbg_sess__attach(int vm_fd, int kick_signal, struct kvmdbg_sess **out);
/*
 * The same on the VM of another process (a VM fd taken with
 * pidfd_getfd(2)): KVMDBG_ATTACH_FOREIGN, docs/kvmdbg-abi.md.
 */
int kvmdbg_sess__attach_foreign(int vm_fd, int kick_signal, struct kvmdbg_sess **out);
/* The session fd, for the ioctls only a foreign session has. */
int kvmdbg_sess__fd(const struct kvmdbg_sess *s);
void kvmdbg_sess__close(struct kvmdbg_sess *s);	/* thaws; NULL is a no-op */
int kvmdbg_sess__freeze(struct kvmdbg_sess *s);
int kvmdbg_sess__thaw(struct kvmdbg_sess *s);
/* @dbg to every vCPU in one KVMDBG_SET_GUEST_DEBUG. */
int kvmdbg_sess__guest_debug(struct kvmdbg_sess *s,
			     const struct kvm_guest_debug *dbg);
/*
 * KVMDBG_SET_VCPU_STATE: the classes @st->flags names into one vCPU of a
 * foreign session's frozen VM (docs/kvmdbg-abi.md); 0 or -errno.
 */
int kvmdbg_sess__set_state(struct kvmdbg_sess *s,
			   const struct kvmdbg_set_vcpu_state *st);
/* Every vCPU into out[0..nr) in one KVMDBG_SNAPSHOT; -E2BIG if nr is short. */
int kvmdbg_sess__snapshot(struct kvmdbg_sess *s, struct kvmdbg_vcpu_state *out,
			  int nr, uint64_t *stopped_ns);

/* True when @vm's all-stops and captures go through kvmdbg.ko. */
bool vm__uses_module(struct vm *vm);
/* kvmdbg_mod__path_name() of the path @vm actually uses. */
const char *vm__stw_path(struct vm *vm);

#endif /* KVMDBG_USER_KVMDBG_MOD_H */
