/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A flat guest for the VMM library tests, embedded in the test binary and
 * written to a file at run time; load it at SPIN_LOAD (0x100000). Code
 * and data are position-independent (RIP-relative), data on the second
 * page so that it can be write-protected alone.
 *
 * Every vCPU loops: counters[cpu]++, an OUT to the unused port 0x80 (so
 * pauses often land right after a port-I/O exit), then
 *   - crash != 0 and this is vCPU 1: ud2 (no IDT: triple fault)
 *   - go != 0: vCPU 0 prints "go\n" on port 0xE9 and exits with status 7;
 *     the others halt.
 */
	.section .rodata.spin_guest, "a"
	.balign	4096
	.globl	spin_guest_start, spin_guest_end
spin_guest_start:
	lea	counters(%rip), %rbx
	lea	(%rbx,%rdi,8), %rbx
1:	incq	(%rbx)
	outb	%al, $0x80
	cmpl	$1, %edi
	jne	2f
	cmpq	$0, crash(%rip)
	je	2f
	ud2
2:	cmpq	$0, go(%rip)
	je	1b
	test	%edi, %edi
	jnz	3f
	mov	$'g', %al
	outb	%al, $0xe9
	mov	$'o', %al
	outb	%al, $0xe9
	mov	$'\n', %al
	outb	%al, $0xe9
	mov	$7, %eax
	outl	%eax, $0xf4
3:	hlt
	jmp	3b

	.balign	4096
	.globl	spin_guest_go, spin_guest_crash, spin_guest_counters
spin_guest_go:
go:	.quad	0
spin_guest_crash:
crash:	.quad	0
spin_guest_counters:
counters:
	.fill	8, 8, 0
spin_guest_end:

	.section .note.GNU-stack, "", @progbits
