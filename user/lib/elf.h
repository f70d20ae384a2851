/* SPDX-License-Identifier: GPL-2.0 */
/*
 * user/lib/: leaves. Owns ELF lookups, x86 constants and DR7 encoding,
 * capabilities. Calls nothing else in user/; every folder may call it.
 * (Folder comment; this file's own follows.)
 */
/*
 * Just enough ELF for the debugger, the CLI, the gdb driver and snapshots:
 * a symbol's value from .symtab (--snapshot-at SYMBOL, the driver's
 * breakpoints), the GNU build-id note (recorded in snapshots, used to find
 * symbols in $KVMDBG_ARTIFACTS) and the first loadable segment's address
 * (qOffsets for a slid kernel). Files are untrusted: every header, table
 * and string is bounds-checked. Calls nothing else of user/.
 */
#ifndef KVMDBG_USER_ELF_H
#define KVMDBG_USER_ELF_H

#include <stddef.h>
#include <stdint.h>

/* The longest GNU build-id note elf__build_id() takes, in bytes. */
#define ELF_MAX_BUILD_ID	64

/* A symbol's st_value: 0, -ENOENT (reason in err), -ENOEXEC, -errno. */
int elf__symbol(const char *path, const char *name, uint64_t *value,
		char *err, size_t err_len);
/* The NT_GNU_BUILD_ID note into id[ELF_MAX_BUILD_ID]; *len: its size. */
int elf__build_id(const char *path, uint8_t *id, uint32_t *len);
/* p_vaddr of the first PT_LOAD: 0, -ENOENT without one, -ENOEXEC, -errno. */
int elf__first_load(const char *path, uint64_t *vaddr);

#endif /* KVMDBG_USER_ELF_H */
