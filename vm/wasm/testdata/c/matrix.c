#include "types.h"
/* The matrices are globals: the stack is 128 bytes, as upstream's. */
static i32 a[8][8], b[8][8], c[8][8];
u64 run(u32 arg)
{
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++) {
			a[i][j] = (i32)(i * 8 + j) - 20 + (i32)arg;
			b[i][j] = (i32)((i ^ j) * 3) - 5;
		}
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++) {
			i32 s = 0;
			for (int k = 0; k < 8; k++)
				s += a[i][k] * b[k][j];
			c[i][j] = s;
		}
	u64 h = 0;
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++)
			h = h * 17 + (u32)c[i][j];
	return h;
}
