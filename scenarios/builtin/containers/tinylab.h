/*
 * tinylab.h: what a tinylab container may call, for C containers built with
 *
 *     clang-19 -target bpf -mcpu=v4 -O2 -c my.c -o my.o
 *
 * -mcpu=v4 is what signed division and modulo (a / b on ints) need: eBPF
 * before v4 has no signed divide, so clang-19 refuses it at -mcpu=v3 and
 * Debian's clang 14 (which knows v3 at most) crashes on it ("Cannot select:
 * sdiv"). Code without signed division builds with either at -mcpu=v3, as
 * the built-in containers are. RIOT's own way, clang -emit-llvm | llc
 * -march=bpf, works too (its .eh_frame is ignored).
 *
 * Helpers are called by number, as femto-containers and TinyContainer number
 * them. Each needs its grant in the container's metadata (the owner's
 * syscall-mask token); a call without it is denied by the firewall and
 * returns -1. Every pointer is checked against the container's own memory.
 *
 * Entry points: int start(const uint8_t *data, uint32_t len), int loop(...)
 * (return 0 to keep looping, anything else to finish) and int stop(...).
 * The container's data part is given to every hook in data/len. Globals
 * (.data, .bss) keep their values from one loop to the next.
 */
#ifndef TINYLAB_H
#define TINYLAB_H

/* No libc for BPF: the fixed-width types come from the compiler. */
typedef __INT8_TYPE__ int8_t;
typedef __UINT8_TYPE__ uint8_t;
typedef __INT16_TYPE__ int16_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __INT32_TYPE__ int32_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __INT64_TYPE__ int64_t;
typedef __UINT64_TYPE__ uint64_t;

/* grant: log. BPF passes at most five arguments: the format and four values. */
static long (*const tl_printf)(const char *fmt, ...) = (void *)0x01;
/* grant: memcpy */
static void *(*const tl_memcpy)(void *dst, const void *src, uint32_t n) = (void *)0x02;
/* grant: store. Local values are the container's, global ones the device's. */
static int (*const tl_store_local)(uint32_t key, uint32_t value) = (void *)0x10;
static int (*const tl_store_global)(uint32_t key, uint32_t value) = (void *)0x11;
static int (*const tl_fetch_local)(uint32_t key, uint32_t *value) = (void *)0x12;
static int (*const tl_fetch_global)(uint32_t key, uint32_t *value) = (void *)0x13;
/* grant: time. Virtual time of the lab. */
static uint32_t (*const tl_now_ms)(void) = (void *)0x20;
static uint32_t (*const tl_ztimer_now)(void) = (void *)0x60;
/* advances *last by period (µs); loops are paced by the agent, so it does not sleep */
static int (*const tl_ztimer_periodic_wakeup)(uint32_t *last, uint32_t period) = (void *)0x61;

/* grant: sensors. RIOT's SAUL registry: a handle by index or by type. */
typedef struct {
	int16_t val[3];
	uint8_t unit;
	int8_t scale; /* value = val * 10^scale */
} tl_phydat_t;
static uint32_t (*const tl_saul_find_nth)(uint32_t n) = (void *)0x30;
static uint32_t (*const tl_saul_find_type)(uint32_t type) = (void *)0x31;
static int (*const tl_saul_read)(uint32_t dev, tl_phydat_t *out) = (void *)0x32;

/* TinyContainer's service calls (grants: heartbeat, open, close, read, write).
 * open takes one of the container's own endpoint ids and gives an fd; a
 * sensor reads as a little-endian int32 in its unit, scaled (heart rate in
 * bpm, temperature in hundredths of a degree, orientation in degrees). */
static int (*const tl_heartbeat)(void) = (void *)0x71;
static int (*const tl_open)(uint32_t endpoint) = (void *)0x72;
static int (*const tl_close)(int fd) = (void *)0x73;
static int (*const tl_read)(int fd, void *buf, uint32_t size) = (void *)0x74;
static int (*const tl_write)(int fd, const void *buf, uint32_t size) = (void *)0x75;

/* tl_read_i32 reads a sensor endpoint once: open, read 4 bytes, close. */
static inline int tl_read_i32(uint32_t endpoint, int32_t *out)
{
	int fd = tl_open(endpoint);
	if (fd < 0) {
		return -1;
	}
	int n = tl_read(fd, out, sizeof(*out));
	tl_close(fd);
	return n == (int)sizeof(*out) ? 0 : -1;
}

/* tl_show writes a text to an actuator endpoint (a display). */
static inline int tl_show(uint32_t endpoint, const char *text, uint32_t len)
{
	int fd = tl_open(endpoint);
	if (fd < 0) {
		return -1;
	}
	int n = tl_write(fd, text, len);
	tl_close(fd);
	return n;
}

#endif
