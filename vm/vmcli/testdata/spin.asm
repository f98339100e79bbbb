loop:
	add %r0, 1
	ja loop
