#include "types.h"
/* Calls through a table of function pointers become call_indirect. */
static u32 inc(u32 x) { return x + 1; }
static u32 dbl(u32 x) { return x * 2; }
static u32 sq(u32 x) { return x * x; }
static u32 neg(u32 x) { return -x; }
static u32 (*const table[])(u32) = {inc, dbl, sq, neg};
u64 run(u32 arg)
{
	u32 x = arg;
	u64 h = 0;
	for (u32 i = 0; i < 100; i++) {
		x = table[(x ^ i) & 3](x);
		h = h * 33 + x;
	}
	return h;
}
