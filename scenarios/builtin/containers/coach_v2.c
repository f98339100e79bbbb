/*
 * coach v2: the coach's second version. Besides the training zone it counts
 * the athlete's repetitions (the station's counter, endpoint 3) and logs
 * each zone change; the session lasts as long as the container's lifetime
 * (loop_max_lifetime in its metadata), after which the agent stops it.
 *
 * Endpoints: 1 = heart rate (in), 2 = display (out), 3 = repetitions (in).
 */
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

int start(const uint8_t *data, uint32_t len)
{
	zones_parse(data, len);
	tl_printf("v2: session starts, counting repetitions too");
	tl_show(EP_DISPLAY, "Coach v2 ready", 14);
	return 0;
}

int loop(const uint8_t *data, uint32_t len)
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
			tl_printf("zone %d at %d bpm, %d repetitions", z, bpm, n);
			zone_shown = z;
		}
	}
	tl_heartbeat();
	return 0;
}

int stop(const uint8_t *data, uint32_t len)
{
	tl_show(EP_DISPLAY, "Session over", 12);
	tl_printf("session over");
	return 0;
}
