# fw_pong: reads what ping sent on its endpoint 1 and logs it.
loop:
  mov %r1, 1
  call 0x72
  mov %r6, %r0
  stdw [%r10-16], 0
  mov %r1, %r6
  mov %r2, %r10
  add %r2, -16
  mov %r3, 8
  call 0x74
  mov %r7, %r0          # bytes read, kept across close
  mov %r1, %r6
  call 0x73
  jsle %r7, 0, +3
  mov %r1, %r10
  add %r1, -16
  call 0x01             # printf(what arrived)
  mov %r0, 0
  exit
