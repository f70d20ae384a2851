// SPDX-License-Identifier: GPL-2.0
/*
 * Loading and unloading kvmdbg.ko, through the finit_module and
 * delete_module syscalls (no libkmod: this binary is static).
 *
 * The module file is $KVMDBG_KO, else kmod/kvmdbg.ko relative to the
 * current directory (the top of the tree; the test VM runs tests from its
 * copy of it). Every test leaves the module loaded, as it found it, so the
 * tests that follow still find /dev/kvmdbg.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <uapi/linux/kvmdbg.h>

#include "kselftest_harness.h"

#define KVMDBG_DEV	"/dev/" KVMDBG_DEVICE_NAME
#define KVMDBG_SYSFS	"/sys/module/kvmdbg"
#define RELOAD_ROUNDS	10

static const char *module_file(void)
{
	const char *ko = getenv("KVMDBG_KO");

	return ko && *ko ? ko : "kmod/kvmdbg.ko";
}

/* Raw: 0, or -1 with errno. */
static int __load(const char *ko)
{
	int fd, r, err;

	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = syscall(SYS_finit_module, fd, "", 0);
	err = errno;
	close(fd);
	errno = err;
	return r;
}

/* Raw: 0, or -1 with errno. O_NONBLOCK is what rmmod passes. */
static int __unload(void)
{
	return syscall(SYS_delete_module, "kvmdbg", O_NONBLOCK);
}

static bool loaded(void)
{
	return access(KVMDBG_SYSFS, F_OK) == 0;
}

static bool node_is_char_device(void)
{
	struct stat st;

	return stat(KVMDBG_DEV, &st) == 0 && S_ISCHR(st.st_mode);
}

FIXTURE(kvmdbg_mod) {
	const char *ko;
};

FIXTURE_SETUP(kvmdbg_mod)
{
	self->ko = module_file();
	ASSERT_EQ(0, access(self->ko, R_OK))
		TH_LOG("%s: %s (set KVMDBG_KO=/path/to/kvmdbg.ko)",
		       self->ko, strerror(errno));
	if (!loaded())
		ASSERT_EQ(0, __load(self->ko))
			TH_LOG("finit_module(%s): %s", self->ko, strerror(errno));
}

FIXTURE_TEARDOWN(kvmdbg_mod)
{
	if (!loaded())
		EXPECT_EQ(0, __load(self->ko))
			TH_LOG("reloading %s after the test: %s",
			       self->ko, strerror(errno));
}

TEST_F(kvmdbg_mod, unload_succeeds)
{
	ASSERT_EQ(0, __unload())
		TH_LOG("delete_module(kvmdbg): %s", strerror(errno));
	EXPECT_FALSE(loaded());
}

TEST_F(kvmdbg_mod, unload_removes_node)
{
	ASSERT_EQ(0, __unload())
		TH_LOG("delete_module(kvmdbg): %s", strerror(errno));
	EXPECT_EQ(-1, access(KVMDBG_DEV, F_OK));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(kvmdbg_mod, load_creates_node)
{
	ASSERT_EQ(0, __unload())
		TH_LOG("delete_module(kvmdbg): %s", strerror(errno));
	ASSERT_EQ(0, __load(self->ko))
		TH_LOG("finit_module(%s): %s", self->ko, strerror(errno));
	EXPECT_TRUE(node_is_char_device());
}

TEST_F(kvmdbg_mod, reload_serves_ioctls)
{
	int fd;

	ASSERT_EQ(0, __unload())
		TH_LOG("delete_module(kvmdbg): %s", strerror(errno));
	ASSERT_EQ(0, __load(self->ko))
		TH_LOG("finit_module(%s): %s", self->ko, strerror(errno));
	fd = open(KVMDBG_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", KVMDBG_DEV, strerror(errno));
	EXPECT_EQ(KVMDBG_API_VERSION, ioctl(fd, KVMDBG_GET_API_VERSION, 0));
	close(fd);
}

/* Catches what one round would not: a leaked minor, a stale node. */
TEST_F(kvmdbg_mod, load_unload_rounds)
{
	int i, fd;

	for (i = 0; i < RELOAD_ROUNDS; i++) {
		ASSERT_EQ(0, __unload()) TH_LOG("round %d: delete_module: %s",
						i, strerror(errno));
		ASSERT_EQ(0, __load(self->ko)) TH_LOG("round %d: finit_module: %s",
						      i, strerror(errno));
		fd = open(KVMDBG_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("round %d: open: %s", i, strerror(errno));
		EXPECT_EQ(KVMDBG_API_VERSION,
			  ioctl(fd, KVMDBG_GET_API_VERSION, 0));
		close(fd);
	}
}

TEST_F(kvmdbg_mod, load_twice_is_eexist)
{
	EXPECT_EQ(-1, __load(self->ko));
	EXPECT_EQ(EEXIST, errno);
}

TEST_F(kvmdbg_mod, unload_twice_is_enoent)
{
	ASSERT_EQ(0, __unload())
		TH_LOG("delete_module(kvmdbg): %s", strerror(errno));
	EXPECT_EQ(-1, __unload());
	EXPECT_EQ(ENOENT, errno);
}

/* An open /dev/kvmdbg pins the module (fops->owner). */
TEST_F(kvmdbg_mod, unload_while_open_is_ewouldblock)
{
	int fd;

	fd = open(KVMDBG_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", KVMDBG_DEV, strerror(errno));
	EXPECT_EQ(-1, __unload());
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_TRUE(loaded());
	EXPECT_EQ(KVMDBG_API_VERSION, ioctl(fd, KVMDBG_GET_API_VERSION, 0));
	close(fd);
}

TEST_F(kvmdbg_mod, unload_after_close_succeeds)
{
	int fd;

	fd = open(KVMDBG_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", KVMDBG_DEV, strerror(errno));
	close(fd);
	EXPECT_EQ(0, __unload())
		TH_LOG("delete_module(kvmdbg): %s", strerror(errno));
}

TEST_HARNESS_MAIN
