/* hostile: heartbeats, then misbehaves as its data's first byte says: each
 * way a WebAssembly container can go wrong, for the agent to contain. */
#include "../../../scenarios/builtin/containers/tinylab_wasm.h"

volatile int32_t zero;
volatile uint32_t spins;

__attribute__((noinline)) static int deep(int n)
{
	if (n < 0) { /* never: n only grows */
		return 0;
	}
	/* two calls: clang cannot turn this into a loop */
	return deep(n + 1) ^ deep(n + 2);
}

TL_HOOK(loop) int loop(const uint8_t *data)
{
	tl_heartbeat();
	switch (data[0]) {
	case 1: /* load outside the one page */
		return *(volatile int32_t *)0x20000;
	case 2:
		return 100 / zero;
	case 3:
		__builtin_trap();
	case 4:
		return deep(zero);
	case 5:
		for (;;) {
			spins++;
		}
	case 6: { /* hand the natives pointers outside linear memory */
		int fd = tl_open(1);
		tl_read(fd, (void *)0xfffff000, 4);
		tl_close(fd);
		tl_logger((const char *)0x30000);
		return 0;
	}
	}
	return 0;
}
