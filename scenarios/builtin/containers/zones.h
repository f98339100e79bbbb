/*
 * zones.h: the coach's training zones, shared by both versions of its
 * container. The athlete's thresholds come in the container's data as
 * "100,120,140,160" (bpm); zone 1 is below the first, zone 5 above the last.
 * An eBPF container includes it alone (it brings tinylab.h), a WebAssembly
 * one after tinylab_wasm.h.
 */
#ifndef ZONES_H
#define ZONES_H

#ifndef TINYLAB_WASM_H
#include "tinylab.h"
#endif

static uint32_t thresholds[4];

/* zones_parse reads up to four comma-separated numbers from the data. */
static void zones_parse(const uint8_t *data, uint32_t len)
{
	uint32_t n = 0, v = 0;
	for (uint32_t i = 0; i < len && i < 64 && n < 4; i++) {
		uint8_t c = data[i];
		if (c >= '0' && c <= '9') {
			v = v * 10 + (c - '0');
		} else {
			thresholds[n++] = v;
			v = 0;
		}
	}
	if (n < 4) {
		thresholds[n] = v;
	}
}

/* zone is the training zone of a heart rate. */
static int zone(uint32_t hr)
{
	int z = 1;
	for (int i = 0; i < 4; i++) {
		if (hr >= thresholds[i]) {
			z = i + 2;
		}
	}
	return z;
}

#endif
