/* grow: asks for more memory, again and again, as a memory.grow storm. */
#include "../../../scenarios/builtin/containers/tinylab_wasm.h"

volatile int32_t got;

TL_HOOK(loop) int loop(void)
{
	tl_heartbeat();
	for (;;) {
		got = __builtin_wasm_memory_grow(0, 1);
	}
}
