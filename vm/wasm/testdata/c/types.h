/* Fixed-width types without libc, the same on wasm32 and the host. */
typedef __INT8_TYPE__ i8;
typedef __UINT8_TYPE__ u8;
typedef __INT16_TYPE__ i16;
typedef __UINT16_TYPE__ u16;
typedef __INT32_TYPE__ i32;
typedef __UINT32_TYPE__ u32;
typedef __INT64_TYPE__ i64;
typedef __UINT64_TYPE__ u64;
/* Each program defines u64 run(u32 arg); the test calls it for arg 0..7 in
 * order on one instance and compares with the same C built natively. */
