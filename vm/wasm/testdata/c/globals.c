#include "types.h"
static u32 calls;
static u32 history[8] = {3, 1, 4, 1, 5, 9, 2, 6};
u64 run(u32 arg)
{
	calls++;
	history[calls % 8] += arg * calls;
	u64 h = 0;
	for (int i = 0; i < 8; i++)
		h = h * 31 + history[i];
	return h ^ (u64)calls << 40;
}
