/* exec: a RAM-slot application (femto-container's /bpf/exec): entry gets
 * the request's bytes at __heap_base and answers their sum. It counts its
 * runs in a global; as a container (entry is its loop) start stores that
 * count, which a restart finds reset to 0. */
#include "../../../scenarios/builtin/containers/tinylab_wasm.h"

static uint32_t runs;

TL_HOOK(entry) uint32_t entry(const uint8_t *ctx)
{
	uint32_t sum = 0;
	for (int i = 0; i < 4; i++) {
		sum += ctx[i];
	}
	runs++;
	return sum;
}

TL_HOOK(start) int start(void)
{
	tl_store_local(7, runs);
	return 0;
}
