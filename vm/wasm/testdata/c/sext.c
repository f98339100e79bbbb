#include "types.h"
u64 run(u32 arg)
{
	i64 r = 0;
	u32 x = 0x8081f0ff + arg * 0x10101;
	for (int i = 0; i < 16; i++) {
		r += (i8)x;
		r += (i16)(x >> 8);
		r += (i64)(i32)x;
		r += (i64)(i8)(x >> 24) * (i16)x;
		x = x * 2654435761u;
	}
	return (u64)r;
}
