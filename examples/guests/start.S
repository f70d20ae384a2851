/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry of every example guest. The VMM starts each vCPU here in 64-bit
 * long mode with RDI = vCPU index, RSI = number of vCPUs and RSP = the
 * top of this vCPU's own stack (16-byte aligned).
 */
	.section .text.start, "ax"
	.globl	_start
	.type	_start, @function
_start:
	xor	%ebp, %ebp		/* end of the frame chain for gdb's backtrace */
	call	main
	/* main returned: this vCPU is done. */
1:	hlt
	jmp	1b
	.size	_start, . - _start

	.section .note.GNU-stack, "", @progbits
