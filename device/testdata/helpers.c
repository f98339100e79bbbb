/* helpers.c: one loop() that calls every helper a device provides and
 * prints what came back, for the device's test (built with clang when it
 * is installed). */
#include "../../scenarios/builtin/containers/tinylab.h"

static char copy[8];

int loop(const uint8_t *data, uint32_t len)
{
	uint32_t v = 0, last = 1000;
	int32_t hr = 0;
	tl_memcpy(copy, "abc", 4);
	tl_store_local(1, 41);
	tl_fetch_local(1, &v);
	tl_store_global(2, v + 1);
	tl_fetch_global(2, &v);
	tl_ztimer_periodic_wakeup(&last, 500);
	tl_printf("memcpy=%s store=%d now=%d us=%d", copy, v, tl_now_ms(), tl_ztimer_now());
	tl_printf("wakeup=%d", last);
	tl_phydat_t p;
	uint32_t dev = tl_saul_find_type(0x82);
	int dims = tl_saul_read(dev, &p);
	tl_printf("saul nth=%d type=%d dims=%d", tl_saul_find_nth(0) != 0, dev != 0, dims);
	tl_printf("phydat val=%d scale=%d", p.val[0], p.scale);
	tl_read_i32(1, &hr);
	tl_show(2, "shown", 5);
	tl_printf("endpoint hr=%d", hr);
	tl_heartbeat();
	return 0;
}
