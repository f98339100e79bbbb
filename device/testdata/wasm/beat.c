/* beat: a well-behaved container. start and stop log, loop heartbeats, logs
 * and counts its loops in a global; after `lifetime` loops (the data's
 * first byte, 0: for ever) it finishes. */
#include "../../../scenarios/builtin/containers/tinylab_wasm.h"

static uint32_t loops;

TL_HOOK(start) int start(void)
{
	loops = 0;
	tl_logger("beat: start");
	return 0;
}

TL_HOOK(loop) int loop(const uint8_t *data)
{
	tl_heartbeat();
	tl_logger("beat: tick");
	loops++;
	tl_store_local(1, loops);
	return data[0] != 0 && loops >= data[0];
}

TL_HOOK(stop) int stop(void)
{
	tl_logger("beat: stop");
	return 0;
}
