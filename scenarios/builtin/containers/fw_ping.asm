# fw_ping: writes "ping" to its endpoint 1, a bridge to pong's endpoint 1.
loop:
  mov %r1, 1
  call 0x72
  mov %r6, %r0
  stw [%r10-8], 0x676e6970
  mov %r1, %r6
  mov %r2, %r10
  add %r2, -8
  mov %r3, 4
  call 0x75
  mov %r1, %r6
  call 0x73
  mov %r0, 0
  exit
