// SPDX-License-Identifier: GPL-2.0
/*
 * Atomic files (user/lib/atomic_file.h): the target checks and the temp
 * file that is renamed over the target once it is complete and synced.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "user/lib/atomic_file.h"

static int sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFLNK: return "a symbolic link";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFIFO: return "a FIFO";
	case S_IFSOCK: return "a socket";
	case S_IFDIR: return "a directory";
	default: return "not a regular file";
	}
}

static int check_dir(const char *what, const char *path, const char *dir,
		     char *err, size_t err_len)
{
	struct stat st;
	int e = 0;

	if (stat(dir, &st))
		e = errno;
	else if (!S_ISDIR(st.st_mode))
		e = ENOTDIR;
	if (e) {
		snprintf(err, err_len, "%s %s: directory %s: %s; create it first",
			 what, path, dir, strerror(e));
		return -e;
	}
	if (access(dir, W_OK | X_OK)) {
		e = errno;
		snprintf(err, err_len, "%s %s: cannot create files in directory %s: %s",
			 what, path, dir, strerror(e));
		return -e;
	}
	return 0;
}

/*
 * An existing target is replaced only when it is a regular file the
 * caller could write: never a device, FIFO, socket or directory, and a
 * symlink is neither followed nor replaced. A write-protected file (no
 * write bit) is refused even for root, as rm and cp -i would ask.
 */
static int check_existing(const char *what, const char *path, char *err,
			  size_t err_len)
{
	struct stat st;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, err_len, "%s %s: %s", what, path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_len, "%s %s: it exists and is %s, not a regular file; refusing to replace it (give a new path or a regular file's)",
			 what, path, file_kind(st.st_mode));
		return -EEXIST;
	}
	if (access(path, W_OK) || !(st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH))) {
		snprintf(err, err_len, "%s %s: the existing file is write-protected (mode %04o); refusing to replace it (make it writable or remove it first)",
			 what, path, (unsigned int)(st.st_mode & 07777));
		return -EACCES;
	}
	return 0;
}

int afile__check_target(const char *what, const char *path, char *err,
			size_t err_len)
{
	char dummy[1], *copy;
	int r;

	if (!err) {
		err = dummy;
		err_len = sizeof(dummy);
	}
	if (!*path) {
		snprintf(err, err_len, "%s: empty file name; give a path", what);
		return -ENOENT;
	}
	copy = strdup(path);
	if (!copy) {
		snprintf(err, err_len, "%s %s: out of memory", what, path);
		return -ENOMEM;
	}
	r = check_dir(what, path, dirname(copy), err, err_len);
	if (!r)
		r = check_existing(what, path, err, err_len);
	free(copy);
	return r;
}

static int temp_name(const char *path, char *tmp, size_t len, bool xs)
{
	char *copy = strdup(path), *copy2 = strdup(path);
	uint32_t rnd = 0;
	int r = 0;

	if (!xs && getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	if (!copy || !copy2)
		r = -ENOMEM;
	else if (xs && (size_t)snprintf(tmp, len, "%s/.%s.tmp.XXXXXX", dirname(copy),
					basename(copy2)) >= len)
		r = -ENAMETOOLONG;
	else if (!xs && (size_t)snprintf(tmp, len, "%s/.%s.tmp.%08x", dirname(copy),
					 basename(copy2), rnd) >= len)
		r = -ENAMETOOLONG;
	free(copy);
	free(copy2);
	return r;
}

int afile__open(const char *path, struct afile *t)
{
	char *copy = strdup(path);
	int r;

	t->named = false;
	if (!copy)
		return -ENOMEM;
	t->fd = open(dirname(copy), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	free(copy);
	if (t->fd >= 0)
		return 0;
	/* No O_TMPFILE in this kernel (EISDIR) or filesystem (EOPNOTSUPP). */
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	r = temp_name(path, t->tmp, sizeof(t->tmp), true);
	if (r)
		return r;
	t->fd = mkostemp(t->tmp, O_CLOEXEC);
	if (t->fd < 0)
		return -errno;
	t->named = true;
	return 0;
}

/* Give the unnamed file a fresh temp name. */
static int afile__link(const char *path, struct afile *t)
{
	char proc[64];
	int r;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
	for (int i = 0; i < 100; i++) {
		r = temp_name(path, t->tmp, sizeof(t->tmp), false);
		if (r)
			return r;
		if (!linkat(AT_FDCWD, proc, AT_FDCWD, t->tmp, AT_SYMLINK_FOLLOW) ||
		    (errno == ENOENT &&
		     !linkat(t->fd, "", AT_FDCWD, t->tmp, AT_EMPTY_PATH))) {
			t->named = true;
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

static int pwrite_all(int fd, const uint8_t *s, uint64_t len, uint64_t off, uint64_t max)
{
	while (len) {
		ssize_t n = pwrite(fd, s, len > max ? max : len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		s += n;
		len -= n;
		off += n;
	}
	return 0;
}

int afile__pwrite(int fd, const void *p, uint64_t len, uint64_t off)
{
	const uint64_t page = 4096;
	int fl, r;

	if (len >= AFILE_DIRECT_MIN && !((uintptr_t)p % page) && !(off % page) &&
	    !(len % page) && (fl = fcntl(fd, F_GETFL)) >= 0 &&
	    !fcntl(fd, F_SETFL, fl | O_DIRECT)) {
		r = pwrite_all(fd, p, len, off, 1u << 30);
		if (fcntl(fd, F_SETFL, fl) && !r)
			r = -errno;
		/* Blocks larger than a page, say: the page cache takes it. */
		if (r != -EINVAL)
			return r;
	}
	return pwrite_all(fd, p, len, off, AFILE_CHUNK);
}

int afile__monitor_file(const char *cmd, const char *what, const char *file,
			void (*print)(void *out, const char *fmt, ...), void *out)
{
	if (!*file) {
		print(out, "usage: %s FILE\n", cmd);
		return -EINVAL;
	}
	if (*file != '/') {
		print(out, "%s %s: give an absolute path (a relative one would land in the launcher's working directory)\n",
		      what, file);
		return -EINVAL;
	}
	return 0;
}

void afile__discard(struct afile *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->named)
		unlink(t->tmp);
	t->named = false;
}

int afile__commit(const char *what, const char *path, struct afile *t,
		  const char **step, char *why, size_t why_len)
{
	int r;

	*step = "fsync";
	if (fsync(t->fd))
		return -errno;
	/* Again: the path may have been replaced during the write. */
	*step = NULL;
	r = afile__check_target(what, path, why, why_len);
	if (r)
		return r;
	*step = "link of the temp file";
	r = t->named ? 0 : afile__link(path, t);
	if (r)
		return r;
	*step = "rename";
	if (rename(t->tmp, path))
		return -errno;
	t->named = false;
	*step = "fsync of the directory";
	return sync_dir(path);
}
