#include "types.h"
static u64 splitmix(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
u64 run(u32 arg)
{
	u64 s = arg, acc = 0;
	for (int i = 0; i < 100; i++) {
		u64 v = splitmix(&s);
		acc += (v << (i % 63)) | (v >> (64 - i % 63 - 1));
		acc ^= v * (u64)(i + arg);
	}
	return acc;
}
