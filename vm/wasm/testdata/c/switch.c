#include "types.h"
/* A dense switch becomes a br_table. */
static u32 op(u32 code, u32 x)
{
	switch (code) {
	case 0: return x + 1;
	case 1: return x * 3;
	case 2: return x ^ 0x5a5a;
	case 3: return x >> 1;
	case 4: return x - 7;
	case 5: return x << 2;
	case 6: return ~x;
	case 7: return x * x;
	case 8: return x | 0x100;
	case 9: return x & 0xff0;
	default: return x + code;
	}
}
u64 run(u32 arg)
{
	u32 x = arg + 1;
	for (u32 i = 0; i < 200; i++)
		x = op((x + i) % 13, x);
	return x;
}
