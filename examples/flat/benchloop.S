/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The code bench/gdb_bench.sh steps, loaded as a flat binary at 0x100000 by
 * kvmdbg-launch (--flat, 64-bit long mode, identity-mapped) and by QEMU
 * (-device loader; bench-bios.S enters it in 32-bit flat protected mode).
 * 14 one-byte NOPs and a short jmp back: the same bytes decode to the same
 * 15 instructions in 16-, 32- and 64-bit mode, so both stubs step exactly
 * the same instructions at the same linear addresses. The pc after k steps
 * from _start is _start + k mod 15 (the jmp is instruction 14).
 */
	.text
	.globl	_start
_start:
	.rept	14
	nop
	.endr
	jmp	_start

	.section .note.GNU-stack, "", @progbits
