#include "types.h"
static i32 data[64];
u64 run(u32 arg)
{
	u32 x = 12345 + arg;
	for (int i = 0; i < 64; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (i32)(x >> 8) - (1 << 22);
	}
	for (int i = 1; i < 64; i++) {
		i32 v = data[i];
		int j = i - 1;
		while (j >= 0 && data[j] > v) {
			data[j + 1] = data[j];
			j--;
		}
		data[j + 1] = v;
	}
	u64 h = 0;
	for (int i = 0; i < 64; i++)
		h = h * 1000003 + (u32)data[i];
	return h;
}
