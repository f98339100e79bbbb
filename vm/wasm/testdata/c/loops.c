#include "types.h"
u64 run(u32 arg)
{
	u64 sum = 0;
	for (u32 i = 0; i < 50 + arg * 17; i++)
		for (u32 j = 0; j <= i % 7; j++)
			sum += i * j + (sum >> 3);
	return sum;
}
