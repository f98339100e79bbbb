# fw_direction: opens endpoint 2 (the display, declared out) and reads it.
loop:
  mov %r1, 2
  call 0x72
  mov %r6, %r0
  mov %r1, %r6
  mov %r2, %r10
  add %r2, -8
  mov %r3, 4
  call 0x74             # read on an out endpoint: wrong direction
  mov %r1, %r6
  call 0x73
  mov %r0, 0
  exit
