# fw_notopen: reads fd 1000 without opening anything.
loop:
  mov %r1, 1000
  mov %r2, %r10
  add %r2, -8
  mov %r3, 4
  call 0x74
  mov %r0, 0
  exit
