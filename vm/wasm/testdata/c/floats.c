#include "types.h"
u64 run(u32 arg)
{
	double x = 1.0 + arg;
	double acc = 0;
	for (int i = 1; i < 50; i++) {
		x = x * 1.5 - __builtin_sqrt(x) / i;
		acc += x / (i + 0.25);
		if (x > 1e6)
			x = x / 1024;
	}
	float f = (float)acc;
	return (u64)(i64)(acc * 1000) ^ (u64)(i32)(f * 3) << 32;
}
