# fw_peer: opens endpoint 3, a bridge to the container "sleeper".
loop:
  mov %r1, 3
  call 0x72
  jslt %r0, 0, +2       # refused: nothing to close
  mov %r1, %r0
  call 0x73
  mov %r0, 0
  exit
