/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A 64 KiB firmware for QEMU (-bios) that brings the BSP from the reset
 * vector to 0x100000 in 32-bit flat protected mode, paging off, so that the
 * bench loop (benchloop.S, put there by -device loader) runs at the same
 * linear address and eip as under kvmdbg-launch. QEMU's -device
 * loader,cpu-num=0 would set eip alone, leaving CS at its reset base
 * 0xffff0000 (real mode), so it cannot start code at 0x100000. No stack,
 * no interrupts, SS left alone: nothing here needs them, and a mov to SS
 * would hide the next instruction from a single step. The BSP runs 19
 * instructions from the reset vector, an AP 13 from 0xf0000.
 */
	.code16
	.text
	.globl	_start
_start:
	cli
	lgdtl	%cs:gdt_desc - _start		/* CS base is 0xffff0000 here */
	movl	%cr0, %eax
	orl	$1, %eax			/* CR0.PE */
	movl	%eax, %cr0
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	/*
	 * The BSP (IA32_APIC_BASE bit 8) wakes the others: INIT, then two
	 * start-up IPIs with vector 0xf0, so each AP starts here too, at
	 * 0xf0000 (CS 0xf000: the low copy of this image), and runs the
	 * bench loop like the BSP, as every vCPU of kvmdbg-launch --flat
	 * does. Without it QEMU's APs wait for a SIPI and a multi-vCPU stop
	 * there would stop one running vCPU instead of N.
	 */
	movl	$0x1b, %ecx
	rdmsr
	testw	$0x100, %ax
	jz	1f
	movl	$0x000c4500, %eax		/* INIT, all excluding self */
	addr32 movl	%eax, 0xfee00300	/* local APIC ICR (low) */
	movl	$0x000c46f0, %eax		/* start-up, vector 0xf0 */
	addr32 movl	%eax, 0xfee00300
	addr32 movl	%eax, 0xfee00300
1:
	ljmpl	$0x08, $0x100000

	.balign	8
gdt:
	.quad	0
	.quad	0x00cf9b000000ffff		/* 0x08: code, base 0, 4 GiB, 32-bit */
	.quad	0x00cf93000000ffff		/* 0x10: data, base 0, 4 GiB */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	0xffff0000 + gdt - _start

	/* The reset vector: linear 0xfffffff0, the image's last 16 bytes. */
	.org	0xfff0
	jmp	_start
	.org	0x10000

	.section .note.GNU-stack, "", @progbits
