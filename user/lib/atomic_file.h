/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Files that appear whole or not at all (snapshots, guest cores): the
 * path rules a target must pass, and a temp file in the target's
 * directory that is fsynced and renamed over it at the end. Calls nothing
 * else of user/.
 */
#ifndef KVMDBG_USER_ATOMIC_FILE_H
#define KVMDBG_USER_ATOMIC_FILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * May @path be written? Its directory must exist and be writable; an
 * existing @path must be a regular file (a symlink is not followed or
 * replaced) with a write bit the caller may use. 0, or -errno with one
 * line starting "WHAT PATH: " in err (@what: "snapshot", "core").
 */
int afile__check_target(const char *what, const char *path, char *err,
			size_t err_len);

/*
 * The file being written. Unnamed (O_TMPFILE) where the filesystem has it:
 * a writer killed at any point leaves nothing behind. It gets a name, a
 * fresh unique temp name linked at the very end and renamed over the
 * target at once (linkat cannot replace a name), so the window where a
 * named temp file exists is two syscalls. Elsewhere: a named temp file
 * from the start.
 */
struct afile {
	int fd;
	bool named;		/* tmp exists in the directory */
	char tmp[PATH_MAX];
};

/* A temp file for @path in its directory: 0 and t->fd, or -errno. */
int afile__open(const char *path, struct afile *t);
/*
 * The data is in t->fd: fsync, check @path again (it may have been
 * replaced meanwhile), name the file, rename it over @path, fsync the
 * directory. On failure *step names what failed (NULL: the target was
 * refused, the reason is in why).
 */
int afile__commit(const char *what, const char *path, struct afile *t,
		  const char **step, char *why, size_t why_len);
/*
 * Write all @len bytes of @p at @off of @fd (EINTR and short writes
 * retried): 0, or -errno. A large, page-aligned write (guest RAM: at least
 * AFILE_DIRECT_MIN, @p, @off and @len multiples of the page) goes to the
 * disk with O_DIRECT where the file system takes it; anything else goes
 * through the page cache at most AFILE_CHUNK a write.
 *
 * Why: on a machine that is itself a VM whose host takes back long-free
 * memory (virtio-balloon free page reporting), the first use of such a
 * page faults on the host. A big buffered write takes its page-cache
 * folios, large ones, from exactly that memory: the first 32 MiB snapshot
 * or core after an idle spell took 3-4x the next ones. Direct I/O takes no
 * page-cache page (and leaves fsync only metadata); small buffered writes
 * get small folios, which were not hit. Direct I/O is not used for small
 * writes: each would wait for the disk.
 */
#define AFILE_DIRECT_MIN	(1u << 20)
#define AFILE_CHUNK		(128u << 10)
int afile__pwrite(int fd, const void *p, uint64_t len, uint64_t off);
/*
 * The FILE of a monitor command that writes one ("snapshot FILE", "dump
 * FILE"), for @cmd ("snapshot", "dump") writing a @what ("snapshot",
 * "core"): 0 when it can be used; else -EINVAL after printing the usage
 * (no FILE) or why a relative path is refused (the launcher's working
 * directory is not the client's: no guessing).
 */
int afile__monitor_file(const char *cmd, const char *what, const char *file,
			void (*print)(void *out, const char *fmt, ...), void *out);
/* Close and remove whatever afile__open() left; safe to call twice. */
void afile__discard(struct afile *t);

#endif /* KVMDBG_USER_ATOMIC_FILE_H */
