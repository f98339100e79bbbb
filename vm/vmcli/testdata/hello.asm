# Prints a greeting built on the stack, then returns the context length.
	mov %r6, %r2
	stdw [%r10-16], 0           # "hi %d\n" = 68 69 20 25 64 0a 00
	lddw %r1, 0x000a642520696800
	rsh %r1, 8
	stxdw [%r10-16], %r1
	mov %r1, %r10
	add %r1, -16
	mov %r2, 42
	call 1
	mov %r0, %r6
	exit
