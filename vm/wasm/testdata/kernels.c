/*
 * The three speed kernels of the eBPF VM's benchmarks (vm/bench_test.go),
 * in C for wasm32, so the two runtimes are compared on the same work.
 * Build: see the go:generate line in ../bench_test.go.
 */
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;

/* (a) a tight loop: n iterations of add, xor and shifts. */
u64 loop(u32 n)
{
	u64 x = 0;
	for (u64 i = 0; i < n; i++) {
		x += i;
		x ^= x << 13;
		x ^= x >> 7;
	}
	return x;
}

/* (b) Fletcher-16, the modulo deferred to the end as in the VM kernel. */
u32 fletcher(const u8 *p, u32 len)
{
	u32 s1 = 0, s2 = 0;
	for (u32 i = 0; i < len; i++) {
		s1 += p[i];
		s2 += s1;
	}
	return (s2 % 255) << 8 | s1 % 255;
}

/* (c) a branchy state machine: words, numbers and punctuation. */
u64 token(const u8 *p, u32 len)
{
	u64 state = 0, words = 0, numbers = 0, punct = 0;
	for (u32 i = 0; i < len; i++) {
		u8 c = p[i];
		if (c == ' ' || c == '\n') {
			state = 0;
		} else if (c < '0') {
			punct++;
			state = 0;
		} else if (c <= '9') {
			if (state != 2) {
				state = 2;
				numbers++;
			}
		} else if ((c | 32) < 'a' || (c | 32) > 'z') {
			punct++;
			state = 0;
		} else if (state != 1) {
			state = 1;
			words++;
		}
	}
	return numbers << 16 | words | punct << 32;
}
