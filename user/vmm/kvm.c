// SPDX-License-Identifier: GPL-2.0
/*
 * The host's KVM: opening the device, the capability table checked at
 * start-up, and the facts --info prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "user/vmm/kvmdbg_mod.h"
#include "user/vmm/vm-priv.h"

#define KVM_DEFAULT_DEV		"/dev/kvm"

struct kvm_cap_desc {
	const char *name;
	int cap;
	bool required;
	const char *why;
};

#define CAP(c, req, w) { #c, KVM_CAP_##c, req, w }

/* What the VMM relies on; a missing required one stops vm__create(). */
static const struct kvm_cap_desc kvm_caps[] = {
	CAP(USER_MEMORY, true, "guest RAM from host memory"),
	CAP(EXT_CPUID, true, "KVM_GET_SUPPORTED_CPUID / KVM_SET_CPUID2"),
	CAP(IMMEDIATE_EXIT, true, "race-free vCPU kick (stop the world)"),
	CAP(NR_VCPUS, true, "vCPU count limits"),
	CAP(READONLY_MEM, false, "write watchpoints by page protection"),
	CAP(SET_GUEST_DEBUG, false, "breakpoints and single-step"),
	CAP(MAX_VCPUS, false, "vCPU count limit"),
	CAP(NR_MEMSLOTS, false, "memslot count limit"),
};

/* Lets tests point the VMM at a missing device without touching the real one. */
const char *kvm__device(void)
{
	const char *dev = getenv("KVMDBG_KVM_DEV");

	return dev && *dev ? dev : KVM_DEFAULT_DEV;
}

static const char *kvm__hint(int err)
{
	switch (err) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return " (is KVM enabled? load kvm-intel/kvm-amd)";
	case EACCES:
	case EPERM:
		return " (run as root or add yourself to the kvm group)";
	default:
		return "";
	}
}

int kvm__open(char *err, size_t err_len)
{
	const char *dev = kvm__device();
	int fd, version;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		errf__set(err, err_len, "cannot open %s: %s%s", dev,
			 strerror(e), kvm__hint(e));
		return -e;
	}
	version = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		errf__set(err, err_len, "%s: KVM API version %d, need %d",
			 dev, version, KVM_API_VERSION);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int kvm__check_caps(int kvm_fd, char *err, size_t err_len)
{
	for (size_t i = 0; i < sizeof(kvm_caps) / sizeof(kvm_caps[0]); i++) {
		const struct kvm_cap_desc *c = &kvm_caps[i];

		if (c->required && ioctl(kvm_fd, KVM_CHECK_EXTENSION, c->cap) <= 0) {
			errf__set(err, err_len,
				 "%s lacks KVM_CAP_%s (needed for %s); use a newer kernel",
				 kvm__device(), c->name, c->why);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* KVM_CAP_MAX_VCPUS, falling back to KVM_CAP_NR_VCPUS as the API says. */
int kvm__max_cpus(int kvm_fd)
{
	int n = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

	if (n <= 0)
		n = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	return n > 0 ? n : 1;
}

int vm__kvm_info(struct vm_kvm_info *info, char *err, size_t err_len)
{
	int fd = kvm__open(err, err_len);

	if (fd < 0)
		return fd;
	info->api_version = ioctl(fd, KVM_GET_API_VERSION, 0);
	info->max_cpus = kvm__max_cpus(fd);
	info->recommended_cpus = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	info->device = kvm__device();
	close(fd);
	return 0;
}

int vm__kvm_print_info(FILE *out, char *err, size_t err_len)
{
	int fd = kvm__open(err, err_len);

	if (fd < 0)
		return fd;
	fprintf(out, "device:          %s\n", kvm__device());
	fprintf(out, "KVM API version: %d\n", ioctl(fd, KVM_GET_API_VERSION, 0));
	fprintf(out, "vCPU limit:      %d (recommended %d)\n", kvm__max_cpus(fd),
		ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS));
	fprintf(out, "stop the world:  %s\n", kvmdbg_mod__path_name());
	if (*kvmdbg_mod__why())
		fprintf(out, "                 (kvmdbg.ko not used: %s)\n",
			kvmdbg_mod__why());
	fprintf(out, "capabilities:\n");
	for (size_t i = 0; i < sizeof(kvm_caps) / sizeof(kvm_caps[0]); i++) {
		const struct kvm_cap_desc *c = &kvm_caps[i];
		int v = ioctl(fd, KVM_CHECK_EXTENSION, c->cap);

		fprintf(out, "  KVM_CAP_%-16s %-4s %-9s %s\n", c->name,
			v > 0 ? "yes" : "no", c->required ? "required" : "optional",
			c->why);
	}
	close(fd);
	return 0;
}
