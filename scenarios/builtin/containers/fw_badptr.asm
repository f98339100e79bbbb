# fw_badptr: reads its heart-rate endpoint into address 0x40000: memory it
# does not own (nothing is mapped there).
loop:
  mov %r1, 1
  call 0x72
  mov %r6, %r0
  mov %r1, %r6
  mov %r2, 0x40000
  mov %r3, 4
  call 0x74
  mov %r1, %r6
  call 0x73
  mov %r0, 0
  exit
