# fw_unknown: opens endpoint 9, which its metadata does not declare.
loop:
  mov %r1, 9
  call 0x72
  mov %r0, 0
  exit
