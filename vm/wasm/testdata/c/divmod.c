#include "types.h"
u64 run(u32 arg)
{
	i64 a = -9000000000123ll + (i64)arg * 987654321;
	i32 b = -1000003 + (i32)arg * 77;
	u64 r = 0;
	for (i32 d = -9; d <= 9; d++) {
		if (d == 0)
			continue;
		r = r * 7 + (u64)(a / d) + (u64)(a % d);
		r ^= (u32)(b / d) + (u32)(b % d);
		r += (u64)a / (u32)(d + 20) + (u32)b % (u32)(d + 20);
	}
	return r;
}
