#include "types.h"
static u32 fib(u32 n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
static u32 ack(u32 m, u32 n)
{
	if (m == 0)
		return n + 1;
	if (n == 0)
		return ack(m - 1, 1);
	return ack(m - 1, ack(m, n - 1));
}
u64 run(u32 arg) { return (u64)fib(arg + 10) << 32 | ack(2, arg); }
