#include "types.h"
static const char *const words[] = {"tiny", "container", "femto", "wasm", "riot", "suit", "coap", "nrf52"};
static char buf[64];
static u32 len(const char *s)
{
	u32 n = 0;
	while (s[n])
		n++;
	return n;
}
static int cmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (u8)*a - (u8)*b;
}
u64 run(u32 arg)
{
	const char *w = words[arg % 8];
	u32 n = len(w);
	for (u32 i = 0; i < n; i++)
		buf[i] = w[n - 1 - i];
	buf[n] = 0;
	u64 h = 14695981039346656037ull;
	for (u32 i = 0; i < n; i++)
		h = (h ^ (u8)buf[i]) * 1099511628211ull;
	return h ^ (u64)(i64)cmp(w, words[(arg + 1) % 8]) << 48 ^ n;
}
