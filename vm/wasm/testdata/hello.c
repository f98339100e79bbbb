/* A container written against the user-facing header, for the CLI tests:
 * start logs, loop beats and counts to three, entry sums the context. */
#include "../../../scenarios/builtin/containers/tinylab_wasm.h"

static uint32_t loops;

TL_HOOK(start) int start(void)
{
	tl_logger("hello from wasm");
	return 0;
}

TL_HOOK(loop) int loop(void)
{
	tl_heartbeat();
	return ++loops >= 3;
}

TL_HOOK(stop) int stop(void)
{
	uint32_t v;
	return tl_fetch_local(1, &v);
}

/* entry(data): the sum of the first bytes of the context, to the first zero. */
TL_HOOK(entry) uint32_t entry(const uint8_t *data)
{
	uint32_t sum = 0;
	for (uint32_t i = 0; data[i]; i++)
		sum += data[i];
	return sum;
}

/* spin never returns: the budget stops it. */
TL_HOOK(spin) int spin(void)
{
	volatile uint32_t n = 0;
	for (;;)
		n++;
}
