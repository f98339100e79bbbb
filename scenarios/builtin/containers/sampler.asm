# sampler: reads the temperature endpoint every loop and heartbeats.
loop:
  mov %r1, 1
  call 0x72
  mov %r6, %r0
  mov %r1, %r6
  mov %r2, %r10
  add %r2, -8
  mov %r3, 4
  call 0x74
  mov %r1, %r6
  call 0x73
  call 0x71
  mov %r0, 0
  exit
