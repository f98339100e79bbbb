/*
 * coach: the MyCoach container (version 1), for the WebAssembly runtime as
 * upstream's demo runs it. It personalises a training session on the
 * city's fitness station: it reads the athlete's heart rate, shows the
 * training zone on the station's display and heartbeats to the agent. The
 * zone thresholds are the athlete's, in the container's data:
 * "100,120,140,160" (bpm). coach_bpf.c is the same logic for eBPF.
 *
 * Endpoints (in its metadata): 1 = heart rate (local, in),
 * 2 = display (local, out). Grants: heartbeat, open, close, read, write, log.
 */
#include "tinylab_wasm.h"
#include "zones.h"

enum { EP_HR = 1, EP_DISPLAY = 2 };

static int zone_shown;

/* datalen is the length of the data the agent wrote at __heap_base (the
 * memory after it is zero). */
static uint32_t datalen(const uint8_t *data)
{
	uint32_t n = 0;
	while (n < 64 && data[n] != 0) {
		n++;
	}
	return n;
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
	char msg[64];
	zones_parse(data, datalen(data));
	char *p = put(msg, "session starts: zones at");
	for (int i = 0; i < 4; i++) {
		p = num(put(p, " "), thresholds[i]);
	}
	*put(p, " bpm") = 0;
	tl_logger(msg);
	tl_show(EP_DISPLAY, "Welcome!", 8);
	return 0;
}

TL_HOOK(loop) int loop(void)
{
	int32_t hr;
	if (tl_read_i32(EP_HR, &hr) == 0) {
		uint32_t bpm = hr < 0 ? 0 : (uint32_t)hr;
		int z = zone(bpm);
		char text[] = "Zone ? - ??? bpm";
		text[5] = '0' + z;
		text[9] = '0' + (bpm / 100) % 10;
		text[10] = '0' + (bpm / 10) % 10;
		text[11] = '0' + bpm % 10;
		tl_show(EP_DISPLAY, text, sizeof(text) - 1);
		if (z != zone_shown) {
			char msg[48];
			char *p = num(put(msg, "heart rate "), bpm);
			*num(put(p, " bpm: zone "), z) = 0;
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
