/*
 * coach_bpf: the MyCoach container (version 1) for the eBPF runtime, the
 * twin of coach.c (WebAssembly) with the same logic. It personalises a training
 * session on the city's fitness station: it reads the athlete's heart rate,
 * shows the training zone on the station's display and heartbeats to the
 * agent. The zone thresholds are the athlete's, in the container's data:
 * "100,120,140,160" (bpm).
 *
 * Endpoints (in its metadata): 1 = heart rate (local, in),
 * 2 = display (local, out). Grants: heartbeat, open, close, read, write, log.
 */
#include "zones.h"

enum { EP_HR = 1, EP_DISPLAY = 2 };

static int zone_shown;

int start(const uint8_t *data, uint32_t len)
{
	zones_parse(data, len);
	tl_printf("session starts: zones at %d %d %d %d bpm", thresholds[0], thresholds[1], thresholds[2], thresholds[3]);
	tl_show(EP_DISPLAY, "Welcome!", 8);
	return 0;
}

int loop(const uint8_t *data, uint32_t len)
{
	int32_t hr;
	if (tl_read_i32(EP_HR, &hr) == 0) {
		uint32_t bpm = hr < 0 ? 0 : (uint32_t)hr; /* BPF before v4 divides unsigned only */
		int z = zone(bpm);
		char text[] = "Zone ? - ??? bpm";
		text[5] = '0' + z;
		text[9] = '0' + (bpm / 100) % 10;
		text[10] = '0' + (bpm / 10) % 10;
		text[11] = '0' + bpm % 10;
		tl_show(EP_DISPLAY, text, sizeof(text) - 1);
		if (z != zone_shown) {
			tl_printf("heart rate %d bpm: zone %d", hr, z);
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
