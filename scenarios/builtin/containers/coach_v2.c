/*
 * coach v2: the coach's second version. Besides the training zone it counts
 * the athlete's repetitions (the station's counter, endpoint 3) and logs
 * each zone change; the session lasts as long as the container's lifetime
 * (loop_max_lifetime in its metadata), after which the agent stops it.
 *
 * Endpoints: 1 = heart rate (in), 2 = display (out), 3 = repetitions (in).
 * Built for the WebAssembly runtime, as version 1.
 */
#include "tinylab_wasm.h"
#include "zones.h"

enum { EP_HR = 1, EP_DISPLAY = 2, EP_REPS = 3 };

static int zone_shown;

/* digits writes n (0..999) right-aligned in three characters. */
static void digits(char *p, uint32_t n)
{
	p[0] = n >= 100 ? '0' + (n / 100) % 10 : ' ';
	p[1] = n >= 10 ? '0' + (n / 10) % 10 : ' ';
	p[2] = '0' + n % 10;
}

/* num writes n in decimal at p and returns the end. */
static char *num(char *p, uint32_t n)
{
	char d[10];
	int i = 0;
	do {
		d[i++] = '0' + n % 10;
		n /= 10;
	} while (n != 0);
	while (i > 0) {
		*p++ = d[--i];
	}
	return p;
}

/* put copies a NUL-terminated text to p and returns the end. */
static char *put(char *p, const char *s)
{
	while (*s != 0) {
		*p++ = *s++;
	}
	return p;
}

TL_HOOK(start) int start(const uint8_t *data)
{
	uint32_t len = 0;
	while (len < 64 && data[len] != 0) { /* the memory after the data is zero */
		len++;
	}
	zones_parse(data, len);
	tl_logger("v2: session starts, counting repetitions too");
	tl_show(EP_DISPLAY, "Coach v2 ready", 14);
	return 0;
}

TL_HOOK(loop) int loop(void)
{
	int32_t hr, reps;
	if (tl_read_i32(EP_HR, &hr) == 0 && tl_read_i32(EP_REPS, &reps) == 0) {
		uint32_t bpm = hr < 0 ? 0 : (uint32_t)hr;
		uint32_t n = reps < 0 ? 0 : (uint32_t)reps;
		int z = zone(bpm);
		char text[] = "Z? ???bpm ???rep";
		text[1] = '0' + z;
		digits(text + 3, bpm);
		digits(text + 10, n % 1000);
		tl_show(EP_DISPLAY, text, sizeof(text) - 1);
		if (z != zone_shown) {
			char msg[48];
			char *p = num(put(msg, "zone "), z);
			p = num(put(p, " at "), bpm);
			*put(num(put(p, " bpm, "), n), " repetitions") = 0;
			tl_logger(msg);
			zone_shown = z;
		}
	}
	tl_heartbeat();
	return 0;
}

TL_HOOK(stop) int stop(void)
{
	tl_show(EP_DISPLAY, "Session over", 12);
	tl_logger("session over");
	return 0;
}
