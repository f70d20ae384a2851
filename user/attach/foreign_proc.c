// SPDX-License-Identifier: GPL-2.0
/*
 * Finding the VM of another process (see user/attach/attach.h): its fds
 * in /proc/PID/fd, a copy of the VM fd through pidfd_getfd(2), and the
 * signal that kicks its vCPU threads out of KVM_RUN.
 *
 * Why pidfd_getfd: it needs PTRACE_MODE_ATTACH_REALCREDS on the VMM, the
 * same right a debugger needs to attach to it with ptrace, and the fd we
 * get is the capability kvmdbg.ko checks (a VM fd of the caller). Why the
 * kick must be caught: the module sends it to each vCPU thread to make it
 * leave KVM_RUN; a signal whose action is the default would kill the
 * VMM, one it ignores would never interrupt the guest.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "user/attach/attach.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open	434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd	438
#endif

#define PTRACE_HINT	"ptrace permission on it is needed (run as root or as its user; see /proc/sys/kernel/yama/ptrace_scope)"

int foreign__parse(const char *arg, pid_t *pid, int *vm_fd_nr, char *err,
		   size_t err_len)
{
	char *end;
	long p, fd = -1;

	errno = 0;
	p = strtol(arg, &end, 10);
	if (!errno && end != arg && *end == ':' && isdigit((unsigned char)end[1])) {
		char *fd_end;

		fd = strtol(end + 1, &fd_end, 10);
		end = errno || fd > INT32_MAX ? end : fd_end;
	}
	if (errno || end == arg || *end || p <= 0 || p > INT32_MAX) {
		errf__set(err, err_len, "--attach %s: not a process id (PID, or PID:FD to pick one of its VM fds)",
		     arg);
		return -EINVAL;
	}
	*pid = (pid_t)p;
	*vm_fd_nr = (int)fd;
	return 0;
}

static void read_comm(pid_t pid, char *comm, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(comm, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, (int)len, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

/* The process's caught-signal mask (SigCgt), or 0 when unreadable. */
static uint64_t caught_signals(pid_t pid)
{
	char path[64], line[128];
	uint64_t mask = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigCgt: %" SCNx64, &mask) == 1)
			break;
	fclose(f);
	return mask;
}

const char *foreign__signame(int sig, char *buf, size_t len)
{
	if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, len, sig == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+%d",
			 sig - SIGRTMIN);
	else if (sigabbrev_np(sig))
		snprintf(buf, len, "SIG%s", sigabbrev_np(sig));
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

int foreign__parse_signal(const char *s, int *sig)
{
	char *end;
	long n;

	if (!strncmp(s, "SIG", 3))
		s += 3;
	if (!strncmp(s, "RTMIN", 5)) {
		n = 0;
		if (s[5] == '+') {
			errno = 0;
			n = strtol(s + 6, &end, 10);
			if (errno || end == s + 6 || *end)
				return -EINVAL;
		} else if (s[5]) {
			return -EINVAL;
		}
		if (n < 0 || n > SIGRTMAX - SIGRTMIN)
			return -EINVAL;
		*sig = SIGRTMIN + (int)n;
		return 0;
	}
	errno = 0;
	n = strtol(s, &end, 10);
	if (!errno && end != s && !*end) {
		if (n <= 0 || n > SIGRTMAX || n == SIGKILL || n == SIGSTOP)
			return -EINVAL;
		*sig = (int)n;
		return 0;
	}
	for (int i = 1; i < SIGRTMIN; i++) {
		const char *a = sigabbrev_np(i);

		if (a && !strcmp(a, s) && i != SIGKILL && i != SIGSTOP) {
			*sig = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* The kick signal of a VMM we know by its name, or 0. */
static int known_kick(const char *comm, const char **why)
{
	if (!strncmp(comm, "qemu-system-", 12) || !strcmp(comm, "qemu-kvm")) {
		*why = "QEMU's SIG_IPI";
		return SIGUSR1;
	}
	if (!strcmp(comm, "kvmdbg-launch")) {
		*why = "kvmdbg-launch's vCPU kick";
		return SIGRTMIN + 1;
	}
	if (!strcmp(comm, "firecracker") || !strncmp(comm, "cloud-hyperviso", 15) ||
	    !strcmp(comm, "crosvm")) {
		*why = "its vCPU kick (vmm-sys-util's SIGRTMIN)";
		return SIGRTMIN;
	}
	return 0;
}

/* Room for one more vCPU fd number (fp->vcpu_fds grows by doubling). */
static int add_vcpu_fd(struct foreign_proc *fp, int nr, int *cap)
{
	if (fp->nr_vcpu_fds == *cap) {
		int n = *cap ? *cap * 2 : 16;
		int *v = realloc(fp->vcpu_fds, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		fp->vcpu_fds = v;
		*cap = n;
	}
	fp->vcpu_fds[fp->nr_vcpu_fds++] = nr;
	return 0;
}

/* Every VM fd of the process, and the numbers of its vCPU fds. */
static int scan_fds(struct foreign_proc *fp, int *vm_fds, int *nr_vm, char *err,
		    size_t err_len)
{
	int cap = 0, r = 0;
	char path[64];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)fp->pid);
	d = opendir(path);
	if (!d) {
		int e = errno;

		if (e == EACCES || e == EPERM)
			errf__set(err, err_len, "--attach %d: cannot read the fds of process %d (%s): " PTRACE_HINT,
			     (int)fp->pid, (int)fp->pid, fp->comm);
		else
			errf__set(err, err_len, "--attach %d: %s: %s", (int)fp->pid, path, strerror(e));
		return -e;
	}
	*nr_vm = 0;
	while (!r && (de = readdir(d))) {
		char link[320], target[128];
		ssize_t n;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (!strcmp(target, "anon_inode:kvm-vm") && *nr_vm < 16)
			vm_fds[(*nr_vm)++] = atoi(de->d_name);
		else if (!strncmp(target, "anon_inode:kvm-vcpu:", 20))
			r = add_vcpu_fd(fp, atoi(de->d_name), &cap);
	}
	closedir(d);
	if (r)
		errf__set(err, err_len, "--attach %d: out of memory", (int)fp->pid);
	return r;
}

/* Our copies of its vCPU fds, in place of their numbers. */
static int take_vcpu_fds(struct foreign_proc *fp, char *err, size_t err_len)
{
	fp->vcpu_fds_ours = true;
	for (int i = 0; i < fp->nr_vcpu_fds; i++) {
		int nr = fp->vcpu_fds[i];

		fp->vcpu_fds[i] = (int)syscall(SYS_pidfd_getfd, fp->pidfd, nr, 0);
		if (fp->vcpu_fds[i] < 0) {
			int e = errno;

			/* Closed meanwhile (a vCPU going away): not ours to capture. */
			errf__set(err, err_len, "--attach %d: pidfd_getfd of its vCPU fd %d: %s",
			     (int)fp->pid, nr, strerror(e));
			for (int k = i + 1; k < fp->nr_vcpu_fds; k++)
				fp->vcpu_fds[k] = -1;
			return -e;
		}
	}
	return 0;
}

static int pick_vm_fd(struct foreign_proc *fp, int want, const int *vm_fds, int nr,
		      char *err, size_t err_len)
{
	char list[128] = "";

	for (int i = 0; i < nr; i++) {
		if (vm_fds[i] == want || (want < 0 && nr == 1))
			return vm_fds[i];
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d",
			 i ? ", " : "", vm_fds[i]);
	}
	if (!nr)
		errf__set(err, err_len, "--attach %d: process %d (%s) has no KVM VM open (no anon_inode:kvm-vm among its fds)",
		     (int)fp->pid, (int)fp->pid, fp->comm);
	else if (want < 0)
		errf__set(err, err_len, "--attach %d: process %d (%s) has %d KVM VMs open (fds %s): pick one with --attach %d:FD",
		     (int)fp->pid, (int)fp->pid, fp->comm, nr, list, (int)fp->pid);
	else
		errf__set(err, err_len, "--attach %d:%d: fd %d of process %d (%s) is not a KVM VM (its VM fds: %s)",
		     (int)fp->pid, want, want, (int)fp->pid, fp->comm, list);
	return -ENOENT;
}

static int choose_kick(struct foreign_proc *fp, int kick_signal, char *err, size_t err_len)
{
	uint64_t caught = caught_signals(fp->pid);
	char name[32];

	fp->kick_signal = kick_signal;
	fp->kick_why = "--kick-signal";
	if (!kick_signal)
		fp->kick_signal = known_kick(fp->comm, &fp->kick_why);
	if (!fp->kick_signal) {
		errf__set(err, err_len, "--attach %d: process %d (%s) is not a VMM kvmdbg knows: name the signal that kicks its vCPU threads with --kick-signal SIG (e.g. QEMU's SIGUSR1)",
		     (int)fp->pid, (int)fp->pid, fp->comm);
		return -EINVAL;
	}
	if (!(caught & (1ULL << (fp->kick_signal - 1)))) {
		errf__set(err, err_len, "--attach %d: process %d (%s) has no handler for %s (%s): kicking its vCPUs with it would kill or miss them; name the one it catches with --kick-signal SIG",
		     (int)fp->pid, (int)fp->pid, fp->comm,
		     foreign__signame(fp->kick_signal, name, sizeof(name)), fp->kick_why);
		return -EINVAL;
	}
	return 0;
}

int foreign__open(pid_t pid, int vm_fd_nr, int kick_signal,
		  struct foreign_proc *fp, char *err, size_t err_len)
{
	int vm_fds[16], nr_vm, r;

	memset(fp, 0, sizeof(*fp));
	fp->pid = pid;
	fp->pidfd = fp->vm_fd = -1;
	fp->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fp->pidfd < 0) {
		r = -errno;
		errf__set(err, err_len, r == -ESRCH ? "--attach %d: no such process" :
		     "--attach %d: pidfd_open: %s", (int)pid, strerror(-r));
		return r;
	}
	read_comm(pid, fp->comm, sizeof(fp->comm));
	r = scan_fds(fp, vm_fds, &nr_vm, err, err_len);
	if (r == 0)
		r = fp->vm_fd_nr = pick_vm_fd(fp, vm_fd_nr, vm_fds, nr_vm, err, err_len);
	if (r >= 0)
		r = choose_kick(fp, kick_signal, err, err_len);
	if (r >= 0) {
		fp->vm_fd = (int)syscall(SYS_pidfd_getfd, fp->pidfd, fp->vm_fd_nr, 0);
		r = fp->vm_fd < 0 ? -errno : 0;
		if (r == -EPERM || r == -EACCES)
			errf__set(err, err_len, "--attach %d: cannot take the VM fd of process %d (%s): " PTRACE_HINT,
			     (int)pid, (int)pid, fp->comm);
		else if (r)
			errf__set(err, err_len, "--attach %d: pidfd_getfd of its fd %d: %s", (int)pid,
			     fp->vm_fd_nr, strerror(-r));
	}
	if (r >= 0)
		r = take_vcpu_fds(fp, err, err_len);
	if (r < 0)
		foreign__close(fp);
	return r < 0 ? r : 0;
}

void foreign__close(struct foreign_proc *fp)
{
	for (int i = 0; fp->vcpu_fds_ours && i < fp->nr_vcpu_fds; i++)
		if (fp->vcpu_fds[i] >= 0)
			close(fp->vcpu_fds[i]);
	fp->vcpu_fds_ours = false;
	free(fp->vcpu_fds);
	fp->vcpu_fds = NULL;
	fp->nr_vcpu_fds = 0;
	if (fp->vm_fd >= 0)
		close(fp->vm_fd);
	if (fp->pidfd >= 0)
		close(fp->pidfd);
	fp->vm_fd = fp->pidfd = -1;
}
