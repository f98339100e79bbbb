/*
 * tinylab_wasm.h: what a tinylab WebAssembly container may call, for C
 * containers built with Debian's clang-19 and lld-19 only (no libc, no
 * wasi-sdk):
 *
 *     clang-19 --target=wasm32-unknown-unknown -O2 -nostdlib -fno-builtin \
 *         -Wl,--no-entry -Wl,--export=start -Wl,--export=loop -Wl,--export=stop \
 *         -Wl,--export=__heap_base -Wl,--export=__data_end \
 *         -Wl,-z,stack-size=128 -Wl,--global-base=16 -Wl,--initial-memory=65536 -Wl,--strip-all \
 *         -o my.wasm my.c
 *
 * (upstream TinyContainer's flags, examples/tinycontainer/containers/
 * Makefile.wamr: one 64 KiB page, a 128-byte stack, __heap_base exported so
 * the board is charged only the bytes below it, as WAMR does).
 *
 * Natives are imported from module "env" by name, as TinyContainer's WAMR
 * runtime registers them, plus the femto-container helper groups under the
 * names the firewall uses. Each needs its grant in the container's metadata
 * (the owner's syscall-mask token); a call without it is denied by the
 * firewall and returns -1. Every pointer and length is checked against the
 * container's linear memory: one outside it fails the container.
 *
 * Entry points: int start(void), int loop(void) (return 0 to keep looping,
 * anything else to finish) and int stop(void). A hook may instead take one
 * argument, const uint8_t *data: the container's data part is then written
 * at __heap_base before the call and its address passed. Globals keep their
 * values from one loop to the next. Budgets are counted per instruction
 * and per loop iteration; the call stack is bounded.
 *
 * Keep large struct copies and memset-like loops out, or clang emits calls
 * to memcpy/memset, which are not natives (memcpy is, but with a grant).
 */
#ifndef TINYLAB_WASM_H
#define TINYLAB_WASM_H

/* No libc: the fixed-width types come from the compiler. */
typedef __INT8_TYPE__ int8_t;
typedef __UINT8_TYPE__ uint8_t;
typedef __INT16_TYPE__ int16_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __INT32_TYPE__ int32_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __INT64_TYPE__ int64_t;
typedef __UINT64_TYPE__ uint64_t;

#define TL_NATIVE(name) __attribute__((import_module("env"), import_name(#name)))
/* TL_HOOK(start) int start(void) { ... } exports a hook under its name. */
#define TL_HOOK(name) __attribute__((export_name(#name)))

/* grant: log. Upstream's logger "($)": prints a NUL-terminated string. */
TL_NATIVE(logger) void tl_logger(const char *msg);
/* grant: memcpy */
TL_NATIVE(memcpy) void *tl_memcpy(void *dst, const void *src, uint32_t n);
/* grant: store. Local values are the container's, global ones the device's. */
TL_NATIVE(store_local) int tl_store_local(uint32_t key, uint32_t value);
TL_NATIVE(store_global) int tl_store_global(uint32_t key, uint32_t value);
TL_NATIVE(fetch_local) int tl_fetch_local(uint32_t key, uint32_t *value);
TL_NATIVE(fetch_global) int tl_fetch_global(uint32_t key, uint32_t *value);
/* grant: time. Virtual time of the lab. */
TL_NATIVE(now_ms) uint32_t tl_now_ms(void);
TL_NATIVE(ztimer_now) uint32_t tl_ztimer_now(void);
/* advances *last by period (µs); loops are paced by the agent, so it does not sleep */
TL_NATIVE(ztimer_periodic_wakeup) int tl_ztimer_periodic_wakeup(uint32_t *last, uint32_t period);

/* grant: sensors. RIOT's SAUL registry: a handle by index or by type. */
typedef struct {
	int16_t val[3];
	uint8_t unit;
	int8_t scale; /* value = val * 10^scale */
} tl_phydat_t;
TL_NATIVE(saul_reg_find_nth) uint32_t tl_saul_find_nth(uint32_t n);
TL_NATIVE(saul_reg_find_type) uint32_t tl_saul_find_type(uint32_t type);
TL_NATIVE(saul_reg_read) int tl_saul_read(uint32_t dev, tl_phydat_t *out);

/* TinyContainer's service calls (grants: heartbeat, open, close, read, write),
 * with upstream's signatures: open "(i)i", read and write "(i*~)i", close
 * "(i)i". open takes one of the container's own endpoint ids and gives an
 * fd; a sensor reads as a little-endian int32 in its unit, scaled (heart
 * rate in bpm, temperature in hundredths of a degree, orientation in
 * degrees). heartbeat is declared upstream and implemented here. */
TL_NATIVE(heartbeat) int tl_heartbeat(void);
TL_NATIVE(open) int tl_open(uint32_t endpoint);
TL_NATIVE(close) int tl_close(int fd);
TL_NATIVE(read) int tl_read(int fd, void *buf, uint32_t size);
TL_NATIVE(write) int tl_write(int fd, const void *buf, uint32_t size);

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
