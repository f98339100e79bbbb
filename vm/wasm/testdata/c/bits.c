#include "types.h"
u64 run(u32 arg)
{
	u64 r = 0;
	u32 x = 0xdeadbeef ^ (arg * 0x01010101u);
	u64 y = 0x0123456789abcdefull * (arg + 1);
	for (int i = 0; i < 32; i++) {
		r += __builtin_popcount(x) + __builtin_popcountll(y);
		r += x ? __builtin_clz(x) + __builtin_ctz(x) : 64;
		r += y ? __builtin_clzll(y) + __builtin_ctzll(y) : 128;
		x = x << 3 | x >> 29;
		y = y >> 5 | y << 59;
		r <<= 1;
	}
	return r;
}
