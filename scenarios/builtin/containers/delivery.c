/*
 * delivery: the delivery company's container on a drone-delivery box. It
 * shows the recipient's address (its data), attests the parcel's conditions
 * (orientation, temperature, humidity) every few loops, records a violation
 * when the box is turned upside down, and thanks the recipient once they
 * sign on the signature pad.
 *
 * Endpoints: 1 orientation (in, degrees), 2 temperature (in, 1/100 °C),
 * 3 humidity (in, 1/100 %RH), 4 display (out), 5 signature pad (in, 0/1).
 * Grants: heartbeat, open, close, read, write, log, store.
 */
#include "tinylab.h"

#ifndef VERSION
#define VERSION 1
#endif

enum { EP_TILT = 1, EP_TEMP = 2, EP_HUM = 3, EP_DISPLAY = 4, EP_SIGN = 5 };
enum { KEY_VIOLATIONS = 1 };
#define ATTEST_EVERY (VERSION == 1 ? 5 : 2)

static uint32_t loops;
static int violated, signed_;

int start(const uint8_t *data, uint32_t len)
{
	tl_printf("v%d: parcel for %s", VERSION, data);
	tl_show(EP_DISPLAY, (const char *)data, len > 32 ? 32 : len);
	return 0;
}

/* centi prints a value in hundredths as "int.frac". */
static void attest(void)
{
	int32_t t, h, tilt;
	if (tl_read_i32(EP_TEMP, &t) || tl_read_i32(EP_HUM, &h) || tl_read_i32(EP_TILT, &tilt)) {
		return;
	}
	uint32_t ut = t < 0 ? 0 : (uint32_t)t, uh = h < 0 ? 0 : (uint32_t)h;
	tl_printf("attest: %d.%d C, %d %%RH, tilt %d", ut / 100, (ut / 10) % 10, uh / 100, tilt);
}

int loop(const uint8_t *data, uint32_t len)
{
	int32_t tilt, sig;
	loops++;
	if (!violated && tl_read_i32(EP_TILT, &tilt) == 0 && (tilt > 120 || tilt < -120)) {
		uint32_t n = 0;
		tl_fetch_local(KEY_VIOLATIONS, &n);
		tl_store_local(KEY_VIOLATIONS, n + 1);
		tl_printf("violation: box upside down (tilt %d degrees)", tilt);
		tl_show(EP_DISPLAY, "HANDLE WITH CARE", 16);
		violated = 1;
	}
	if (loops % ATTEST_EVERY == 0) {
		attest();
	}
	if (!signed_ && tl_read_i32(EP_SIGN, &sig) == 0 && sig != 0) {
		tl_printf("delivered: signed by the recipient");
		tl_show(EP_DISPLAY, "Thank you!", 10);
		signed_ = 1;
	}
	tl_heartbeat();
	return 0;
}

int stop(const uint8_t *data, uint32_t len)
{
	tl_printf("delivery container stops after %d loops", loops);
	return 0;
}
