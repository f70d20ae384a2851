// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kvmdbg and the ioctls that need no VM.
 *
 * Runs in the test VM, where selftests/vm/run.sh loads kvmdbg.ko before
 * any test; on a dev host, insmod kmod/kvmdbg.ko first.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <uapi/linux/kvmdbg.h>

#include "kselftest_harness.h"

#define KVMDBG_DEV	"/dev/" KVMDBG_DEVICE_NAME
#define MISC_MAJOR	10

FIXTURE(kvmdbg_dev) {
	int fd;
};

FIXTURE_SETUP(kvmdbg_dev)
{
	self->fd = open(KVMDBG_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd)
		TH_LOG("open %s: %s (is kvmdbg.ko loaded?)",
		       KVMDBG_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(kvmdbg_dev)
{
	close(self->fd);
}

TEST(node_is_char_device)
{
	struct stat st;

	ASSERT_EQ(0, stat(KVMDBG_DEV, &st))
		TH_LOG("stat %s: %s", KVMDBG_DEV, strerror(errno));
	EXPECT_TRUE(S_ISCHR(st.st_mode))
		TH_LOG("file type 0%o (should be 0%o)",
		       st.st_mode & S_IFMT, S_IFCHR);
}

TEST(node_is_misc_device)
{
	struct stat st;

	ASSERT_EQ(0, stat(KVMDBG_DEV, &st))
		TH_LOG("stat %s: %s", KVMDBG_DEV, strerror(errno));
	EXPECT_EQ(MISC_MAJOR, major(st.st_rdev));
}

/* Only root (or whom the administrator hands the node to) may attach. */
TEST(node_mode_is_0600)
{
	struct stat st;

	ASSERT_EQ(0, stat(KVMDBG_DEV, &st))
		TH_LOG("stat %s: %s", KVMDBG_DEV, strerror(errno));
	EXPECT_EQ(0600, st.st_mode & 07777)
		TH_LOG("mode 0%o (should be 0600)", st.st_mode & 07777);
}

TEST_F(kvmdbg_dev, get_api_version)
{
	EXPECT_EQ(KVMDBG_API_VERSION,
		  ioctl(self->fd, KVMDBG_GET_API_VERSION, 0));
}

TEST_F(kvmdbg_dev, get_api_version_nonzero_arg_is_einval)
{
	EXPECT_EQ(-1, ioctl(self->fd, KVMDBG_GET_API_VERSION, 1));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(kvmdbg_dev, check_extension_cap_version)
{
	EXPECT_EQ(1, ioctl(self->fd, KVMDBG_CHECK_EXTENSION,
			   KVMDBG_CAP_VERSION));
}

TEST_F(kvmdbg_dev, check_extension_unknown_cap_is_0)
{
	EXPECT_EQ(0, ioctl(self->fd, KVMDBG_CHECK_EXTENSION, 0x7fffffffUL));
}

TEST_F(kvmdbg_dev, check_extension_ulong_max_is_0)
{
	EXPECT_EQ(0, ioctl(self->fd, KVMDBG_CHECK_EXTENSION, ULONG_MAX));
}

TEST_F(kvmdbg_dev, unknown_ioctl_nr_is_enotty)
{
	EXPECT_EQ(-1, ioctl(self->fd, _IO(KVMDBGIO, 0xff), 0));
	EXPECT_EQ(ENOTTY, errno);
}

/* Direction and size are part of the number: a wrong one is unknown. */
TEST_F(kvmdbg_dev, wrong_direction_is_enotty)
{
	__u32 v = 0;

	EXPECT_EQ(-1, ioctl(self->fd, _IOR(KVMDBGIO, 0x00, __u32), &v));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(kvmdbg_dev, kvm_ioctl_is_enotty)
{
	EXPECT_EQ(-1, ioctl(self->fd, KVM_GET_API_VERSION, 0));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_HARNESS_MAIN
